// The benchmark's token population: deterministic, so the data generator and the measuring
// programs agree on every token without storing one. Token i of a family is gvx-shaped (prefix,
// 58 pseudo-random base62 characters, real checksum) and hashes like any other.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

enum class Family : std::uint64_t {
    live = 1,     // valid tokens, never expiring
    expired = 2,  // tokens that expired long ago (cleanup)
    unknown = 3,  // never stored: verification misses
};

// Users: the first kListUserTokens live tokens belong to kListUser (the GET /list row);
// the rest are spread ten to a user.
inline constexpr const char* kListUser = "list-user";
inline constexpr std::int64_t kListUserTokens = 10'000;

// created_at of token 0 (2024-01-01T00:00:00Z); token i was created i ms later.
inline constexpr std::int64_t kEpochMs = 1'704'067'200'000;

std::string token_of(Family f, std::uint64_t i);
std::string id_of(Family f, std::uint64_t i);  // 32 characters [A-Za-z0-9], sorted by i
std::string user_of(Family f, std::uint64_t i);

}  // namespace bench
