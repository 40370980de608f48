// Least privilege in gvx-fcgi (SPEC §13), handlers called directly over a Store on a
// temporary file: the authorizer's 403 for requests a token's permissions do not cover, tokens
// that cannot manage tokens, /self, /rotate, and /update applying what it accepts.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sodium.h>

#include <string>

#include "api.hpp"
#include "authorizer.hpp"
#include "context.hpp"
#include "test_db.hpp"

namespace gvx::fcgi {
namespace {

using gvx::testing::now_ms;
using gvx::testing::RawDb;
using gvx::testing::TempDb;

constexpr const char* kBase = "/api/auth/api-key";

rapidjson::Document parse(const std::string& body) {
    rapidjson::Document d;
    d.Parse(body.data(), body.size());
    EXPECT_FALSE(d.HasParseError()) << body;
    return d;
}

std::string code_of(const Response& r) {
    auto d = parse(r.body);
    return d.IsObject() && d.HasMember("code") && d["code"].IsString() ? d["code"].GetString()
                                                                        : "";
}

std::string basic(const std::string& user, const std::string& password) {
    const std::string plain = user + ":" + password;
    constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
    std::string out(sodium_base64_ENCODED_LEN(plain.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(plain.data()),
                      plain.size(), kVariant);
    out.pop_back();
    return "Basic " + out;
}

class Scopes : public ::testing::Test {
   protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        auto s = Store::open(db_.path());
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
        options_.trust_remote_user = true;
    }

    // A token of alice's with these permissions (nullptr: NULL); its key and id.
    std::pair<std::string, std::string> token(const char* permissions,
                                              std::optional<std::int64_t> expires = {}) {
        NewToken t{.user_id = "alice", .name = "scoped token", .expires_at = expires};
        if (permissions) t.permissions = permissions;
        auto c = store_->create(t, now_ms());
        EXPECT_TRUE(c) << c.error().message;
        return {std::string(c->key.view()), c->record.id};
    }

    Response authorize_uri(const std::string& key, std::string_view uri, const char* method) {
        Request r;
        r.role = "AUTHORIZER";
        r.method = method;
        const std::size_t q = uri.find('?');
        r.path = std::string(uri.substr(0, q));
        if (q != std::string_view::npos) r.query = std::string(uri.substr(q + 1));
        r.authorization = basic("git", key);
        r.remote_addr = "198.51.100.7";
        Context ctx{*store_, options_, "", now_ms()};
        return authorize(r, ctx);
    }

    Response api(const std::string& method, const std::string& endpoint, const std::string& body,
                 const std::string& user, const std::string& bearer = "") {
        Request r;
        r.method = method;
        const auto q = endpoint.find('?');
        r.path = std::string(kBase) + endpoint.substr(0, q);
        if (q != std::string::npos) r.query = endpoint.substr(q + 1);
        r.remote_user = user;
        if (!bearer.empty()) r.authorization = "Bearer " + bearer;
        r.remote_addr = "192.0.2.1";
        if (method == "POST") {
            r.content_type = "application/json";
            r.content_length = std::to_string(body.size());
            r.body = body;
            r.body_read = true;
        }
        Context ctx{*store_, options_, "", now_ms()};
        return handle_api(r, ctx);
    }

    std::int64_t count() { return std::stoll(RawDb(db_.path()).scalar("SELECT count(*) FROM apikey")); }

    bool verifies(const std::string& key) {
        auto v = store_->verify(key, ClientInfo{}, now_ms());
        return v && v->outcome == Outcome::ok;
    }

    TempDb db_;
    std::unique_ptr<Store> store_;
    Options options_;
};

TEST_F(Scopes, ReadOnlyTokenReadsButCannotPush) {
    const auto [key, id] = token(R"({"repo":["read"]})");
    EXPECT_EQ(authorize_uri(key, "/git/a/p.git/info/refs?service=git-upload-pack", "GET").status,
              200);
    EXPECT_EQ(authorize_uri(key, "/git/a/p.git/git-upload-pack", "POST").status, 200);
    for (const auto& [uri, method] :
         {std::pair{"/git/a/p.git/info/refs?service=git-receive-pack", "GET"},
          std::pair{"/git/a/p.git/git-receive-pack", "POST"},
          std::pair{"/git/a/p.git/info/refs?service=git-upload-pack&service=git-receive-pack",
                    "GET"}}) {
        const Response r = authorize_uri(key, uri, method);
        EXPECT_EQ(r.status, 403) << uri;
        EXPECT_EQ(code_of(r), "INSUFFICIENT_PERMISSIONS") << uri;
        EXPECT_TRUE(r.header_value("WWW-Authenticate").empty()) << uri;  // no new credentials
        EXPECT_TRUE(r.header_value("Variable-REMOTE_USER").empty()) << uri;
    }
    RawDb raw(db_.path());
    // Refusals are counted (sql/003_activity_counts.sql): one row may stand for several.
    EXPECT_EQ(raw.scalar("SELECT sum(count) FROM gvx_activity WHERE key_id = '" + id +
                         "' AND outcome = 'INSUFFICIENT_PERMISSIONS'"),
              "3");
    EXPECT_EQ(raw.scalar("SELECT request_count FROM apikey WHERE id = '" + id + "'"), "2");
}

TEST_F(Scopes, OneRepositoryToken) {
    const auto [key, id] = token(R"({"repo:alice/project":["read","write"]})");
    EXPECT_EQ(authorize_uri(key, "/git/alice/project.git/git-receive-pack", "POST").status, 200);
    EXPECT_EQ(authorize_uri(key, "/git/alice/project/info/refs", "GET").status, 200);
    for (const char* uri : {"/git/alice/other.git/git-upload-pack",
                            "/git/alice/project.git/../other.git/git-upload-pack",
                            "/git/alice/%2e%2e/alice/project.git/git-upload-pack",
                            "/git//alice/project.git/git-upload-pack",
                            "/git/alice%2Fproject.git/git-upload-pack",
                            "/git/ALICE/PROJECT.git/git-upload-pack",
                            "/git/alice/project.git/config", "/elsewhere/alice/project.git/HEAD"})
        EXPECT_EQ(authorize_uri(key, uri, "GET").status, 403) << uri;
}

TEST_F(Scopes, NullPermissionsKeepFullAccess) {
    const auto [key, id] = token(nullptr);
    for (const char* uri : {"/git/alice/project.git/git-receive-pack",
                            "/git/alice/../x.git/git-receive-pack", "/anything"})
        EXPECT_EQ(authorize_uri(key, uri, "POST").status, 200) << uri;
}

TEST_F(Scopes, GitRootIsConfigurable) {
    const auto [key, id] = token(R"({"repo:project":["read"]})");
    EXPECT_EQ(authorize_uri(key, "/srv/project.git/HEAD", "GET").status, 403);
    options_.git_root = "/srv/";
    EXPECT_EQ(authorize_uri(key, "/srv/project.git/HEAD", "GET").status, 200);
}

TEST_F(Scopes, TokensCannotManageTokens) {
    const auto [key, id] = token(nullptr, now_ms() + 3'600'000);
    const auto [other, other_id] = token(nullptr);
    const std::int64_t before = count();
    for (const auto& [method, endpoint, body] : std::initializer_list<
             std::tuple<std::string, std::string, std::string>>{
             {"POST", "/create", R"({"name":"minted"})"},
             {"GET", "/list", ""},
             {"GET", "/get?id=" + other_id, ""},
             {"GET", "/activity?id=" + id, ""},
             {"POST", "/update", R"({"keyId":")" + id + R"(","expiresAt":null})"},
             {"POST", "/delete", R"({"keyId":")" + other_id + R"("})"}}) {
        const Response r = api(method, endpoint, body, "", key);
        EXPECT_EQ(r.status, 403) << endpoint << r.body;
        EXPECT_EQ(code_of(r), "FORBIDDEN") << endpoint;
    }
    EXPECT_EQ(count(), before);
    EXPECT_TRUE(verifies(other));
    RawDb raw(db_.path());
    EXPECT_EQ(raw.scalar("SELECT expires_at IS NOT NULL FROM apikey WHERE id = '" + id + "'"), "1");
}

TEST_F(Scopes, SelfIsTheTokenItselfWithoutItsKey) {
    const auto [key, id] = token(R"({"repo":["read"]})");
    const Response r = api("GET", "/self", "", "", key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = parse(r.body);
    EXPECT_EQ(std::string(d["id"].GetString()), id);
    EXPECT_TRUE(d["permissions"]["repo"].IsArray());
    EXPECT_FALSE(d.HasMember("key"));
    EXPECT_EQ(r.body.find(key), std::string::npos);
    const Response person = api("GET", "/self", "", "alice");
    EXPECT_EQ(person.status, 401);
    EXPECT_EQ(person.header_value("WWW-Authenticate"), "Bearer");
}

TEST_F(Scopes, RotateAsTheTokenItself) {
    const auto [key, id] = token(R"({"repo:alice/project":["read","write"]})");
    const auto [victim, victim_id] = token(nullptr);
    EXPECT_EQ(api("POST", "/rotate", R"({"keyId":")" + victim_id + R"("})", "", key).status, 403);
    const Response r = api("POST", "/rotate", "{}", "", key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = parse(r.body);
    const std::string new_key = d["key"].GetString();
    EXPECT_NE(new_key, key);
    EXPECT_EQ(std::string(d["name"].GetString()), "scoped token");
    EXPECT_TRUE(d["permissions"]["repo:alice/project"].IsArray());
    EXPECT_FALSE(verifies(key));
    EXPECT_TRUE(verifies(new_key));
    EXPECT_TRUE(verifies(victim));
}

TEST_F(Scopes, RotateWithGraceAndRefusals) {
    const auto [key, id] = token(R"({"repo":["read"]})");
    const std::int64_t before = count();
    for (const std::string& body : std::initializer_list<std::string>{
             R"({})", R"({"keyId":5})", R"({"keyId":")" + id + R"(","graceSeconds":-1})",
          R"({"keyId":")" + id + R"(","graceSeconds":604801})",
          R"({"keyId":")" + id + R"(","graceSeconds":"60"})",
          R"({"keyId":")" + id + R"(","graceSeconds":1.5})",
          R"({"keyId":")" + id + R"(","expiresIn":0})"}) {
        const Response r = api("POST", "/rotate", body, "alice");
        EXPECT_EQ(r.status, 400) << body << r.body;
    }
    EXPECT_EQ(api("POST", "/rotate", R"({"keyId":")" + id + R"("})", "bob").status, 404);
    EXPECT_EQ(count(), before);
    const Response r =
        api("POST", "/rotate", R"({"keyId":")" + id + R"(","graceSeconds":3600})", "alice");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(verifies(key));  // within the grace
    RawDb raw(db_.path());
    const std::int64_t ends = std::stoll(raw.scalar("SELECT expires_at FROM apikey WHERE id = '" + id + "'"));
    EXPECT_NEAR(static_cast<double>(ends - now_ms()), 3'600'000.0, 60'000.0);
    EXPECT_FALSE(store_->verify(key, ClientInfo{}, now_ms() + 3'601'000)->outcome == Outcome::ok);
}

TEST_F(Scopes, UpdateAppliesOrRefusesEverything) {
    const auto [key, id] = token(nullptr);
    Response r = api("POST", "/update",
                     R"({"keyId":")" + id +
                         R"(","expiresIn":60,"metadata":{"a":1},"permissions":{"repo":["read"]}})",
                     "alice");
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = parse(r.body);
    EXPECT_NEAR(static_cast<double>(d["expiresAt"].GetInt64() - now_ms()), 60'000.0, 5'000.0);
    EXPECT_EQ(d["metadata"]["a"].GetInt(), 1);
    EXPECT_TRUE(d["permissions"]["repo"].IsArray());
    for (const char* field : {"rateLimitMax", "remaining", "prefix", "userId", "refillInterval"}) {
        r = api("POST", "/update", R"({"keyId":")" + id + "\",\"" + field + R"(":1})", "alice");
        EXPECT_EQ(r.status, 400) << field;
        EXPECT_NE(r.body.find(field), std::string::npos) << r.body;
    }
    for (const std::string bad :
         {R"("expiresIn":-1)", R"("expiresIn":1,"expiresAt":null)", R"("metadata":[1])",
          R"("permissions":{"repo":["admin"]})", R"("permissions":"repo")"}) {
        r = api("POST", "/update", R"({"keyId":")" + id + "\"," + bad + "}", "alice");
        EXPECT_EQ(r.status, 400) << bad << r.body;
    }
    // null metadata and permissions clear them: NULL permissions are full access again.
    r = api("POST", "/update", R"({"keyId":")" + id + R"(","metadata":null,"permissions":null})",
            "alice");
    ASSERT_EQ(r.status, 200) << r.body;
    d = parse(r.body);
    EXPECT_TRUE(d["metadata"].IsNull());
    EXPECT_TRUE(d["permissions"].IsNull());
}

TEST_F(Scopes, LifetimeCapCountsFromCreation) {
    RawDb raw(db_.path());
    raw.exec("INSERT INTO gvx_config (name, value) VALUES ('max_token_lifetime_ms', 86400000)");
    const auto [key, id] = token(nullptr);
    raw.exec("UPDATE apikey SET created_at = created_at - 43200000 WHERE id = '" + id + "'");
    const std::int64_t created =
        std::stoll(raw.scalar("SELECT created_at FROM apikey WHERE id = '" + id + "'"));
    const std::string keep = R"({"keyId":")" + id + "\",";
    EXPECT_EQ(api("POST", "/update", keep + R"("expiresIn":50000})", "alice").status, 400);
    EXPECT_EQ(api("POST", "/update", keep + R"("expiresAt":null})", "alice").status, 400);
    EXPECT_EQ(api("POST", "/update",
                  keep + "\"expiresAt\":" + std::to_string(created + 86'400'000 + 1) + "}", "alice")
                  .status,
              400);
    EXPECT_EQ(api("POST", "/update",
                  keep + "\"expiresAt\":" + std::to_string(created + 86'400'000) + "}", "alice")
                  .status,
              200);
}

}  // namespace
}  // namespace gvx::fcgi
