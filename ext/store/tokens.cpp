// Token operations of the SQLite store: config, create, revoke, disable_leaked, list, get,
// update, activity.
#include "core/limits.hpp"
#include "core/new_token.hpp"
#include "core/token.hpp"
#include "json/audit.hpp"
#include "store.hpp"
#include "store/sql.hpp"
#include "store/write.hpp"

namespace gvx {

Result<Config> Store::config() {
    if (const Config* kept = config_cache_.get()) return *kept;
    Config c;
    Query q = query(Sql::select_config);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) apply_config_value(c, q.text(0), q.int64(1));
    if (rc != SQLITE_DONE) return db_error(db_, rc);
    config_cache_.keep(c, db_);
    return c;
}

Result<CreatedToken> Store::create(const NewToken& t, std::int64_t now) {
    GVX_TRY(validate(t, now));
    GVX_TRY(prepare());
    return write<CreatedToken>(
        [&](Store& s) -> Result<CreatedToken> {
            // Where better-auth's user table exists, only its users get tokens (better-auth
            // would refuse the row anyway: apikey.user_id references user.id).
            GVX_TRY(s.follow_schema());
            GVX_TRY_VALUE(const Outcome standing, s.user_standing(t.user_id, now));
            if (standing == Outcome::user_missing)
                return Error{Errc::unknown_user, "user_id names no user in the user table", 0,
                             "user_id"};
            GVX_TRY_VALUE(const Config cfg, s.config());
            GVX_TRY_VALUE(const std::optional<std::int64_t> expires,
                          lifetime_for_new(t.expires_at, cfg, now));
            if (cfg.max_tokens_per_user > 0) {
                Query c = s.query(Sql::count_live_tokens);
                c.bind(1, t.user_id).bind(2, now);
                if (const int rc = c.step(); rc != SQLITE_ROW) return db_error(s.db_, rc);
                GVX_TRY(within_token_cap(c.int64(0), cfg.max_tokens_per_user));
            }
            NewToken stored = t;  // permissions as gvx stores them: validated, compact
            stored.metadata = stored_metadata(t.metadata);  // as better-auth stores it
            if (t.permissions) {
                GVX_TRY_VALUE(stored.permissions, canonical_permissions(*t.permissions));
            }
            GVX_TRY_VALUE(CreatedToken created, s.insert_token(stored, expires, now));
            GVX_TRY(s.record_audit(AuditAction::create, created.record, now,
                                   audit_detail_created(created.record)));
            return created;
        },
        /*may_use_side_connection=*/false);
}

Result<CreatedToken> Store::insert_token(const NewToken& t, std::optional<std::int64_t> expires,
                                         std::int64_t now) {
    GVX_TRY_VALUE(SecretString token, generate_token(t.prefix));
    CreatedToken out{.record = new_token_record(t, token.view(), expires, now),
                     .key = std::move(token)};
    const TokenRecord& r = out.record;

    Query q = query(Sql::insert_token);
    q.bind(1, std::string_view(r.id))
        .bind(2, std::string_view(*r.name))
        .bind(3, std::string_view(*r.start))
        .bind(4, std::string_view(*r.prefix))
        .bind(5, std::string_view(hash_key(out.key.view())))
        .bind(6, std::string_view(r.user_id))
        .bind(7, std::int64_t{*r.rate_limit_enabled ? 1 : 0})
        .bind(8, r.rate_limit_time_window)
        .bind(9, r.rate_limit_max)
        .bind(10, r.expires_at)
        .bind(11, now)
        .bind(12, r.metadata)
        .bind(13, r.permissions)
        .bind(14, r.remaining)
        .bind(15, r.refill_interval)
        .bind(16, r.refill_amount);
    GVX_TRY(step_done(q));
    return out;
}

Result<bool> Store::revoke(std::string_view id, std::optional<std::string_view> user_id) {
    GVX_TRY(prepare());
    return write<bool>(
        [&](Store& s) -> Result<bool> {
            // What the audit entry names: the token as it was.
            GVX_TRY_VALUE(const std::optional<TokenRecord> old, s.find_by_id(id, user_id));
            if (!old) return false;
            Query q = s.query(Sql::delete_token);
            q.bind(1, id).bind(2, user_id);
            GVX_TRY(s.step_done(q));
            const bool deleted = sqlite3_changes(s.db_) > 0;
            if (deleted) {
                Query w = s.query(Sql::delete_window);
                w.bind(1, id);
                GVX_TRY(s.step_done(w));
                Query st = s.query(Sql::delete_state);
                st.bind(1, id);
                GVX_TRY(s.step_done(st));
                GVX_TRY(s.record_audit(AuditAction::delete_, *old, audit_now_ms(), std::nullopt));
            }
            return deleted;
        },
        /*may_use_side_connection=*/false);
}

Result<bool> Store::disable_leaked(const TokenRecord& token, const ClientInfo& seen,
                                   std::int64_t now) {
    GVX_TRY(prepare());
    return write<bool>(
        [&](Store& s) -> Result<bool> {
            Query q = s.query(Sql::disable_token);
            q.bind(1, std::string_view(token.id)).bind(2, now);
            GVX_TRY(s.step_done(q));
            if (sqlite3_changes(s.db_) == 0) return false;
            // Kept apart too: better-auth's whole-row write may put the old enabled back.
            Query st = s.query(Sql::upsert_state_disabled);
            st.bind(1, std::string_view(token.id)).bind(2, std::int64_t{1});
            GVX_TRY(s.step_done(st));
            Query a = s.query(Sql::insert_activity);
            a.bind(1, now)
                .bind(2, std::string_view(token.id))
                .bind(3, std::string_view(token_start(token.start.value_or(""))))
                .bind(4, std::string_view("LEAKED"))
                .bind(5, std::string_view(printable(seen.ip, kMaxIpBytes)))
                .bind(6, std::string_view(printable(seen.user_agent, kMaxUserAgentBytes)));
            GVX_TRY(s.step_done(a));
            GVX_TRY(s.record_audit(AuditAction::disable, token, now,
                                   audit_detail_reason("LEAKED")));
            return true;
        },
        /*may_use_side_connection=*/false);
}

Status Store::each_token(std::string_view user_id,
                         const std::function<void(const TokenRecord&)>& visit) {
    GVX_TRY(prepare());
    Query q = query(Sql::select_by_user);
    q.bind(1, user_id);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) visit(read_token(q));
    if (rc != SQLITE_DONE) return db_error(db_, rc);
    return Ok{};
}

Result<std::optional<TokenRecord>> Store::find_by_id(std::string_view id,
                                                     std::optional<std::string_view> user_id) {
    Query q = query(Sql::select_by_id);
    q.bind(1, id).bind(2, user_id);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return std::optional<TokenRecord>(read_token(q));
    if (rc == SQLITE_DONE) return std::optional<TokenRecord>();
    return db_error(db_, rc);
}

Result<std::optional<TokenRecord>> Store::get(std::string_view id, std::string_view user_id) {
    GVX_TRY(prepare());
    Query q = query(Sql::select_by_id_user);
    q.bind(1, id).bind(2, user_id);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return std::optional<TokenRecord>(read_token(q));
    if (rc == SQLITE_DONE) return std::optional<TokenRecord>();
    return db_error(db_, rc);
}

Result<std::optional<TokenRecord>> Store::update(std::string_view id, std::string_view user_id,
                                                 const TokenChanges& c, std::int64_t now) {
    GVX_TRY(validate(c, now));
    GVX_TRY(prepare());
    return write<std::optional<TokenRecord>>(
        [&](Store& s) -> Result<std::optional<TokenRecord>> {
            if (c.set_expires_at) {
                // max_token_lifetime counts from the token's creation.
                GVX_TRY_VALUE(const Config cfg, s.config());
                GVX_TRY_VALUE(const std::optional<TokenRecord> old, s.find_by_id(id, user_id));
                if (!old) return std::optional<TokenRecord>();
                GVX_TRY(lifetime_allows(c.expires_at, cfg, old->created_at));
            }
            std::optional<std::string> permissions;
            if (c.set_permissions && c.permissions) {
                GVX_TRY_VALUE(permissions, canonical_permissions(*c.permissions));
            }
            {
                Query q = s.query(Sql::update_token);
                q.bind(1, id).bind(2, user_id).bind(3, c.name);
                q.bind(4, c.enabled ? std::optional<std::int64_t>(*c.enabled ? 1 : 0)
                                    : std::nullopt);
                q.bind(5, std::int64_t{c.set_expires_at ? 1 : 0}).bind(6, c.expires_at);
                q.bind(7, now);
                q.bind(8, std::int64_t{c.set_metadata ? 1 : 0});
                q.bind(9, std::string_view(stored_metadata(c.metadata)));
                q.bind(10, std::int64_t{c.set_permissions ? 1 : 0}).bind(11, permissions);
                GVX_TRY(s.step_done(q));
            }
            if (sqlite3_changes(s.db_) == 0) return std::optional<TokenRecord>();
            if (c.enabled) {
                // Kept apart too: better-auth's whole-row write may put the old enabled back.
                Query st = s.query(Sql::upsert_state_disabled);
                st.bind(1, id).bind(2, std::int64_t{*c.enabled ? 0 : 1});
                GVX_TRY(s.step_done(st));
            }
            std::optional<TokenRecord> updated;
            {
                Query q = s.query(Sql::select_by_id_user);
                q.bind(1, id).bind(2, user_id);
                const int rc = q.step();
                if (rc == SQLITE_ROW) updated = read_token(q);
                else if (rc != SQLITE_DONE) return db_error(s.db_, rc);
            }
            if (updated) {
                GVX_TRY(s.record_audit(audit_action_of(c), *updated, now,
                                       audit_detail_changes(c)));
            }
            return updated;
        },
        /*may_use_side_connection=*/false);
}

Result<std::vector<ActivityRecord>> Store::activity(std::string_view id,
                                                    std::string_view user_id,
                                                    std::int64_t limit) {
    // only the owner may read a token's activity
    GVX_TRY_VALUE(const std::optional<TokenRecord> owner, get(id, user_id));
    if (!owner) return Error{Errc::not_found, "no such token"};
    std::vector<ActivityRecord> out;
    Query q = query(Sql::select_activity);
    q.bind(1, id).bind(2, limit);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        out.push_back(ActivityRecord{.id = q.int64(0),
                                     .at = q.int64(1),
                                     .key_id = q.opt_text(2),
                                     .key_start = q.text(3),
                                     .outcome = q.text(4),
                                     .ip = q.text(5),
                                     .user_agent = q.text(6),
                                     .count = q.int64(7),
                                     .last_at = q.opt_int64(8)});
    }
    if (rc != SQLITE_DONE) return db_error(db_, rc);
    return out;
}

}  // namespace gvx
