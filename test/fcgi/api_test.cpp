// handle_api() called directly, Request -> Response, over a Store on a temporary file: routes,
// callers (REMOTE_USER, Bearer, x-api-key, better-auth cookie + trusted origins), body checks,
// field errors, isolation between users, activity and rate limiting.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sodium.h>

#include <memory>
#include <string>
#include <vector>

#include "api.hpp"
#include "context.hpp"
#include "credentials.hpp"
#include "wire_better_auth.hpp"
#include "test_db.hpp"

namespace gvx::fcgi {
namespace {

using gvx::testing::now_ms;
using gvx::testing::RawDb;
using gvx::testing::TempDb;

constexpr const char* kBase = "/api/auth/api-key";
constexpr const char* kSecret = "test-secret";
constexpr const char* kOrigin = "https://git.example.test";

rapidjson::Document parse(const std::string& body) {
    rapidjson::Document d;
    d.Parse(body.data(), body.size());
    EXPECT_FALSE(d.HasParseError()) << body;
    return d;
}

std::string code_of(const Response& r) {
    auto d = parse(r.body);
    if (!d.IsObject() || !d.HasMember("code") || !d["code"].IsString())
        return "";
    return d["code"].GetString();
}

std::string message_of(const Response& r) {
    auto d = parse(r.body);
    return d.IsObject() && d.HasMember("message") ? d["message"].GetString() : "";
}

class Api : public ::testing::Test {
   protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        auto s = Store::open(db_.path());
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
        options_.trust_remote_user = true;
        options_.trusted_origins = {kOrigin};
    }

    Response call(const Request& r) {
        Context ctx{*store_, options_, secret_, now_ms()};
        return handle_api(r, ctx);
    }

    static Request get(std::string endpoint, std::string user = "") {
        Request r;
        r.method = "GET";
        const auto q = endpoint.find('?');
        r.path = std::string(kBase) + endpoint.substr(0, q);
        if (q != std::string::npos)
            r.query = endpoint.substr(q + 1);
        r.remote_user = std::move(user);
        r.remote_addr = "192.0.2.1";
        return r;
    }

    static Request post(std::string endpoint, std::string body, std::string user = "") {
        Request r = get(std::move(endpoint), std::move(user));
        r.method = "POST";
        r.content_type = "application/json";
        r.content_length = std::to_string(body.size());
        r.body = std::move(body);
        r.body_read = true;
        return r;
    }

    rapidjson::Document create(const std::string& user, const std::string& name) {
        const Response r = call(post("/create", R"({"name":")" + name + R"("})", user));
        EXPECT_EQ(r.status, 200) << r.body;
        return parse(r.body);
    }

    std::vector<std::string> list_ids(const std::string& user) {
        const Response r = call(get("/list", user));
        EXPECT_EQ(r.status, 200) << r.body;
        std::vector<std::string> ids;
        auto d = parse(r.body);
        for (const auto& t : d.GetArray())
            ids.emplace_back(t["id"].GetString());
        return ids;
    }

    TempDb db_;
    std::unique_ptr<Store> store_;
    Options options_;
    std::string secret_;
};

TEST_F(Api, UnknownPathsAre404AndWrongMethods405) {
    for (const char* path :
         {"/", "/api/auth/api-key", "/api/auth/api-key/", "/api/auth/api-keyx/list",
          "/api/auth/api-key/nope", "/api/auth/api-key/list/", "/api/list"}) {
        Request r = get("", "alice");
        r.path = path;
        const Response res = call(r);
        EXPECT_EQ(res.status, 404) << path;
        EXPECT_EQ(code_of(res), "NOT_FOUND");
    }
    Response r = call(post("/list", "{}", "alice"));
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header_value("Allow"), "GET");
    r = call(get("/create", "alice"));
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header_value("Allow"), "POST");
    EXPECT_EQ(code_of(r), "METHOD_NOT_ALLOWED");
}

TEST_F(Api, NoCallerIs401) {
    Response r = call(get("/list"));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(code_of(r), "UNAUTHORIZED");
    options_.trust_remote_user = false;  // REMOTE_USER alone is not believed then
    r = call(get("/list", "alice"));
    EXPECT_EQ(r.status, 401);
}

TEST_F(Api, RoundTripAndIsolation) {
    auto a = create("alice", "laptop");
    auto b = create("bob", "desktop");
    const std::string a_id = a["id"].GetString();
    const std::string a_key = a["key"].GetString();
    EXPECT_EQ(a_key.size(), 68u);
    EXPECT_EQ(std::string(a["userId"].GetString()), "alice");
    EXPECT_EQ(list_ids("alice"), std::vector<std::string>{a_id});
    EXPECT_EQ(list_ids("bob"), std::vector<std::string>{b["id"].GetString()});
    const Response listed = call(get("/list", "alice"));
    EXPECT_EQ(listed.body.find(a_key), std::string::npos);
    EXPECT_EQ(listed.body.find("\"key\""), std::string::npos);

    // Bob sees the same 404 for Alice's token as for none at all.
    const std::string del = R"({"keyId":")" + a_id + R"("})";
    for (const Request& r : {post("/delete", del, "bob"),
                             post("/update", R"({"keyId":")" + a_id + R"(","name":"mine"})", "bob"),
                             get("/get?id=" + a_id, "bob"), get("/activity?id=" + a_id, "bob")}) {
        const Response res = call(r);
        EXPECT_EQ(res.status, 404) << r.path;
        EXPECT_EQ(res.body, R"({"code":"NOT_FOUND","message":"no such token"})");
    }
    EXPECT_EQ(call(get("/get?id=" + a_id, "alice")).status, 200);

    Response r = call(post("/delete", del, "alice"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"success":true})");
    EXPECT_TRUE(list_ids("alice").empty());
    EXPECT_EQ(call(post("/delete", del, "alice")).status, 404);
    auto v = store_->verify(a_key, {}, now_ms());
    ASSERT_TRUE(v);
    EXPECT_EQ(v->outcome, Outcome::invalid_key);
}

TEST_F(Api, BodyChecks) {
    Request r = post("/create", R"({"name":"abc"})", "alice");
    r.content_type = "text/plain";
    EXPECT_EQ(call(r).status, 415);
    r.content_type = "";
    EXPECT_EQ(call(r).status, 415);
    r.content_type = "application/jsonp";
    EXPECT_EQ(call(r).status, 415);
    r.content_type = "Application/JSON; charset=utf-8";
    EXPECT_EQ(call(r).status, 200) << call(r).body;

    r = post("/create", R"({"name":"abc"})", "alice");
    r.content_length.reset();
    r.body_read = false;
    EXPECT_EQ(call(r).status, 411);
    EXPECT_EQ(code_of(call(r)), "LENGTH_REQUIRED");

    r = post("/create", "", "alice");
    r.content_length = "65537";
    r.body_read = false;
    EXPECT_EQ(call(r).status, 413);
    r.content_length = "12x";
    EXPECT_EQ(call(r).status, 400);

    r = post("/create", R"({"name":"ab)", "alice");
    r.content_length = "100";
    EXPECT_EQ(code_of(call(r)), "TRUNCATED_BODY");

    for (const std::string& body :
         {std::string(R"({"name":"abc"})") + '\0' + "junk",
          std::string(R"({"name":"a)") + '\0' + R"(bc"})",
          std::string(R"({"name":"ab)") + "\xff\xfe" + R"("})", std::string("[1]"), std::string(""),
          std::string("{\"name\":"), std::string(R"({"name":"abc"} {})")}) {
        const Response res = call(post("/create", body, "alice"));
        EXPECT_EQ(res.status, 400) << body;
        EXPECT_EQ(code_of(res), "INVALID_JSON") << body;
    }
    EXPECT_EQ(list_ids("alice").size(), 1u);  // only the one with the odd Content-Type
}

TEST_F(Api, FieldErrorsNameTheField) {
    const std::string past = std::to_string(now_ms() - 1000);
    const std::pair<std::string, std::string> cases[] = {
        {R"({"name":"ab"})", "name must be 3 to 50 characters"},
        {R"({"name":"abc\u0000"})", "name must not contain NUL bytes"},
        {R"({"name":5})", "name must be a string"},
        {R"({})", "name is required"},
        {R"({"name":"abc","expiresAt":)" + past + "}", "expiresAt must be in the future"},
        {R"({"name":"abc","expiresAt":"soon"})", "expiresAt must be an integer"},
        {R"({"name":"abc","expiresIn":0})", "expiresIn must be a positive number"},
        {R"({"name":"abc","prefix":"no spaces"})", "prefix must match"},
        {R"({"name":"abc","metadata":[1]})", "metadata must be an object"},
    };
    for (const auto& [body, message] : cases) {
        const Response r = call(post("/create", body, "alice"));
        EXPECT_EQ(r.status, 400) << body;
        EXPECT_EQ(code_of(r), "INVALID_PARAMETER") << body;
        EXPECT_EQ(message_of(r).rfind(message, 0), 0u) << body << " -> " << r.body;
    }
    auto t = create("alice", "to update");
    const std::string id = t["id"].GetString();
    Response r =
        call(post("/update", R"({"keyId":")" + id + R"(","expiresAt":)" + past + "}", "alice"));
    EXPECT_EQ(message_of(r).rfind("expiresAt must be in the future", 0), 0u) << r.body;
    r = call(post("/update", R"({"keyId":")" + id + R"(","enabled":1})", "alice"));
    EXPECT_EQ(message_of(r), "enabled must be true or false");
    r = call(get("/activity?id=" + id + "&limit=1001", "alice"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(call(get("/get", "alice")).status, 400);
    EXPECT_EQ(call(get("/get?id=" + std::string(300, 'x'), "alice")).status, 400);
}

TEST_F(Api, MaximumLifetimeErrorNamesExpiresAt) {
    RawDb raw(db_.path());
    raw.exec("INSERT INTO gvx_config (name, value) VALUES ('max_token_lifetime_ms', 86400000)");
    const std::string later = std::to_string(now_ms() + 7 * 86400000LL);
    const Response r =
        call(post("/create", R"({"name":"abc","expiresAt":)" + later + "}", "alice"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(message_of(r).rfind("expiresAt is beyond the maximum token lifetime", 0), 0u)
        << r.body;
}

class CookieApi : public Api {
   protected:
    void SetUp() override {
        Api::SetUp();
        options_.trust_remote_user = false;
        secret_ = kSecret;
        RawDb raw(db_.path());
        raw.exec(
            "CREATE TABLE session (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, token TEXT "
            "NOT NULL UNIQUE, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, "
            "user_id TEXT NOT NULL)");
        raw.exec("INSERT INTO session VALUES ('1', " + std::to_string(now_ms() + 3600000) +
                 ", 'sessAlice', 0, 0, 'u_alice'), ('2', " + std::to_string(now_ms() - 1) +
                 ", 'sessOld', 0, 0, 'u_alice')");
    }

    static std::string cookie(const std::string& token,
                              const std::string& secret = kSecret,
                              const std::string& name = "better-auth.session_token") {
        std::string sig = sign_cookie_value(token, secret);
        std::string enc;
        for (char c : sig) {
            if (c == '+')
                enc += "%2B";
            else if (c == '/')
                enc += "%2F";
            else if (c == '=')
                enc += "%3D";
            else
                enc += c;
        }
        return "a=b; " + name + "=" + token + "." + enc;
    }
};

TEST_F(CookieApi, SessionCookieIdentifiesTheUser) {
    Request r = get("/list");
    r.cookie = cookie("sessAlice");
    EXPECT_EQ(call(r).status, 200) << call(r).body;
    r.cookie = cookie("sessAlice", kSecret, "__Secure-better-auth.session_token");
    EXPECT_EQ(call(r).status, 200);
    for (const std::string& bad :
         {cookie("sessOld"), cookie("sessNobody"), cookie("sessAlice", "x"),
          std::string("better-auth.session_token=sessAlice")}) {
        r.cookie = bad;
        const Response res = call(r);
        EXPECT_EQ(res.status, 401) << bad;
        EXPECT_EQ(code_of(res), "UNAUTHORIZED");
    }
}

// With secure cookies (better-auth behind https, as Gitflare runs it) only the __Secure- name
// is a session; --session-cookie plain is the reverse.
TEST_F(CookieApi, SessionCookieNameFollowsTheDeployment) {
    Request r = get("/list");
    const std::string secure = cookie("sessAlice", kSecret, "__Secure-better-auth.session_token");
    const std::string plain = cookie("sessAlice");
    options_.session_cookie = SessionCookie::secure;
    r.cookie = secure;
    EXPECT_EQ(call(r).status, 200);
    r.cookie = plain;
    EXPECT_EQ(call(r).status, 401);
    options_.session_cookie = SessionCookie::plain;
    EXPECT_EQ(call(r).status, 200);
    r.cookie = secure;
    EXPECT_EQ(call(r).status, 401);
}

// --wire better-auth: better-auth's token shape (ISO-8601 dates, its 20 fields) and codes.
TEST_F(CookieApi, BetterAuthWireShapes) {
    options_.wire = Wire::better_auth;
    Request c = post("/create", R"({"name":"laptop","prefix":"gvx_","metadata":{"a":1}})");
    c.cookie = cookie("sessAlice");
    c.origin = kOrigin;
    const Response created = call(c);
    ASSERT_EQ(created.status, 200) << created.body;
    auto d = parse(created.body);
    ASSERT_TRUE(d.IsObject());
    EXPECT_EQ(d.MemberCount(), 21u);  // 20 fields and the key
    EXPECT_TRUE(d["createdAt"].IsString());
    EXPECT_EQ(std::string(d["createdAt"].GetString()).size(), 24u);  // 2026-01-01T00:00:00.000Z
    EXPECT_TRUE(d["permissions"].IsNull());
    EXPECT_EQ(d["metadata"]["a"].GetInt(), 1);
    EXPECT_EQ(d["rateLimitMax"].GetInt(), 10);
    Request g = get(std::string("/get?id=") + d["id"].GetString());
    g.cookie = c.cookie;
    EXPECT_EQ(parse(call(g).body).MemberCount(), 20u);
    g = get("/get?id=nope");
    g.cookie = c.cookie;
    EXPECT_EQ(call(g).status, 404);
    EXPECT_EQ(code_of(call(g)), "API_KEY_NOT_FOUND");
    g = get("/list");
    EXPECT_EQ(call(g).status, 401);
    EXPECT_EQ(call(g).body, "");  // better-auth's session middleware says nothing more
    g = get("/create");
    g.cookie = c.cookie;
    EXPECT_EQ(call(g).status, 404);  // a wrong method is no route at all
    const std::string session = c.cookie;
    c = post("/create", R"({"name":"abc","remaining":5})");
    c.cookie = session;
    c.origin = kOrigin;
    EXPECT_EQ(call(c).status, 400);
    EXPECT_EQ(code_of(call(c)), "THE_PROPERTY_YOURE_TRYING_TO_SET_CAN_ONLY_BE_SET_FROM_THE_SERVER_AUTH_INSTANCE_ONLY");
}

TEST(BetterAuthWire, DatesAsJavaScriptWritesThem) {
    EXPECT_EQ(better_auth::iso8601(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(better_auth::iso8601(1795850501039), "2026-11-28T07:21:41.039Z");
    EXPECT_EQ(better_auth::iso8601(951782400000), "2000-02-29T00:00:00.000Z");
    EXPECT_EQ(better_auth::iso8601(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(better_auth::iso8601(253402300800000), "+010000-01-01T00:00:00.000Z");
}

TEST_F(CookieApi, ChangesNeedATrustedOrigin) {
    Request r = post("/create", R"({"name":"from a browser"})");
    r.cookie = cookie("sessAlice");
    EXPECT_EQ(call(r).status, 403);
    EXPECT_EQ(code_of(call(r)), "FORBIDDEN");
    r.origin = "https://evil.example";
    EXPECT_EQ(call(r).status, 403);
    r.origin = "";
    r.referer = std::string(kOrigin) + ".evil.example/x";
    EXPECT_EQ(call(r).status, 403);
    r.referer = std::string(kOrigin) + "/settings";
    EXPECT_EQ(call(r).status, 200);
    r.referer = "";
    r.origin = kOrigin;
    EXPECT_EQ(call(r).status, 200);
    auto tokens = store_->list("u_alice");
    ASSERT_TRUE(tokens);
    EXPECT_EQ(tokens->size(), 2u);  // the two with a trusted Origin or Referer, nothing else
}

TEST_F(Api, BearerAndApiKeyCallersAndRateLimit) {
    auto t = create("alice", "bearer");
    const std::string key = t["key"].GetString();
    Request r = get("/self");
    r.authorization = "Bearer " + key;
    EXPECT_EQ(call(r).status, 200);
    r.authorization.clear();
    r.api_key_header = key;
    EXPECT_EQ(call(r).status, 200);
    r.api_key_header = "gvx_" + std::string(64, 'A');
    Response bad = call(r);
    EXPECT_EQ(bad.status, 401);
    EXPECT_EQ(bad.body.find("gvx_AAAA"), std::string::npos);

    RawDb raw(db_.path());
    raw.exec(
        "INSERT INTO gvx_config (name, value) VALUES ('rate_limit_enabled', 1), "
        "('rate_limit_max', 2), ('rate_limit_time_window', 60000)");
    auto limited = create("alice", "limited");
    r.api_key_header.clear();
    r.authorization = std::string("Bearer ") + limited["key"].GetString();
    r.path = std::string(kBase) + "/self";
    EXPECT_EQ(call(r).status, 200);
    EXPECT_EQ(call(r).status, 200);
    const Response res = call(r);
    EXPECT_EQ(res.status, 429);
    EXPECT_EQ(code_of(res), "RATE_LIMITED");
    const std::string retry(res.header_value("Retry-After"));
    ASSERT_FALSE(retry.empty());
    EXPECT_GE(std::stoi(retry), 1);
    EXPECT_LE(std::stoi(retry), 60);
}

TEST_F(Api, ActivityNewestFirstWithUsage) {
    auto t = create("alice", "watched");
    const std::string id = t["id"].GetString();
    const std::string key = t["key"].GetString();
    for (const char* ip : {"198.51.100.1", "198.51.100.2"}) {
        auto v = store_->verify(key, ClientInfo{ip, "git/2.39", {}}, now_ms());
        ASSERT_TRUE(v);
        EXPECT_EQ(v->outcome, Outcome::ok);
    }
    Response r = call(get("/activity?id=" + id, "alice"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = parse(r.body);
    ASSERT_TRUE(d.IsArray());
    ASSERT_EQ(d.Size(), 2u);
    EXPECT_EQ(std::string(d[0]["ip"].GetString()), "198.51.100.2");
    EXPECT_EQ(std::string(d[1]["ip"].GetString()), "198.51.100.1");
    EXPECT_EQ(std::string(d[0]["outcome"].GetString()), "OK");
    EXPECT_EQ(r.body.find(key), std::string::npos);
    r = call(get("/get?id=" + id, "alice"));
    auto g = parse(r.body);
    EXPECT_EQ(g["requestCount"].GetInt64(), 2);
    EXPECT_TRUE(g["lastRequest"].IsInt64());
}

}  // namespace
}  // namespace gvx::fcgi
