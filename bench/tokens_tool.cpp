// gvx-bench-tokens --count N --of M
//
// Prints N HTTP Authorization headers ("Basic base64(owner:token)"), one a line, for live
// tokens picked at random among the first M of the benchmark population, for wrk's script.
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "bench_tokens.hpp"
#include "sqlite_handles.hpp"

int main(int argc, char** argv) {
    long long count = 0, of = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--count") count = std::atoll(argv[i + 1]);
        else if (flag == "--of") of = std::atoll(argv[i + 1]);
    }
    if (count < 1 || of < 1) bench::die("usage", "gvx-bench-tokens --count N --of M");
    if (sodium_init() < 0) bench::die("libsodium", "failed to start");
    std::mt19937_64 pick(7);
    std::uniform_int_distribution<std::uint64_t> any(0, static_cast<std::uint64_t>(of - 1));
    for (long long k = 0; k < count; ++k) {
        const std::uint64_t i = any(pick);
        const std::string credentials =
            bench::user_of(bench::Family::live, i) + ":" + bench::token_of(bench::Family::live, i);
        std::string b64(sodium_base64_ENCODED_LEN(credentials.size(),
                                                  sodium_base64_VARIANT_ORIGINAL),
                        '\0');
        sodium_bin2base64(b64.data(), b64.size(),
                          reinterpret_cast<const unsigned char*>(credentials.data()),
                          credentials.size(), sodium_base64_VARIANT_ORIGINAL);
        std::printf("Basic %s\n", b64.c_str());
    }
    return 0;
}
