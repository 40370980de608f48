// A new token's apikey row, the same on every store backend: for a created token and for a
// rotated token's successor (SPEC §13). No database here; each store binds the row it gets.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/record.hpp"
#include "core/result.hpp"
#include "core/validate.hpp"

namespace gvx {

// The row for t, whose generated token is `token` (shown once, never stored: only its first
// kStartLength characters are kept, as start): a fresh id, enabled, created and updated now,
// expiring at expires_at, with t's metadata, permissions, rate-limit and usage fields as
// given (the caller has validated and canonicalised them).
TokenRecord new_token_record(const NewToken& t, std::string_view token,
                             std::optional<std::int64_t> expires_at, std::int64_t now);

// Whether a user with live_tokens unexpired tokens may have one more under
// max_tokens_per_user (0 = no cap); else too_many_tokens (HTTP 400 TOO_MANY_TOKENS).
Status within_token_cap(std::int64_t live_tokens, std::int64_t max_tokens_per_user);

// A rotation's own arguments: grace_ms from 0 to kMaxRotationGraceMs, an expires_at (when
// given) in the future. Errors name the field.
Status validate_rotation(std::int64_t grace_ms, std::optional<std::int64_t> expires_at,
                         std::int64_t now);

// What a rotated token's successor is made of: old's owner, name, prefix, metadata,
// permissions, rate-limit and usage fields, kept as stored (a name better-auth allowed stays
// as it is; a prefix gvx cannot generate becomes gvx's own; permissions that cannot be read
// grant nothing, and stay so). Its string views point into old, which must outlive it.
NewToken successor_of(const TokenRecord& old);

// The successor's expiry before the lifetime cap: the one asked for, else as long a life as
// old was given (a 30-day token rotates into another 30-day token), else never.
std::optional<std::int64_t> successor_expiry(const TokenRecord& old,
                                             std::optional<std::int64_t> asked,
                                             std::int64_t now);

}  // namespace gvx
