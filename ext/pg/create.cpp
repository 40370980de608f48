// New tokens on PostgreSQL: create (within max_tokens_per_user) and rotate (SPEC §13, §14),
// each one transaction, exact when several processes on several machines do it at once.
//
// The cap: a user's creations take turns on an advisory lock of that user (lock_user_tokens),
// and each counts the user's live tokens after it holds the lock, so two creations can never
// both see room for one more token. Rotation: the old token's row is locked first
// (SELECT ... FOR UPDATE), so two rotations of one token take turns; with no grace the
// second finds the token gone (404), as it would have after the first on SQLite.
#include "core/limits.hpp"
#include "core/new_token.hpp"
#include "core/token.hpp"
#include "json/audit.hpp"
#include "pg/pg_store.hpp"
#include "pg/statements.hpp"

namespace gvx::pg {

Result<CreatedToken> PgStore::create(const NewToken& t, std::int64_t now) {
    GVX_TRY(validate(t, now));
    if (t.metadata) GVX_TRY(check_text("metadata", *t.metadata, kMaxMetadataBytes));
    return transaction<CreatedToken>([&]() -> Result<CreatedToken> {
        GVX_TRY_VALUE(const Config cfg, read_config());
        GVX_TRY_VALUE(const std::optional<std::int64_t> expires,
                      lifetime_for_new(t.expires_at, cfg, now));
        if (cfg.max_tokens_per_user > 0) {
            Params user, live;
            user.add(t.user_id);
            live.add(t.user_id).add(now);
            GVX_TRY_VALUE(const std::vector<Rows> counted,
                          conn_.pipeline({{at(Sql::lock_user_tokens), &user},
                                          {at(Sql::count_live_tokens), &live}}));
            GVX_TRY(within_token_cap(counted[1].int64(0, 0), cfg.max_tokens_per_user));
        }
        NewToken stored = t;  // permissions as gvx stores them: validated, compact
        if (t.permissions) {
            GVX_TRY_VALUE(stored.permissions, canonical_permissions(*t.permissions));
        }
        GVX_TRY_VALUE(CreatedToken created, insert_token(stored, expires, now));
        GVX_TRY(record_audit(AuditAction::create, created.record, now,
                             audit_detail_created(created.record)));
        return created;
    });
}

Result<CreatedToken> PgStore::insert_token(const NewToken& t,
                                           std::optional<std::int64_t> expires,
                                           std::int64_t now) {
    GVX_TRY_VALUE(SecretString token, generate_token(t.prefix));
    CreatedToken out{.record = new_token_record(t, token.view(), expires, now),
                     .key = std::move(token)};
    const TokenRecord& r = out.record;
    Params p;
    p.add(std::string_view(r.id))
        .add(std::string_view(*r.name))
        .add(std::string_view(*r.start))
        .add(std::string_view(*r.prefix))
        .add(std::string_view(hash_key(out.key.view())))
        .add(std::string_view(r.user_id))
        .add(std::int64_t{*r.rate_limit_enabled ? 1 : 0})
        .add(r.rate_limit_time_window)
        .add(r.rate_limit_max)
        .add(r.expires_at)
        .add(now)
        .add(r.metadata)
        .add(r.permissions)
        .add(r.remaining)
        .add(r.refill_interval)
        .add(r.refill_amount);
    GVX_TRY(conn_.run(at(Sql::insert_token), p));
    return out;
}

Result<std::optional<CreatedToken>> PgStore::rotate(std::string_view id,
                                                    std::optional<std::string_view> user_id,
                                                    const Rotation& how, std::int64_t now) {
    GVX_TRY(validate_rotation(how.grace_ms, how.expires_at, now));
    if (!storable(id) || (user_id && !storable(*user_id))) return std::optional<CreatedToken>();
    return transaction<std::optional<CreatedToken>>(
        [&]() -> Result<std::optional<CreatedToken>> {
            Params which;
            which.add(id).add(user_id);
            GVX_TRY_VALUE(const Rows found, conn_.run(at(Sql::select_by_id_locked), which));
            if (found.empty()) return std::optional<CreatedToken>();
            const TokenRecord old = read_token(found, 0);
            GVX_TRY_VALUE(const Config cfg, read_config());
            GVX_TRY_VALUE(const std::optional<std::int64_t> expires,
                          lifetime_for_new(successor_expiry(old, how.expires_at, now), cfg,
                                           now));
            GVX_TRY_VALUE(CreatedToken created, insert_token(successor_of(old), expires, now));

            Params ended, window;
            window.add(std::string_view(old.id));
            if (how.grace_ms == 0) {
                ended.add(std::string_view(old.id)).add(std::optional<std::string_view>());
                GVX_TRY(conn_.pipeline({{at(Sql::delete_token), &ended},
                                        {at(Sql::delete_window), &window}}));
            } else {
                ended.add(std::string_view(old.id)).add(now + how.grace_ms).add(now);
                GVX_TRY(conn_.run(at(Sql::end_token_at), ended));
            }
            GVX_TRY(record_audit(AuditAction::rotate, old, now,
                                 audit_detail_rotated(created.record, how.grace_ms)));
            return std::optional<CreatedToken>(std::move(created));
        });
}

}  // namespace gvx::pg
