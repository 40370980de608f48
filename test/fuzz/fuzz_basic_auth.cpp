// Fuzz target: the Authorization header (fcgi/credentials.hpp): parse_basic, token_from_basic
// and parse_bearer on the raw input, and a round trip: "Basic " + base64(input) must parse
// exactly when the input is a user:password pair, and give the same two parts back.
#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "credentials.hpp"
#include "fuzz_common.hpp"

namespace {

void check_credentials(const gvx::fcgi::BasicCredentials& c) {
    using gvx::fuzz::contains;
    GVX_FUZZ_CHECK(c.username.find(':') == std::string::npos);
    GVX_FUZZ_CHECK(c.username.find('\0') == std::string::npos);
    GVX_FUZZ_CHECK(c.password.view().find('\0') == std::string_view::npos);
    const gvx::fcgi::TokenCredential t = gvx::fcgi::token_from_basic(c);
    const std::string_view pw = c.password.view();
    if (pw.empty() || pw == "x-oauth-basic") {
        GVX_FUZZ_CHECK(t.token == c.username);
        GVX_FUZZ_CHECK(t.claimed_user.empty());
    } else {
        GVX_FUZZ_CHECK(t.token == pw);
        GVX_FUZZ_CHECK(t.claimed_user == c.username);
    }
}

std::string base64(std::string_view s) {
    constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
    std::string out(sodium_base64_ENCODED_LEN(s.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                      s.size(), kVariant);
    out.pop_back();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gvx::fcgi;
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    if (auto c = parse_basic(in)) check_credentials(*c);
    if (auto b = parse_bearer(in)) {
        GVX_FUZZ_CHECK(!b->empty());
        GVX_FUZZ_CHECK(b->data() >= in.data() && b->data() + b->size() <= in.data() + in.size());
        GVX_FUZZ_CHECK(b->front() != ' ' && b->back() != ' ');
    }

    const std::string header = (size && data[0] & 1 ? "basic   " : "Basic ") + base64(in);
    const auto c = parse_basic(header);
    const std::size_t colon = in.find(':');
    const bool expect = colon != std::string_view::npos &&
                        in.find('\0') == std::string_view::npos &&
                        header.size() <= 2 * kMaxCredentialBytes;
    GVX_FUZZ_CHECK(c.has_value() == expect);
    if (c) {
        GVX_FUZZ_CHECK(c->username == in.substr(0, colon));
        GVX_FUZZ_CHECK(c->password.view() == in.substr(colon + 1));
        check_credentials(*c);
    }
    return 0;
}
