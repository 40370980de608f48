// Fuzz target: better-auth's session cookie (fcgi/credentials.hpp): find_cookie over a hostile
// Cookie header and verify_signed_cookie over hostile values, plus a round trip: a value signed
// with the secret, URL-encoded and placed among other cookies, verifies to the same token.
#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "credentials.hpp"
#include "fuzz_common.hpp"
#include "request.hpp"

namespace {
constexpr std::string_view kSecret = "fuzz-session-secret-0123456789abcdef";
constexpr std::string_view kNames[] = {"better-auth.session_token",
                                       "__Secure-better-auth.session_token", "a"};
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gvx::fcgi;
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    for (std::string_view name : kNames) {
        const auto v = find_cookie(in, name);
        if (!v) continue;
        GVX_FUZZ_CHECK(v->data() >= in.data() && v->data() + v->size() <= in.data() + in.size());
        if (auto token = verify_signed_cookie(*v, kSecret)) {
            // Only a correct signature verifies: sign the token and compare (also URL-decoded).
            const auto decoded = percent_decode(*v);
            GVX_FUZZ_CHECK(decoded.has_value());
            const std::string expected =
                std::string(token->view()) + "." + sign_cookie_value(token->view(), kSecret);
            GVX_FUZZ_CHECK(*decoded == expected);
        }
    }
    // The whole input as a cookie value: anything that verifies was signed with the secret.
    if (auto token = verify_signed_cookie(in, kSecret)) {
        const auto decoded = percent_decode(in);
        GVX_FUZZ_CHECK(decoded && *decoded == std::string(token->view()) + "." +
                                                  sign_cookie_value(token->view(), kSecret));
    }
    GVX_FUZZ_CHECK(!verify_signed_cookie(in, ""));  // no secret: nothing verifies

    // Round trip: the input as a session token.
    const std::string signed_value = std::string(in) + "." + sign_cookie_value(in, kSecret);
    const std::string encoded = gvx::fuzz::percent_encode_all(signed_value);
    const std::string header =
        "theme=dark; better-auth.session_token=" + encoded + ";  other=\"x;y\"";
    const auto found = find_cookie(header, "better-auth.session_token");
    GVX_FUZZ_CHECK(found && *found == encoded);
    const auto token = verify_signed_cookie(*found, kSecret);
    const bool expect = !in.empty() && encoded.size() <= kMaxCredentialBytes;
    GVX_FUZZ_CHECK(token.has_value() == expect);
    if (token) GVX_FUZZ_CHECK(token->view() == in);
    // The same cookie signed with another secret never verifies.
    GVX_FUZZ_CHECK(!verify_signed_cookie(*found, "another-secret"));
    return 0;
}
