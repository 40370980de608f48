#include "bench_tokens.hpp"

#include <cstdio>

#include "core/token.hpp"

namespace bench {
namespace {

// splitmix64: a tiny, well-mixed generator; any i gives an unrelated-looking token.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

}  // namespace

std::string token_of(Family f, std::uint64_t i) {
    std::string t(gvx::kDefaultPrefix);
    std::uint64_t state = mix(static_cast<std::uint64_t>(f) << 40 ^ i);
    for (std::size_t k = 0; k < gvx::kRandomLength; ++k) {
        state = mix(state);
        t += kBase62[state % 62];
    }
    t += gvx::checksum62(t);
    return t;
}

std::string id_of(Family f, std::uint64_t i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "bench%c%026llu", "?LXU"[static_cast<int>(f)],
                  static_cast<unsigned long long>(i));
    return buf;
}

std::string user_of(Family f, std::uint64_t i) {
    if (f == Family::live && i < static_cast<std::uint64_t>(kListUserTokens)) return kListUser;
    return "user-" + std::to_string(i / 10);
}

}  // namespace bench
