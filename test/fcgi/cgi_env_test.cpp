// cgi_env.cpp: the CGI environment as web servers set it, read into a Request.
#include "cgi_env.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/limits.hpp"

namespace gvx::fcgi {
namespace {

// An environment and a body, handed over as libfcgi would.
struct Cgi {
    std::vector<std::string> env;
    std::string body;
    std::size_t chunk = 1 << 20;  // the reader returns at most this much per call
    std::size_t asked = 0;        // bytes the request asked the reader for

    Request read() {
        std::vector<const char*> envp;
        for (const auto& e : env) envp.push_back(e.c_str());
        envp.push_back(nullptr);
        std::size_t at = 0;
        return read_request(envp.data(), [&](char* into, std::size_t n) {
            asked += n;
            const std::size_t k = std::min({n, chunk, body.size() - at});
            body.copy(into, k, at);
            at += k;
            return k;
        });
    }
};

TEST(CgiEnv, FirstValueOfANameWins) {
    Cgi c{.env = {"REQUEST_METHOD=POST", "REQUEST_METHOD=GET", "HTTP_AUTHORIZATION=Bearer a",
                  "HTTP_AUTHORIZATION=Bearer b", "NOEQUALS", "REMOTE_ADDR=10.0.0.1=x"}};
    const Request r = c.read();
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.authorization, "Bearer a");
    EXPECT_EQ(r.remote_addr, "10.0.0.1=x");  // only the first '=' separates
}

TEST(CgiEnv, RequestUriOrScriptNamePlusPathInfo) {
    Cgi uri{.env = {"REQUEST_URI=/api/auth/api-key/get?id=a%20b", "QUERY_STRING=ignored",
                    "SCRIPT_NAME=/x", "PATH_INFO=/y"}};
    Request r = uri.read();
    EXPECT_EQ(r.path, "/api/auth/api-key/get");
    EXPECT_EQ(r.query, "id=a%20b");

    Cgi no_query{.env = {"REQUEST_URI=/api/list", "QUERY_STRING=limit=5"}};
    r = no_query.read();
    EXPECT_EQ(r.path, "/api/list");
    EXPECT_EQ(r.query, "limit=5");  // no '?' in the URI: QUERY_STRING

    Cgi split{.env = {"SCRIPT_NAME=/gvx", "PATH_INFO=/api/get", "QUERY_STRING=id=1"}};
    r = split.read();
    EXPECT_EQ(r.path, "/gvx/api/get");
    EXPECT_EQ(r.query, "id=1");
}

TEST(CgiEnv, RedirectAuthorizationIsTheFallback) {
    Cgi apache{.env = {"REDIRECT_HTTP_AUTHORIZATION=Basic eDp5"}};
    EXPECT_EQ(apache.read().authorization, "Basic eDp5");
    Cgi both{.env = {"REDIRECT_HTTP_AUTHORIZATION=Basic old", "HTTP_AUTHORIZATION=Bearer new"}};
    EXPECT_EQ(both.read().authorization, "Bearer new");
}

TEST(CgiEnv, EmptyOrMissingContentLengthReadsNothing) {
    Cgi empty{.env = {"CONTENT_LENGTH="}, .body = "{}"};
    Request r = empty.read();
    EXPECT_FALSE(r.content_length);
    EXPECT_FALSE(r.body_read);
    EXPECT_EQ(empty.asked, 0u);
    Cgi none{.env = {}, .body = "{}"};
    r = none.read();
    EXPECT_FALSE(r.content_length);
    EXPECT_EQ(none.asked, 0u);
    Cgi zero{.env = {"CONTENT_LENGTH=0"}, .body = "{}"};
    r = zero.read();
    EXPECT_EQ(r.content_length, "0");
    EXPECT_TRUE(r.body_read);
    EXPECT_EQ(r.body, "");
}

TEST(CgiEnv, BodyReadToItsLengthAcrossShortReads) {
    Cgi c{.env = {"CONTENT_LENGTH=10"}, .body = "0123456789extra", .chunk = 3};
    const Request r = c.read();
    EXPECT_TRUE(r.body_read);
    EXPECT_EQ(r.body, "0123456789");
    EXPECT_EQ(c.asked, 10u + 7 + 4 + 1);  // 10, then what was left after each short read
}

TEST(CgiEnv, ShortBodyIsKeptShort) {
    Cgi c{.env = {"CONTENT_LENGTH=100"}, .body = "{}"};
    const Request r = c.read();
    EXPECT_TRUE(r.body_read);
    EXPECT_EQ(r.body, "{}");  // the API answers TRUNCATED_BODY
}

TEST(CgiEnv, OversizedOrMalformedLengthIsNeverRead) {
    for (const std::string& cl :
         {std::to_string(kMaxBodyBytes + 1), std::string("-1"), std::string("12a"),
          std::string("99999999999999999999")}) {
        Cgi c{.env = {"CONTENT_LENGTH=" + cl}, .body = "{}"};
        const Request r = c.read();
        EXPECT_EQ(r.content_length, cl);  // kept, so the API can answer 400 or 413
        EXPECT_FALSE(r.body_read) << cl;
        EXPECT_EQ(c.asked, 0u) << cl;
    }
    Cgi at_cap{.env = {"CONTENT_LENGTH=" + std::to_string(kMaxBodyBytes)},
               .body = std::string(kMaxBodyBytes, 'x')};
    EXPECT_EQ(at_cap.read().body.size(), kMaxBodyBytes);
}

TEST(CgiEnv, EveryFieldIsRead) {
    Cgi c{.env = {"FCGI_ROLE=AUTHORIZER", "FCGI_APACHE_ROLE=AUTHENTICATOR", "GVX_MODE=authorize",
                  "CONTENT_TYPE=application/json", "HTTP_COOKIE=a=b", "HTTP_ORIGIN=https://o",
                  "HTTP_REFERER=https://o/x", "REMOTE_USER=alice", "REMOTE_PASSWD=pw",
                  "HTTP_USER_AGENT=git/2", "HTTP_X_API_KEY=k"}};
    const Request r = c.read();
    EXPECT_EQ(r.role, "AUTHORIZER");
    EXPECT_EQ(r.apache_role, "AUTHENTICATOR");
    EXPECT_EQ(r.mode, "authorize");
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.cookie, "a=b");
    EXPECT_EQ(r.origin, "https://o");
    EXPECT_EQ(r.referer, "https://o/x");
    EXPECT_EQ(r.remote_user, "alice");
    EXPECT_EQ(r.remote_passwd, "pw");
    EXPECT_EQ(r.user_agent, "git/2");
    EXPECT_EQ(r.api_key_header, "k");
}

TEST(CgiEnv, NullEnvironment) {
    const Request r = read_request(nullptr, [](char*, std::size_t) { return std::size_t{0}; });
    EXPECT_EQ(r.path, "");
    EXPECT_FALSE(r.body_read);
}

}  // namespace
}  // namespace gvx::fcgi
