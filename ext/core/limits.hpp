// Every bound gvx enforces on what comes from outside, in one place. The SQL functions, the
// store's validation and the HTTP API all read these; error messages are built from them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gvx {

// Token names, in code points.
inline constexpr std::size_t kMinNameChars = 3;
inline constexpr std::size_t kMaxNameChars = 50;
// Bytes of a name: at most 4 per code point.
inline constexpr std::size_t kMaxNameBytes = kMaxNameChars * 4;
inline constexpr std::size_t kMaxUserIdBytes = 255;
// A token id as the API accepts it in a query string.
inline constexpr std::size_t kMaxIdBytes = 255;

// Token prefixes: ^[A-Za-z0-9_-]{1,32}$ (is_valid_prefix checks it without a regex engine).
inline constexpr std::size_t kMaxPrefixLength = 32;
inline constexpr std::string_view kPrefixPattern = "^[A-Za-z0-9_-]{1,32}$";

// Longest string gvx looks up as a token; anything longer cannot be one of ours or better-auth's.
inline constexpr std::size_t kMaxTokenLength = 512;

// Client-supplied text kept in the activity log.
inline constexpr std::size_t kMaxIpBytes = 64;
inline constexpr std::size_t kMaxUserAgentBytes = 256;

// Metadata: at most this many bytes of JSON.
inline constexpr std::size_t kMaxMetadataBytes = 16 * 1024;
// A request body of the HTTP API.
inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;
// Any other TEXT argument of a SQL function.
inline constexpr std::size_t kMaxSqlArgBytes = 4096;

// RapidJSON parses, writes and frees nested values recursively, so deep nesting exhausts the
// stack (a 64 KiB body of '[' crashed gvx-fcgi on a 2 MB stack; metadata planted through SQL
// could crash every process that lists it). gvx refuses JSON nested deeper than this.
inline constexpr int kMaxJsonDepth = 64;

// Durations (gvx_config, a token's rate-limit window, an expiry) beyond this count as this:
// far past any token's life, and small enough that now + duration cannot overflow, whatever
// integer an admin stored.
inline constexpr std::int64_t kDayMs = 86'400'000;
inline constexpr std::int64_t kMaxDurationMs = 100LL * 365 * kDayMs;
inline constexpr std::int64_t kMaxDurationSeconds = kMaxDurationMs / 1000;

// Refusals of one token, outcome, address, user agent and start within this long of the
// first share one activity row (its count).
inline constexpr std::int64_t kRefusalWindowMs = 60'000;

// How long a rotated token may go on working beside its successor.
inline constexpr std::int64_t kMaxRotationGraceMs = 7 * kDayMs;

// GET /activity: entries per page.
inline constexpr std::int64_t kActivityLimit = 100;
inline constexpr std::int64_t kMaxActivityLimit = 1000;

// Retry-After is whole seconds, rounded up: a client that waits that long is admitted.
inline constexpr std::int64_t retry_after_seconds(std::int64_t retry_after_ms) {
    return (retry_after_ms + 999) / 1000;
}

}  // namespace gvx
