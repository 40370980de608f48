// Rotation on the SQLite store (SPEC §13): a new token in the old one's place, and the old one
// ended, in one write transaction.
#include <algorithm>

#include "core/limits.hpp"
#include "core/token.hpp"
#include "store.hpp"
#include "store/sql.hpp"
#include "store/write.hpp"

namespace gvx {
namespace {

// The new token's expiry before the lifetime cap: the one asked for, else as long a life as
// the old token was given (a 30-day token rotates into another 30-day token), else never.
std::optional<std::int64_t> successor_expiry(const TokenRecord& old, const Rotation& how,
                                             std::int64_t now) {
    if (how.expires_at) return how.expires_at;
    if (!old.expires_at) return std::nullopt;
    const std::int64_t life = std::clamp<std::int64_t>(*old.expires_at - old.created_at, 1,
                                                       kMaxDurationMs);
    return now + life;
}

}  // namespace

Result<std::optional<CreatedToken>> Store::rotate(std::string_view id,
                                                  std::optional<std::string_view> user_id,
                                                  const Rotation& how, std::int64_t now) {
    if (how.grace_ms < 0 || how.grace_ms > kMaxRotationGraceMs)
        return invalid_field("grace_ms", "must be 0 to " + std::to_string(kMaxRotationGraceMs) +
                                             " (7 days)");
    if (how.expires_at && *how.expires_at <= now)
        return invalid_field("expires_at", "must be in the future (milliseconds since the epoch)");
    GVX_TRY(prepare());
    return write<std::optional<CreatedToken>>(
        [&](Store& s) -> Result<std::optional<CreatedToken>> {
            GVX_TRY_VALUE(const std::optional<TokenRecord> old, s.find_by_id(id, user_id));
            if (!old) return std::optional<CreatedToken>();
            GVX_TRY_VALUE(const Config cfg, s.config());
            GVX_TRY_VALUE(const std::optional<std::int64_t> expires,
                          lifetime_for_new(successor_expiry(*old, how, now), cfg, now));
            // The old token's own fields, as stored: a name better-auth allowed stays as it
            // is, and a prefix gvx cannot generate becomes gvx's own.
            const std::string name = old->name.value_or("");
            const std::string prefix = old->prefix && is_valid_prefix(*old->prefix)
                                           ? *old->prefix
                                           : std::string(kDefaultPrefix);
            NewToken t{.user_id = old->user_id, .name = name, .prefix = prefix};
            t.metadata = old->metadata;
            t.rate_limit_enabled = old->rate_limit_enabled;
            t.rate_limit_time_window = old->rate_limit_time_window;
            t.rate_limit_max = old->rate_limit_max;
            t.remaining = old->remaining;
            t.refill_interval = old->refill_interval;
            t.refill_amount = old->refill_amount;
            if (old->permissions) {
                // Kept as stored (better-auth's other resources too); unreadable text grants
                // nothing, and stays so.
                const StoredPermissions p = read_stored_permissions(*old->permissions);
                t.permissions = p.is_null ? std::nullopt
                                          : std::optional<std::string>(permissions_json(p.permissions));
            }
            GVX_TRY_VALUE(CreatedToken created, s.insert_token(t, expires, now));

            if (how.grace_ms == 0) {
                Query q = s.query(Sql::delete_token);
                q.bind(1, std::string_view(old->id)).bind(2, std::optional<std::string_view>());
                GVX_TRY(s.step_done(q));
                Query w = s.query(Sql::delete_window);
                w.bind(1, std::string_view(old->id));
                GVX_TRY(s.step_done(w));
            } else {
                Query q = s.query(Sql::end_token_at);
                q.bind(1, std::string_view(old->id)).bind(2, now + how.grace_ms).bind(3, now);
                GVX_TRY(s.step_done(q));
            }
            return std::optional<CreatedToken>(std::move(created));
        },
        /*may_use_side_connection=*/false);
}

}  // namespace gvx
