// The audit trail through the API (handle_api called directly over a Store on a temporary
// file): every change is recorded with who, how, from where and what; GET /audit shows the
// caller their own tokens' entries only, never to a token; failed changes record nothing;
// hostile query values are refused; retention applies.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sodium.h>

#include <memory>
#include <string>
#include <vector>

#include "api.hpp"
#include "context.hpp"
#include "test_db.hpp"

namespace gvx::fcgi {
namespace {

using gvx::testing::now_ms;
using gvx::testing::RawDb;
using gvx::testing::TempDb;

constexpr const char* kBase = "/api/auth/api-key";
constexpr const char* kAgent = "Mozilla/5.0 (gvx audit test)";

rapidjson::Document parse(const std::string& body) {
    rapidjson::Document d;
    d.Parse(body.data(), body.size());
    EXPECT_FALSE(d.HasParseError()) << body;
    return d;
}

std::string str(const rapidjson::Value& v, const char* name) {
    const auto it = v.FindMember(name);
    return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "<none>";
}

class Audit : public ::testing::Test {
   protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        auto s = Store::open(db_.path());
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
        options_.trust_remote_user = true;
    }

    Response call(const Request& r) {
        Context ctx{*store_, options_, "", now_ms()};
        return handle_api(r, ctx);
    }

    static Request get(const std::string& endpoint, const std::string& user = "") {
        Request r;
        r.method = "GET";
        const auto q = endpoint.find('?');
        r.path = std::string(kBase) + endpoint.substr(0, q);
        if (q != std::string::npos) r.query = endpoint.substr(q + 1);
        r.remote_user = user;
        r.remote_addr = "192.0.2.7";
        r.user_agent = kAgent;
        return r;
    }

    static Request post(const std::string& endpoint, const std::string& body,
                        const std::string& user = "") {
        Request r = get(endpoint, user);
        r.method = "POST";
        r.content_type = "application/json";
        r.content_length = std::to_string(body.size());
        r.body = body;
        r.body_read = true;
        return r;
    }

    rapidjson::Document ok(const Request& r) {
        const Response res = call(r);
        EXPECT_EQ(res.status, 200) << r.path << ": " << res.body;
        return parse(res.body);
    }

    // The caller's audit entries, newest first.
    rapidjson::Document trail(const std::string& user, const std::string& query = "") {
        return ok(get("/audit" + query, user));
    }

    std::int64_t rows() {
        RawDb raw(db_.path());
        return std::stoll(raw.scalar("SELECT count(*) FROM gvx_audit"));
    }

    TempDb db_;
    std::unique_ptr<Store> store_;
    Options options_;
};

TEST_F(Audit, EveryChangeIsRecordedWithWhoHowWhereAndWhat) {
    auto made = ok(post("/create", R"({"name":"laptop","expiresIn":86400})", "alice"));
    const std::string id = made["id"].GetString();
    const std::string key = made["key"].GetString();
    ok(post("/update", R"({"keyId":")" + id + R"(","name":"work laptop"})", "alice"));
    ok(post("/update", R"({"keyId":")" + id + R"(","enabled":false})", "alice"));
    ok(post("/update", R"({"keyId":")" + id + R"(","enabled":true})", "alice"));
    ok(post("/update",
            R"({"keyId":")" + id +
                R"(","permissions":{"repo":["read"]},"metadata":{"team":"ops"}})",
            "alice"));
    auto rotated = ok(post("/rotate", R"({"keyId":")" + id + R"(","graceSeconds":60})", "alice"));
    const std::string new_id = rotated["id"].GetString();
    const std::string new_key = rotated["key"].GetString();
    ok(post("/delete", R"({"keyId":")" + new_id + R"("})", "alice"));

    const Response res = call(get("/audit", "alice"));
    ASSERT_EQ(res.status, 200) << res.body;
    for (const std::string& secret : {key, new_key, key.substr(4), new_key.substr(4)})
        EXPECT_EQ(res.body.find(secret), std::string::npos) << "a token in the audit trail";
    auto d = parse(res.body);
    ASSERT_TRUE(d.IsArray());
    const std::vector<std::string> want = {"delete",  "rotate", "update", "enable",
                                           "disable", "update", "create"};
    ASSERT_EQ(d.Size(), want.size()) << res.body;
    for (rapidjson::SizeType i = 0; i < d.Size(); ++i) {
        const auto& e = d[i];
        EXPECT_EQ(str(e, "action"), want[i]) << i;
        EXPECT_EQ(str(e, "owner"), "alice");
        EXPECT_EQ(str(e, "actor"), "alice");
        EXPECT_EQ(str(e, "via"), "remote_user");
        EXPECT_EQ(str(e, "ip"), "192.0.2.7");
        EXPECT_EQ(str(e, "userAgent"), kAgent);
        EXPECT_TRUE(e["at"].IsInt64());
        if (i > 0) {
            EXPECT_GE(d[i - 1]["at"].GetInt64(), e["at"].GetInt64());
        }
    }
    // Which token, by id and by its name then.
    EXPECT_EQ(str(d[0], "keyId"), new_id);
    EXPECT_EQ(str(d[1], "keyId"), id);
    EXPECT_EQ(str(d[6], "keyId"), id);
    EXPECT_EQ(str(d[6], "keyName"), "laptop");
    EXPECT_EQ(str(d[5], "keyName"), "work laptop");
    // What changed.
    EXPECT_EQ(str(d[5]["detail"], "name"), "work laptop");
    EXPECT_FALSE(d[4]["detail"]["enabled"].GetBool());
    EXPECT_TRUE(d[3]["detail"]["enabled"].GetBool());
    EXPECT_TRUE(d[2]["detail"]["permissions"].IsObject());
    EXPECT_TRUE(d[2]["detail"]["metadata"].GetBool());  // named as changed, not copied
    EXPECT_EQ(res.body.find("\"ops\""), std::string::npos);
    EXPECT_EQ(str(d[1]["detail"], "newKeyId"), new_id);
    EXPECT_EQ(d[1]["detail"]["graceMs"].GetInt64(), 60000);
    EXPECT_EQ(str(d[6]["detail"], "prefix"), "gvx_");
    EXPECT_TRUE(d[6]["detail"]["expiresAt"].IsInt64());
    EXPECT_TRUE(d[0]["detail"].IsNull());

    // ?id= narrows to one token; ?limit= to the newest entries.
    auto one = trail("alice", "?id=" + new_id);
    ASSERT_EQ(one.Size(), 1u);
    EXPECT_EQ(str(one[0], "action"), "delete");
    auto newest = trail("alice", "?limit=2");
    ASSERT_EQ(newest.Size(), 2u);
    EXPECT_EQ(str(newest[1], "action"), "rotate");

    // Nothing of either token is stored in the table, not even its hash.
    RawDb raw(db_.path());
    const std::string all = raw.scalar(
        "SELECT group_concat(coalesce(detail, '') || key_id || coalesce(key_name, ''), '|') "
        "FROM gvx_audit");
    for (const std::string& secret : {key.substr(4), new_key.substr(4)})
        EXPECT_EQ(all.find(secret), std::string::npos);
}

TEST_F(Audit, OnlyTheOwnerReadsItAndNeverAToken) {
    auto made = ok(post("/create", R"({"name":"alice's"})", "alice"));
    const std::string id = made["id"].GetString();
    ok(post("/create", R"({"name":"bob's"})", "bob"));
    auto bobs = trail("bob");
    ASSERT_EQ(bobs.Size(), 1u);
    EXPECT_EQ(str(bobs[0], "keyName"), "bob's");
    EXPECT_EQ(trail("bob", "?id=" + id).Size(), 0u);  // no oracle: simply nothing

    Request r = get("/audit");
    r.authorization = std::string("Bearer ") + made["key"].GetString();
    Response res = call(r);
    EXPECT_EQ(res.status, 403) << res.body;
    EXPECT_EQ(res.body.find("alice's"), std::string::npos);
    res = call(get("/audit"));
    EXPECT_EQ(res.status, 401);
    res = call(post("/audit", "{}", "alice"));
    EXPECT_EQ(res.status, 405);
    EXPECT_EQ(res.header_value("Allow"), "GET");
}

TEST_F(Audit, ATokenRotatingItselfIsRecordedAsTheToken) {
    auto made = ok(post("/create", R"({"name":"ci runner"})", "alice"));
    Request r = post("/rotate", "{}");
    r.authorization = std::string("Bearer ") + made["key"].GetString();
    r.remote_addr = "203.0.113.9";
    r.user_agent = "ci/1.0";
    auto rotated = ok(r);
    auto d = trail("alice");
    ASSERT_EQ(d.Size(), 2u);
    EXPECT_EQ(str(d[0], "action"), "rotate");
    EXPECT_EQ(str(d[0], "via"), "token");
    EXPECT_EQ(str(d[0], "actor"), "alice");
    EXPECT_EQ(str(d[0], "ip"), "203.0.113.9");
    EXPECT_EQ(str(d[0], "userAgent"), "ci/1.0");
    EXPECT_EQ(str(d[0]["detail"], "newKeyId"), std::string(rotated["id"].GetString()));
}

TEST_F(Audit, FailedChangesRecordNothing) {
    auto made = ok(post("/create", R"({"name":"bob's"})", "bob"));
    const std::string id = made["id"].GetString();
    ASSERT_EQ(rows(), 1);
    EXPECT_EQ(call(post("/create", R"({"name":"ab"})", "alice")).status, 400);
    EXPECT_EQ(call(post("/update", R"({"keyId":")" + id + R"(","enabled":false})", "alice"))
                  .status,
              404);
    EXPECT_EQ(call(post("/delete", R"({"keyId":")" + id + R"("})", "alice")).status, 404);
    EXPECT_EQ(call(post("/rotate", R"({"keyId":")" + id + R"("})", "alice")).status, 404);
    EXPECT_EQ(call(post("/delete", R"({"keyId":"no such token"})", "bob")).status, 404);
    EXPECT_EQ(call(post("/update", R"({"keyId":")" + id + R"(","name":"x"})", "bob")).status,
              400);
    EXPECT_EQ(rows(), 1);
}

TEST_F(Audit, HostileInputIsRefusedOrKeptHarmless) {
    auto made = ok(post("/create", R"({"name":"target"})", "alice"));
    const std::string id = made["id"].GetString();
    const std::vector<std::string> refused = {
        "?limit=0", "?limit=1001", "?limit=-1", "?limit=abc", "?limit=1e3", "?limit=", "?id=",
        "?id=" + std::string(256, 'x'), "?limit=99999999999999999999999"};
    for (const std::string& q : refused) {
        const Response res = call(get("/audit" + q, "alice"));
        EXPECT_EQ(res.status, 400) << q << ": " << res.body;
    }
    // SQL metacharacters and escapes are values, never SQL.
    for (const std::string q : {"?id=%27%20OR%201%3D1%20--", "?id=x%22%29%3B%20DROP%20TABLE",
                                "?id=%00", "?id=%E2%80%AE"}) {
        const Response res = call(get("/audit" + q, "alice"));
        EXPECT_TRUE(res.status == 200 || res.status == 400) << q;
        if (res.status == 200) {
            EXPECT_EQ(parse(res.body).Size(), 0u) << q;
        }
    }
    EXPECT_EQ(trail("alice").Size(), 1u);

    // A client's user agent and address are kept printable and bounded.
    Request r = post("/update", R"({"keyId":")" + id + R"(","enabled":false})", "alice");
    r.user_agent = "evil\x1b[2J\r\n" + std::string(1000, 'u');
    r.remote_addr = "198.51.100.1\n" + std::string(100, '9');
    ok(r);
    auto d = trail("alice");
    const std::string agent = str(d[0], "userAgent");
    EXPECT_EQ(agent.rfind("evil?[2J??", 0), 0u) << agent;
    EXPECT_LE(agent.size(), 256u);
    EXPECT_LE(str(d[0], "ip").size(), 64u);
    EXPECT_EQ(str(d[0], "ip").find('\n'), std::string::npos);
}

TEST_F(Audit, RetentionPurgesOldEntriesOnly) {
    ok(post("/create", R"({"name":"kept"})", "alice"));
    {
        RawDb raw(db_.path());
        raw.exec("INSERT INTO gvx_config (name, value) VALUES ('audit_retention_ms', 60000)");
        raw.exec("INSERT INTO gvx_audit (at, action, key_id, owner, actor, via) VALUES (" +
                 std::to_string(now_ms() - 120000) +
                 ", 'create', 'old', 'alice', 'alice', 'remote_user')");
    }
    ASSERT_EQ(rows(), 2);
    auto preview = store_->purge_preview(now_ms());
    ASSERT_TRUE(preview) << preview.error().message;
    EXPECT_EQ(preview->audit, 1);
    auto purged = store_->purge_batch(now_ms(), 100);
    ASSERT_TRUE(purged) << purged.error().message;
    EXPECT_EQ(purged->audit, 1);
    auto d = trail("alice");
    ASSERT_EQ(d.Size(), 1u);
    EXPECT_EQ(str(d[0], "keyName"), "kept");
}

}  // namespace
}  // namespace gvx::fcgi
