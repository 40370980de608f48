#include "core/new_token.hpp"

#include <algorithm>
#include <string>

#include "core/limits.hpp"
#include "core/permissions.hpp"
#include "core/token.hpp"

namespace gvx {

TokenRecord new_token_record(const NewToken& t, std::string_view token,
                             std::optional<std::int64_t> expires_at, std::int64_t now) {
    TokenRecord r;
    r.id = random_id();
    r.name = std::string(t.name);
    r.start = std::string(token.substr(0, kStartLength));
    r.prefix = std::string(t.prefix);
    r.user_id = std::string(t.user_id);
    r.enabled = true;
    r.created_at = r.updated_at = now;
    r.expires_at = expires_at;
    r.metadata = t.metadata;
    r.permissions = t.permissions;
    r.rate_limit_enabled = t.rate_limit_enabled.value_or(true);
    r.rate_limit_time_window = t.rate_limit_time_window;
    r.rate_limit_max = t.rate_limit_max;
    r.remaining = t.remaining;
    r.refill_interval = t.refill_interval;
    r.refill_amount = t.refill_amount;
    return r;
}

Status within_token_cap(std::int64_t live_tokens, std::int64_t max_tokens_per_user) {
    if (max_tokens_per_user <= 0 || live_tokens < max_tokens_per_user) return Ok{};
    return Error{Errc::too_many_tokens,
                 "the user has " + std::to_string(live_tokens) +
                     " tokens, the most max_tokens_per_user allows: revoke one first"};
}

Status validate_rotation(std::int64_t grace_ms, std::optional<std::int64_t> expires_at,
                         std::int64_t now) {
    if (grace_ms < 0 || grace_ms > kMaxRotationGraceMs)
        return invalid_field("grace_ms", "must be 0 to " + std::to_string(kMaxRotationGraceMs) +
                                             " (7 days)");
    if (expires_at && *expires_at <= now)
        return invalid_field("expires_at", "must be in the future (milliseconds since the epoch)");
    return Ok{};
}

NewToken successor_of(const TokenRecord& old) {
    NewToken t{.user_id = old.user_id,
               .name = old.name ? std::string_view(*old.name) : std::string_view(),
               .prefix = old.prefix && is_valid_prefix(*old.prefix)
                             ? std::string_view(*old.prefix)
                             : kDefaultPrefix};
    t.metadata = old.metadata;
    t.rate_limit_enabled = old.rate_limit_enabled;
    t.rate_limit_time_window = old.rate_limit_time_window;
    t.rate_limit_max = old.rate_limit_max;
    t.remaining = old.remaining;
    t.refill_interval = old.refill_interval;
    t.refill_amount = old.refill_amount;
    if (old.permissions) {
        const StoredPermissions p = read_stored_permissions(*old.permissions);
        if (!p.is_null) t.permissions = permissions_json(p.permissions);
    }
    return t;
}

std::optional<std::int64_t> successor_expiry(const TokenRecord& old,
                                             std::optional<std::int64_t> asked,
                                             std::int64_t now) {
    if (asked) return asked;
    if (!old.expires_at) return std::nullopt;
    const std::int64_t life =
        std::clamp<std::int64_t>(*old.expires_at - old.created_at, 1, kMaxDurationMs);
    return now + life;
}

}  // namespace gvx
