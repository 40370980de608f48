// Verification and lifetime policy as pure functions: no database, no clock of their own.
// Every store backend runs these same decisions over what it reads (SPEC §4, §13).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/permissions.hpp"
#include "core/record.hpp"
#include "core/result.hpp"

namespace gvx {

// Settings both programs read from the gvx_config table (README, "Configuration").
struct Config {
    bool rate_limit_enabled = false;
    std::int64_t rate_limit_time_window = 86'400'000;  // ms
    std::int64_t rate_limit_max = 10;
    std::int64_t activity_retention = 30LL * 86'400'000;  // ms
    std::int64_t audit_retention = 365LL * 86'400'000;    // ms: the audit trail (gvx_audit)
    // Refused verifications are counted per minute, address, outcome and token start; these
    // cap the rows they may take: without a token (unknown, malformed), and per token.
    std::int64_t activity_unknown_max_rows = 1'000;
    std::int64_t activity_refusals_per_token = 100;
    std::int64_t max_tokens_per_user = 1'000;  // live (unexpired) tokens of one user
    std::int64_t max_token_lifetime = 0;  // ms; 0 = tokens may never expire
    // Cleanup pacing (ext/store/cleanup.cpp): how long one batch may hold the write lock, and
    // how many times that long to pause after it; 0 = as fast as possible.
    std::int64_t cleanup_hold_us = 500;
    std::int64_t cleanup_pause_ratio = 4;
};

// One gvx_config row applied to c. Unknown names and out-of-range values leave c as it was;
// durations are capped at kMaxDurationMs.
void apply_config_value(Config& c, std::string_view name, std::int64_t value);

// Outcomes use better-auth's error codes, so gvx_check() reads like better-auth's verify.
enum class Outcome {
    ok,
    invalid_key,
    expired,
    disabled,
    usage_exceeded,
    rate_limited,
    user_mismatch,  // a valid token presented with a username that is not its owner's
    insufficient_permissions,  // valid, but its permissions do not cover the request (403)
    user_banned,    // the owner is banned (better-auth's admin plugin: user.banned)
    user_missing,   // better-auth's user table has no row for the owner (deleted user)
};
std::string_view outcome_code(Outcome o);
std::string_view outcome_message(Outcome o);

// A token's current fixed rate-limit window as stored.
struct RateWindow {
    std::int64_t start = 0;
    std::int64_t count = 0;
};

// What a decision may need beyond the token itself. decide() asks only when it gets that far,
// in its order, so a refused token costs no further reads.
class VerifyFacts {
   public:
    virtual ~VerifyFacts() = default;
    // Whether the user name the client claimed names the token's owner.
    virtual Result<bool> names_owner(const TokenRecord& token) = 0;
    virtual Result<Config> config() = 0;
    virtual Result<std::optional<RateWindow>> window(const TokenRecord& token) = 0;
    // ok, user_banned or user_missing: the owner's standing where the database has a user
    // table (better-auth's); ok where it has none.
    virtual Result<Outcome> owner_standing(const TokenRecord&) { return Outcome::ok; }
};

struct Decision {
    Outcome outcome = Outcome::invalid_key;
    // When ok: the usage counters to store (remaining after this use; refill time).
    std::optional<std::int64_t> remaining;
    std::optional<std::int64_t> last_refill_at;
    // When ok under a rate limit: the window to store, this use counted.
    std::optional<RateWindow> window;
    std::int64_t retry_after_ms = 0;  // when rate limited
};

// The verification policy, in this order: unknown → disabled → expired → owner's standing →
// usage refill → usage exhausted → owner (only when a user name was claimed) → permissions
// (only when some are required: better-auth's rule over the token's apikey.permissions,
// core/permissions.hpp) → rate-limit window. A refusal for permissions uses no window and no
// usage.
Result<Decision> decide(const TokenRecord* token, bool user_claimed, const Permissions* required,
                        std::int64_t now, VerifyFacts& facts);

// The expiry a new token gets under max_token_lifetime: the one asked for, or the longest
// allowed when none was; an error naming expires_at when it asks for more.
Result<std::optional<std::int64_t>> lifetime_for_new(std::optional<std::int64_t> expires_at,
                                                     const Config& c, std::int64_t now);
// Whether an update may set this expiry (nullopt = never) under max_token_lifetime, which
// counts from the token's creation: no update extends a token past created_at + the cap.
Status lifetime_allows(std::optional<std::int64_t> expires_at, const Config& c,
                       std::int64_t created_at);

// a - b, saturating instead of overflowing: now comes from the caller, and
// gvx_purge_expired(now_ms) accepts any INTEGER, so now - retention must not be UB.
std::int64_t sub_sat(std::int64_t a, std::int64_t b);

}  // namespace gvx
