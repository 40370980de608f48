// credentials.cpp: HTTP Basic, Bearer, cookies and better-auth's signed cookie values.
#include "credentials.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

namespace gvx::fcgi {
namespace {

class Credentials : public ::testing::Test {
   protected:
    static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(Credentials, BasicDecodesUserAndPassword) {
    auto c = parse_basic("Basic YWxpY2U6czNjcjN0");  // alice:s3cr3t
    ASSERT_TRUE(c);
    EXPECT_EQ(c->username, "alice");
    EXPECT_EQ(c->password.view(), "s3cr3t");
    auto lower = parse_basic("basic YWxpY2U6czNjcjN0");
    ASSERT_TRUE(lower);
    EXPECT_EQ(lower->username, "alice");
    auto colon = parse_basic("Basic dTpwOmFzczp3b3Jk");  // u:p:ass:word
    ASSERT_TRUE(colon);
    EXPECT_EQ(colon->password.view(), "p:ass:word");
    auto empty = parse_basic("Basic dTo=");  // "u:"
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->password.view(), "");
}

TEST_F(Credentials, BasicRejectsMalformedInput) {
    for (const char* bad :
         {"", "Basic", "Basic ", "Basic !!!!", "Basic YWxpY2U",  // no colon
          "Basic YWxpY2U6czNjcjN0!", "Basic YWxpY2U6czNjcjN",    // bad padding
          "Bearer YWxpY2U6czNjcjN0", "BasicYWxpY2U6czNjcjN0", "Basic\tYWxpY2U6czNjcjN0",
          "Basic YW\nxpY2U6czNjcjN0", "Basic dTpwAHc="}) {  // "u:p\0w": NUL inside
        EXPECT_FALSE(parse_basic(bad)) << bad;
    }
    const std::string huge = "Basic " + std::string(3000, 'A');
    EXPECT_FALSE(parse_basic(huge));
}

TEST_F(Credentials, BearerTakesTheTokenAfterTheScheme) {
    EXPECT_EQ(parse_bearer("Bearer gvx_abc"), "gvx_abc");
    EXPECT_EQ(parse_bearer("bearer   gvx_abc  "), "gvx_abc");
    EXPECT_FALSE(parse_bearer("Bearer "));
    EXPECT_FALSE(parse_bearer("Bearer"));
    EXPECT_FALSE(parse_bearer("Basic gvx_abc"));
    EXPECT_FALSE(parse_bearer("Bearergvx_abc"));
    EXPECT_FALSE(parse_bearer(""));
}

TEST_F(Credentials, TokenIsThePasswordOrTheUsername) {
    auto as_password = parse_basic("Basic YWxpY2U6Z3Z4X3Rva2Vu");  // alice:gvx_token
    ASSERT_TRUE(as_password);
    auto tc = token_from_basic(*as_password);
    EXPECT_EQ(tc.token, "gvx_token");
    EXPECT_EQ(tc.claimed_user, "alice");
    auto oauth = parse_basic("Basic Z3Z4X3Rva2VuOngtb2F1dGgtYmFzaWM=");  // gvx_token:x-oauth-basic
    ASSERT_TRUE(oauth);
    tc = token_from_basic(*oauth);
    EXPECT_EQ(tc.token, "gvx_token");
    EXPECT_EQ(tc.claimed_user, "");
    auto empty = parse_basic("Basic Z3Z4X3Rva2VuOg==");  // gvx_token:
    ASSERT_TRUE(empty);
    EXPECT_EQ(token_from_basic(*empty).token, "gvx_token");
}

TEST_F(Credentials, FindCookieMatchesWholeNames) {
    const std::string h =
        "theme=dark; xbetter-auth.session_token=wrong;better-auth.session_token=\"abc%3D\"; "
        "__Secure-better-auth.session_token=sec";
    EXPECT_EQ(find_cookie(h, "better-auth.session_token"), "abc%3D");
    EXPECT_EQ(find_cookie(h, "__Secure-better-auth.session_token"), "sec");
    EXPECT_EQ(find_cookie(h, "theme"), "dark");
    EXPECT_FALSE(find_cookie(h, "session_token"));
    EXPECT_FALSE(find_cookie("", "theme"));
    EXPECT_FALSE(find_cookie("theme", "theme"));
    EXPECT_EQ(find_cookie("a=; b=2", "a"), "");
}

// HMAC-SHA256(key = "key", "The quick brown fox jumps over the lazy dog")
// = f7bc83f4 30538424 b13298e6 aa6fb143 ef4d59a1 49461759 97479dbc 2d1a3cd8 (Wikipedia's
// vector), in standard base64 with padding as better-auth writes it.
constexpr const char* kFox = "The quick brown fox jumps over the lazy dog";
constexpr const char* kFoxMac = "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=";

TEST_F(Credentials, SignsAsBetterAuthDoes) {
    EXPECT_EQ(sign_cookie_value(kFox, "key"), kFoxMac);
}

std::string url_encode(std::string_view s) {  // encodeURIComponent for our alphabet
    std::string out;
    for (char c : s) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            out += c;
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
            out += buf;
        }
    }
    return out;
}

TEST_F(Credentials, VerifiesSignedCookieValues) {
    const std::string token = "sessTOKEN123";
    const std::string signed_value = token + "." + sign_cookie_value(token, "secret");
    auto ok = verify_signed_cookie(url_encode(signed_value), "secret");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->view(), token);
    // better-auth's own tokens contain no dot, but the signature is after the last one.
    const std::string dotted = "a.b." + sign_cookie_value("a.b", "secret");
    ASSERT_TRUE(verify_signed_cookie(url_encode(dotted), "secret"));
    EXPECT_EQ(verify_signed_cookie(url_encode(dotted), "secret")->view(), "a.b");
}

TEST_F(Credentials, RefusesBadCookieValues) {
    const std::string token = "sessTOKEN123";
    const std::string sig = sign_cookie_value(token, "secret");
    std::string tampered = sig;
    tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
    for (const std::string& bad :
         {token, token + ".", "." + sig, token + "." + tampered, token + "." + sig + "A",
          token + "." + sig.substr(0, sig.size() - 1),
          url_encode(token + "." + sign_cookie_value(token, "other secret")),
          token + "." + sig.substr(0, 40) + "%zz%", std::string("%") + token + "." + sig,
          std::string(), std::string(5000, 'a')}) {
        EXPECT_FALSE(verify_signed_cookie(bad, "secret")) << bad;
    }
    EXPECT_FALSE(verify_signed_cookie(url_encode(token + "." + sig), ""));
}

}  // namespace
}  // namespace gvx::fcgi
