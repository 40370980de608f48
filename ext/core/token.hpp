// The token format (SPEC §2), with no SQLite in sight: generation, checksum, hashing, checks.
//
//   token = prefix + 58 random base62 characters + 6-character base62 CRC-32 checksum
//   key   = base64url(SHA-256(token)) without padding: what the database stores
//
// WARNING: a generated token is shown once and never stored; keep it in a SecretString.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/limits.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"

namespace gvx {

inline constexpr std::string_view kDefaultPrefix = "gvx_";
inline constexpr std::size_t kRandomLength = 58;
inline constexpr std::size_t kChecksumLength = 6;
inline constexpr std::size_t kBodyLength = kRandomLength + kChecksumLength;  // 64
inline constexpr std::size_t kStartLength = 6;
inline constexpr std::size_t kIdLength = 32;
inline constexpr std::size_t kKeyHashLength = 43;

// Uniform random characters of [0-9A-Za-z] from libsodium's CSPRNG (rejection sampling, no bias).
std::string random_base62(std::size_t n);

// CRC-32 (IEEE 802.3, as zlib's crc32) of the bytes.
std::uint32_t crc32(std::string_view bytes);
// The CRC-32 continued over more bytes: crc32_extend(crc32(a), b) == crc32(a + b). Scanners
// use it to check many candidate tokens that share their first bytes.
std::uint32_t crc32_extend(std::uint32_t crc, std::string_view more);

// The checksum of the text before it: CRC-32 in base62 (0-9A-Za-z), 6 digits, zero-padded.
std::string checksum62(std::string_view text);

// The CRC-32 that a 6-character checksum writes, or nullopt when the text cannot be one (a
// character outside 0-9A-Za-z, or a value of 2^32 or more): checksum62(t) == c exactly when
// checksum_value(c) == crc32(t).
std::optional<std::uint32_t> checksum_value(std::string_view checksum);

// kPrefixPattern (core/limits.hpp)
bool is_valid_prefix(std::string_view prefix);

// "prefix must match ^[A-Za-z0-9_-]{1,32}$", with its field.
Error prefix_error();

// A new token with this prefix; the prefix must be valid.
Result<SecretString> generate_token(std::string_view prefix);

// What apikey.key stores: base64url without padding of SHA-256 over the token's bytes.
std::string hash_key(std::string_view token);

// A new 32-character random id.
std::string random_id();

// True when the token has gvx's shape: a valid prefix, 64 base62 characters, correct checksum.
bool has_gvx_format(std::string_view token);

// The first 6 characters of the token for display and activity; characters outside
// [A-Za-z0-9_-] become '?', so hostile input never reaches a log as it was sent.
std::string token_start(std::string_view token);

// True when the text could be a token of gvx's or better-auth's: a prefix of at most 32
// characters of [A-Za-z0-9_-] followed by 64 letters or digits (checksum not required).
bool has_token_shape(std::string_view text);

// What the activity log may keep of a credential a client sent: its first 6 characters when
// it has a token's shape, else nothing, so a mistyped password never reaches the database.
std::string credential_start(std::string_view credential);

// UTF-8 helpers for names and other text from outside.
bool is_valid_utf8(std::string_view s);
std::size_t count_code_points(std::string_view valid_utf8);

}  // namespace gvx
