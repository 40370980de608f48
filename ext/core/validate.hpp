// What a caller asks of the store, and the one validation step every front end goes through:
// the SQL functions and the HTTP API hand their input to the store, which checks it here.
// Errors name their field (Error::field), as SQL names it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gvx {

struct NewToken {
    std::string_view user_id;
    std::string_view name;
    std::string_view prefix = "gvx_";
    std::optional<std::int64_t> expires_at;   // ms since the epoch
    std::optional<std::string> metadata;      // compact JSON of an object
    std::optional<bool> rate_limit_enabled;   // per-token overrides
    std::optional<std::int64_t> rate_limit_time_window;
    std::optional<std::int64_t> rate_limit_max;
    // JSON of better-auth's permissions (core/permissions.hpp); nullopt = NULL, full access.
    std::optional<std::string> permissions;
    // better-auth's usage limit, carried over when a token is rotated.
    std::optional<std::int64_t> remaining;
    std::optional<std::int64_t> refill_interval;
    std::optional<std::int64_t> refill_amount;
};

struct TokenChanges {
    std::optional<std::string_view> name;
    std::optional<bool> enabled;
    bool set_expires_at = false;
    std::optional<std::int64_t> expires_at;  // with set_expires_at: nullopt = never
    bool set_metadata = false;
    std::optional<std::string> metadata;     // with set_metadata: compact JSON, nullopt = none
    bool set_permissions = false;
    std::optional<std::string> permissions;  // with set_permissions: JSON, nullopt = NULL
};

// The permissions as gvx stores them: validated (core/permissions.hpp), compact; an error
// whose field is "permissions" and whose message names the resource or action at fault.
Result<std::string> canonical_permissions(std::string_view json);

// Text from outside: at most max_bytes, no NUL, valid UTF-8.
Status check_text(std::string_view field, std::string_view value, std::size_t max_bytes);

// user_id, name, prefix, expires_at (in the future), metadata size, rate-limit overrides,
// permissions.
Status validate(const NewToken& t, std::int64_t now);
// name, expires_at, metadata and permissions, when they change.
Status validate(const TokenChanges& c, std::int64_t now);

// Client-supplied text for the activity log: at most max bytes of printable ASCII; anything
// else becomes '?', so a log reader never sees raw control bytes or broken UTF-8.
std::string printable(std::string_view s, std::size_t max);

}  // namespace gvx
