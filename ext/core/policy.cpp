#include "core/policy.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "core/limits.hpp"

namespace gvx {

void apply_config_value(Config& c, std::string_view name, std::int64_t v) {
    if (name == "rate_limit_enabled") c.rate_limit_enabled = v != 0;
    else if (name == "rate_limit_time_window" && v > 0)
        c.rate_limit_time_window = std::min(v, kMaxDurationMs);
    else if (name == "rate_limit_max" && v >= 0) c.rate_limit_max = v;
    else if (name == "activity_retention_ms" && v > 0)
        c.activity_retention = std::min(v, kMaxDurationMs);
    else if (name == "audit_retention_ms" && v > 0)
        c.audit_retention = std::min(v, kMaxDurationMs);
    else if (name == "activity_unknown_max_rows" && v >= 0) c.activity_unknown_max_rows = v;
    else if (name == "activity_refusals_per_token" && v >= 0) c.activity_refusals_per_token = v;
    else if (name == "max_tokens_per_user" && v >= 0) c.max_tokens_per_user = v;
    else if (name == "cleanup_hold_us" && v > 0) c.cleanup_hold_us = v;
    else if (name == "cleanup_pause_ratio" && v >= 0) c.cleanup_pause_ratio = v;
    else if (name == "max_token_lifetime_ms" && v >= 0)
        c.max_token_lifetime = std::min(v, kMaxDurationMs);
}

std::string_view outcome_code(Outcome o) {
    switch (o) {
        case Outcome::ok: return "OK";
        case Outcome::invalid_key: return "INVALID_API_KEY";
        case Outcome::expired: return "KEY_EXPIRED";
        case Outcome::disabled: return "KEY_DISABLED";
        case Outcome::usage_exceeded: return "USAGE_EXCEEDED";
        case Outcome::rate_limited: return "RATE_LIMITED";
        case Outcome::user_mismatch: return "USER_MISMATCH";
        case Outcome::insufficient_permissions: return "INSUFFICIENT_PERMISSIONS";
        case Outcome::user_banned: return "USER_BANNED";
        case Outcome::user_missing: return "INVALID_USER_ID_FROM_API_KEY";
    }
    return "INVALID_API_KEY";
}

std::string_view outcome_message(Outcome o) {
    switch (o) {
        case Outcome::ok: return "token is valid";
        case Outcome::invalid_key: return "invalid token";
        case Outcome::expired: return "token has expired";
        case Outcome::disabled: return "token is disabled";
        case Outcome::usage_exceeded: return "token has no remaining uses";
        case Outcome::rate_limited: return "rate limit exceeded";
        case Outcome::user_mismatch: return "the user name does not match the token's owner";
        case Outcome::insufficient_permissions:
            return "the token's permissions do not allow this";
        case Outcome::user_banned: return "the token's owner is banned";
        case Outcome::user_missing: return "the token's owner is not a user";
    }
    return "invalid token";
}

std::int64_t sub_sat(std::int64_t a, std::int64_t b) {
    using Limits = std::numeric_limits<std::int64_t>;
    std::int64_t r = 0;
    if (!__builtin_sub_overflow(a, b, &r)) return r;
    return b > 0 ? Limits::min() : Limits::max();
}

Result<Decision> decide(const TokenRecord* token, bool user_claimed, const Permissions* required,
                        std::int64_t now, VerifyFacts& facts) {
    Decision d;
    if (!token) {
        d.outcome = Outcome::invalid_key;
        return d;
    }
    const TokenRecord& r = *token;
    if (!r.enabled) {
        d.outcome = Outcome::disabled;
        return d;
    }
    if (r.expires_at && *r.expires_at <= now) {
        d.outcome = Outcome::expired;
        return d;
    }
    // Where better-auth's user table exists, the owner must be a user, and not a banned one.
    GVX_TRY_VALUE(const Outcome standing, facts.owner_standing(r));
    if (standing != Outcome::ok) {
        d.outcome = standing;
        return d;
    }
    // better-auth's usage limit, as its verifyApiKey counts it: `remaining` uses, refilled to
    // refill_amount once more than refill_interval ms have passed. Only 0 is used up: a
    // negative remaining (-1) never runs out and counts on down, as in better-auth.
    d.remaining = r.remaining;
    d.last_refill_at = r.last_refill_at;
    if (d.remaining && r.refill_interval.value_or(0) != 0 && r.refill_amount.value_or(0) != 0 &&
        sub_sat(now, r.last_refill_at.value_or(r.created_at)) > *r.refill_interval) {
        d.remaining = r.refill_amount;
        d.last_refill_at = now;
    }
    if (d.remaining && *d.remaining == 0) {
        d.outcome = Outcome::usage_exceeded;
        return d;
    }
    if (user_claimed) {
        GVX_TRY_VALUE(const bool named, facts.names_owner(r));
        if (!named) {
            d.outcome = Outcome::user_mismatch;
            return d;
        }
    }
    if (required) {
        const StoredPermissions granted = read_stored_permissions(r.permissions);
        if (!covers(granted.permissions, *required)) {
            d.outcome = Outcome::insufficient_permissions;
            return d;
        }
    }

    GVX_TRY_VALUE(const Config cfg, facts.config());
    if (cfg.rate_limit_enabled && r.rate_limit_enabled.value_or(true)) {
        const std::int64_t window =
            std::min(r.rate_limit_time_window.value_or(cfg.rate_limit_time_window), kMaxDurationMs);
        const std::int64_t max = r.rate_limit_max.value_or(cfg.rate_limit_max);
        RateWindow current{.start = now, .count = 0};
        GVX_TRY_VALUE(const std::optional<RateWindow> stored, facts.window(r));
        // Still inside the current fixed window. A window opened up to one window "later"
        // than now is current too: another verification read a later clock and took the
        // lock first (or another machine's clock is ahead); starting a new window then would
        // reset the count and admit more than max. Further ahead, the start is bogus.
        if (stored && sub_sat(now, stored->start) < window &&
            sub_sat(stored->start, now) < window)
            current = *stored;
        if (current.count >= max) {
            d.outcome = Outcome::rate_limited;
            d.retry_after_ms = std::max<std::int64_t>(current.start + window - now, 1);
            return d;
        }
        d.window = RateWindow{.start = current.start, .count = current.count + 1};
    }
    d.outcome = Outcome::ok;
    if (d.remaining && *d.remaining > std::numeric_limits<std::int64_t>::min()) *d.remaining -= 1;
    return d;
}

Result<std::optional<std::int64_t>> lifetime_for_new(std::optional<std::int64_t> expires_at,
                                                     const Config& c, std::int64_t now) {
    if (c.max_token_lifetime <= 0) return expires_at;
    const std::int64_t latest = now + c.max_token_lifetime;
    if (!expires_at) return std::optional<std::int64_t>(latest);  // the longest allowed
    if (*expires_at > latest)
        return invalid_field("expires_at", "is beyond the maximum token lifetime of " +
                                               std::to_string(c.max_token_lifetime / kDayMs) +
                                               " days");
    return expires_at;
}

Status lifetime_allows(std::optional<std::int64_t> expires_at, const Config& c,
                       std::int64_t created_at) {
    if (c.max_token_lifetime <= 0) return Ok{};
    if (!expires_at)
        return invalid_field("expires_at", "cannot be removed: tokens live at most " +
                                               std::to_string(c.max_token_lifetime / kDayMs) +
                                               " days from their creation");
    if (*expires_at > created_at + c.max_token_lifetime)
        return invalid_field("expires_at", "is beyond the maximum token lifetime (" +
                                               std::to_string(c.max_token_lifetime / kDayMs) +
                                               " days from the token's creation)");
    return Ok{};
}

}  // namespace gvx
