// authorize() called directly, Request -> Response, with the parameters each web server sends:
// lighttpd's and nginx's Authorization header, Apache mod_authnz_fcgi's check_user_id mode
// (FCGI_APACHE_ROLE=AUTHENTICATOR, the header through CGIPassAuth) and its AuthBasicProvider
// mode (REMOTE_USER and REMOTE_PASSWD, where the typed name must be the token's owner).
#include <gtest/gtest.h>
#include <sodium.h>

#include <memory>
#include <string>

#include "authorizer.hpp"
#include "context.hpp"
#include "credentials.hpp"
#include "test_db.hpp"

namespace gvx::fcgi {
namespace {

using gvx::testing::now_ms;
using gvx::testing::RawDb;
using gvx::testing::TempDb;

std::string basic(const std::string& user, const std::string& password) {
    const std::string plain = user + ":" + password;
    constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
    std::string out(sodium_base64_ENCODED_LEN(plain.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(plain.data()),
                      plain.size(), kVariant);
    out.pop_back();
    return "Basic " + out;
}

class Authorizer : public ::testing::Test {
   protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        auto s = Store::open(db_.path());
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
        alice_ = create("alice");
        bob_ = create("bob");
    }

    std::string create(const std::string& user) {
        auto t = store_->create(NewToken{.user_id = user, .name = user + " laptop"}, now_ms());
        EXPECT_TRUE(t) << t.error().message;
        return std::string(t->key.view());
    }

    Response call(const Request& r) {
        Context ctx{*store_, options_, "", now_ms()};
        return authorize(r, ctx);
    }

    // lighttpd ("mode" => "authorizer") and nginx (GVX_MODE=authorize) send the header.
    static Request with_header(std::string authorization) {
        Request r;
        r.role = "AUTHORIZER";
        r.method = "GET";
        r.path = "/git/project.git/info/refs";
        r.query = "service=git-receive-pack";
        r.authorization = std::move(authorization);
        r.remote_addr = "198.51.100.7";
        r.user_agent = "git/2.39.5";
        return r;
    }

    // Apache's check_user_id mode without AuthType Basic: the header, nothing parsed.
    static Request apache_check_user_id(std::string authorization) {
        Request r = with_header(std::move(authorization));
        r.apache_role = "AUTHENTICATOR";
        return r;
    }

    // Apache's AuthBasicProvider mode: what the client typed, parsed by Apache.
    static Request apache_basic_provider(std::string user, std::string password) {
        Request r = with_header("");
        r.apache_role = "AUTHENTICATOR";
        r.remote_user = std::move(user);
        r.remote_passwd = std::move(password);
        return r;
    }

    void expect_granted(const Response& r, const std::string& owner) {
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.header_value("Variable-REMOTE_USER"), owner);
        EXPECT_EQ(r.header_value("X-Gvx-User"), owner);
    }

    void expect_challenge(const Response& r) {
        EXPECT_EQ(r.status, 401) << r.body;
        EXPECT_EQ(r.header_value("WWW-Authenticate"), R"(Basic realm="gvx", charset="UTF-8")");
        EXPECT_EQ(r.header_value("Variable-REMOTE_USER"), "");
        EXPECT_EQ(r.body.find("gvx_"), std::string::npos) << r.body;  // no token echoed
    }

    std::string last_outcome() {
        RawDb raw(db_.path());
        return raw.scalar("SELECT outcome FROM gvx_activity ORDER BY id DESC LIMIT 1");
    }

    TempDb db_;
    std::unique_ptr<Store> store_;
    Options options_;
    std::string alice_, bob_;
};

TEST_F(Authorizer, EveryCredentialFormGitSends) {
    expect_granted(call(with_header(basic("alice", alice_))), "alice");
    expect_granted(call(with_header(basic(alice_, ""))), "alice");
    expect_granted(call(with_header(basic(alice_, "x-oauth-basic"))), "alice");
    expect_granted(call(with_header("Bearer " + alice_)), "alice");
    expect_granted(call(apache_check_user_id(basic("alice", alice_))), "alice");
    expect_granted(call(apache_check_user_id(basic(alice_, ""))), "alice");
    expect_granted(call(apache_basic_provider("alice", alice_)), "alice");
}

TEST_F(Authorizer, RefusalsAreChallenges) {
    expect_challenge(call(with_header("")));
    expect_challenge(call(with_header("Basic !!!")));
    expect_challenge(call(with_header(basic("alice", "gvx_" + std::string(64, 'x')))));
    EXPECT_EQ(last_outcome(), "INVALID_API_KEY");
    expect_challenge(call(apache_check_user_id("")));
    expect_challenge(call(apache_basic_provider("alice", "wrong")));

    RawDb raw(db_.path());
    raw.exec("UPDATE apikey SET expires_at = 1 WHERE user_id = 'bob'");
    expect_challenge(call(with_header(basic("bob", bob_))));
    EXPECT_EQ(last_outcome(), "KEY_EXPIRED");
    raw.exec("UPDATE apikey SET expires_at = NULL, enabled = 0 WHERE user_id = 'bob'");
    expect_challenge(call(with_header(basic("bob", bob_))));
    EXPECT_EQ(last_outcome(), "KEY_DISABLED");
    raw.exec("DELETE FROM apikey WHERE user_id = 'bob'");
    expect_challenge(call(with_header(basic("bob", bob_))));
    EXPECT_EQ(last_outcome(), "INVALID_API_KEY");
}

// Where the server takes the typed name as the user, it must be the token's owner.
TEST_F(Authorizer, ApacheBasicProviderNameMustBeTheOwner) {
    expect_challenge(call(apache_basic_provider("bob", alice_)));
    EXPECT_EQ(last_outcome(), "USER_MISMATCH");
    // The token typed as the name would become Apache's user: refused.
    expect_challenge(call(apache_basic_provider(alice_, "")));
    expect_challenge(call(apache_basic_provider(alice_, "x-oauth-basic")));
    // An empty name names nobody.
    expect_challenge(call(apache_basic_provider("", alice_)));
    // better-auth's user.username names the owner too.
    RawDb raw(db_.path());
    raw.exec(R"(CREATE TABLE "user" (id TEXT PRIMARY KEY, username TEXT))");
    raw.exec(R"(INSERT INTO "user" VALUES ('usr_1', 'carol'))");
    const std::string carol = create("usr_1");
    auto s = Store::open(db_.path());  // a process started after the table was made
    ASSERT_TRUE(s);
    store_ = std::move(*s);
    expect_granted(call(apache_basic_provider("carol", carol)), "usr_1");
    expect_granted(call(apache_basic_provider("usr_1", carol)), "usr_1");
    expect_challenge(call(apache_basic_provider("alice", carol)));
}

// Elsewhere the owner is the user whatever was typed, unless --strict-username.
TEST_F(Authorizer, OtherServersNameTheOwner) {
    expect_granted(call(with_header(basic("bob", alice_))), "alice");
    expect_granted(call(apache_check_user_id(basic("bob", alice_))), "alice");
    options_.strict_username = true;
    expect_challenge(call(with_header(basic("bob", alice_))));
    expect_granted(call(with_header(basic("alice", alice_))), "alice");
    expect_granted(call(with_header(basic(alice_, ""))), "alice");
}

TEST_F(Authorizer, RateLimitIs429WithRetryAfter) {
    RawDb raw(db_.path());
    raw.exec("INSERT INTO gvx_config (name, value) VALUES ('rate_limit_enabled', 1), "
             "('rate_limit_max', 2), ('rate_limit_time_window', 60000)");
    expect_granted(call(with_header(basic("alice", alice_))), "alice");
    expect_granted(call(with_header(basic("alice", alice_))), "alice");
    const Response r = call(with_header(basic("alice", alice_)));
    EXPECT_EQ(r.status, 429) << r.body;
    const int retry = std::stoi(std::string(r.header_value("Retry-After")));
    EXPECT_GT(retry, 0);
    EXPECT_LE(retry, 60);
    EXPECT_EQ(last_outcome(), "RATE_LIMITED");
}

TEST_F(Authorizer, EachCheckIsCountedWithTheClient) {
    for (int i = 0; i < 3; ++i) call(with_header(basic("alice", alice_)));
    call(with_header(basic("alice", "gvx_no" + std::string(62, 'n'))));  // a token's shape
    RawDb raw(db_.path());
    EXPECT_EQ(raw.scalar("SELECT request_count FROM apikey WHERE user_id = 'alice'"), "3");
    EXPECT_EQ(raw.scalar("SELECT sum(count) FROM gvx_activity WHERE ip = '198.51.100.7' AND "
                       "user_agent = 'git/2.39.5'"),
              "4");
    EXPECT_EQ(raw.scalar("SELECT key_start FROM gvx_activity ORDER BY id DESC LIMIT 1"), "gvx_no");
    // A mistyped password is counted, and nothing of it kept.
    call(with_header(basic("alice", "Summer2024!")));
    EXPECT_EQ(raw.scalar("SELECT quote(key_start) || count FROM gvx_activity ORDER BY id DESC "
                         "LIMIT 1"),
              "''1");
}

}  // namespace
}  // namespace gvx::fcgi
