// The PostgreSQL store against a real PostgreSQL 15 (test/postgres/with_postgres.py starts it
// and names it in GVX_TEST_PG / GVX_TEST_PG_ADMIN). Each test gets a database of its own.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/token.hpp"
#include "pg/pg_store.hpp"

namespace gvx::pg {
namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// A plain libpq connection for setting up and checking, outside the store.
class Admin {
   public:
    explicit Admin(const std::string& uri) : c_(PQconnectdb(uri.c_str())) {
        EXPECT_EQ(PQstatus(c_.get()), CONNECTION_OK) << PQerrorMessage(c_.get());
    }
    std::string value(const std::string& sql) {
        ResultPtr r{PQexec(c_.get(), sql.c_str())};
        const auto s = PQresultStatus(r.get());
        EXPECT_TRUE(s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
            << sql << ": " << PQerrorMessage(c_.get());
        if (s != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) return "";
        return PQgetvalue(r.get(), 0, 0);
    }

   private:
    ConnPtr c_;
};

// A database of the test's own, owned by role gvx; uri() reaches it as gvx.
class TestDatabase {
   public:
    TestDatabase() {
        const auto* info = testing::UnitTest::GetInstance()->current_test_info();
        name_ = std::string("t_") + info->test_suite_name() + "_" + info->name();
        for (char& c : name_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        Admin admin(env("GVX_TEST_PG_ADMIN"));
        admin.value("DROP DATABASE IF EXISTS " + name_);
        admin.value("CREATE DATABASE " + name_ + " OWNER gvx");
    }
    std::string uri() const {
        std::string base = env("GVX_TEST_PG");  // postgresql://gvx@host:port/gvx?...
        const std::size_t slash = base.find('/', std::string("postgresql://").size());
        const std::size_t query = base.find('?', slash);
        return base.substr(0, slash + 1) + name_ +
               (query == std::string::npos ? "" : base.substr(query));
    }
    Admin admin() const { return Admin(uri()); }

   private:
    std::string name_;
};

class PgStoreTest : public ::testing::Test {
   protected:
    void SetUp() override {
        if (env("GVX_TEST_PG").empty()) GTEST_SKIP() << "GVX_TEST_PG is not set";
        ASSERT_GE(sodium_init(), 0);
    }
};

std::string make_token(PgStore& s, std::string_view user, std::string_view name = "a token") {
    auto c = s.create(NewToken{.user_id = user, .name = name}, now_ms());
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? std::string(c->key.view()) : std::string();
}

TEST_F(PgStoreTest, CreateVerifyListRevoke) {
    TestDatabase db;
    PgStore s(db.uri());
    auto c = s.create(NewToken{.user_id = "alice", .name = "laptop", .metadata = "{\"a\":1}"},
                      now_ms());
    ASSERT_TRUE(c) << c.error().message;
    const std::string key(c->key.view());
    EXPECT_EQ(key.size(), 68u);
    EXPECT_EQ(db.admin().value("SELECT key FROM apikey WHERE id = '" + c->record.id + "'"),
              hash_key(key));

    auto v = s.verify(key, ClientInfo{.ip = "203.0.113.1", .user_agent = "git/2"}, now_ms());
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->outcome, Outcome::ok);
    EXPECT_EQ(v->record->user_id, "alice");
    EXPECT_EQ(v->record->request_count, 1);

    auto listed = s.list("alice");
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].metadata, "{\"a\":1}");
    EXPECT_EQ((*listed)[0].request_count, 1);
    EXPECT_TRUE(s.list("bob")->empty());

    auto acts = s.activity(c->record.id, "alice", 10);
    ASSERT_TRUE(acts);
    ASSERT_EQ(acts->size(), 1u);
    EXPECT_EQ((*acts)[0].outcome, "OK");
    EXPECT_EQ((*acts)[0].ip, "203.0.113.1");
    EXPECT_FALSE(s.activity(c->record.id, "bob", 10));  // not bob's: not found

    EXPECT_FALSE(*s.revoke(c->record.id, std::string_view("bob")));
    EXPECT_TRUE(*s.revoke(c->record.id, std::string_view("alice")));
    EXPECT_EQ(s.verify(key, {}, now_ms())->outcome, Outcome::invalid_key);
    EXPECT_FALSE(*s.revoke(c->record.id, std::nullopt));
}

TEST_F(PgStoreTest, RefusalsAndTheirActivity) {
    TestDatabase db;
    PgStore s(db.uri());
    const std::int64_t now = now_ms();
    auto expiring = s.create(NewToken{.user_id = "u", .name = "short", .expires_at = now + 50},
                             now);
    ASSERT_TRUE(expiring);
    EXPECT_EQ(s.verify(expiring->key.view(), {}, now + 100)->outcome, Outcome::expired);

    const std::string key = make_token(s, "u", "to disable");
    auto listed = s.list("u");
    const std::string id = (*listed)[1].id;
    TokenChanges off;
    off.enabled = false;
    auto updated = s.update(id, "u", off, now_ms());
    ASSERT_TRUE(updated && *updated);
    EXPECT_FALSE((*updated)->enabled);
    EXPECT_EQ(s.verify(key, {}, now_ms())->outcome, Outcome::disabled);

    // An unknown credential with a token's shape keeps its start; anything else nothing.
    EXPECT_EQ(s.verify("gvx_un" + std::string(62, 'x'), {}, now_ms())->outcome,
              Outcome::invalid_key);
    EXPECT_EQ(s.verify(std::string(5000, 'x'), {}, now_ms())->outcome, Outcome::invalid_key);
    EXPECT_EQ(s.verify(std::string("gvx_\0\xff", 6), {}, now_ms())->outcome,
              Outcome::invalid_key);
    Admin a = db.admin();
    EXPECT_EQ(a.value("SELECT count(*) FROM gvx_activity WHERE key_id IS NULL"), "3");
    EXPECT_EQ(a.value("SELECT key_start FROM gvx_activity WHERE key_id IS NULL ORDER BY id "
                      "LIMIT 1"),
              "gvx_un");
    EXPECT_EQ(a.value("SELECT count(*) FROM gvx_activity WHERE key_start = ''"), "2");

    // Bad input is refused before the database sees it.
    EXPECT_FALSE(s.create(NewToken{.user_id = "u", .name = "ab"}, now_ms()));
    EXPECT_FALSE(s.create(NewToken{.user_id = "u", .name = std::string_view("a\0bc", 4)},
                          now_ms()));
    EXPECT_FALSE(s.create(NewToken{.user_id = "", .name = "abc"}, now_ms()));
    EXPECT_FALSE(*s.get(std::string_view("x\0y", 3), "u"));
    EXPECT_FALSE(*s.revoke("' OR 1=1 --", std::nullopt));
    EXPECT_EQ(a.value("SELECT count(*) FROM apikey"), "2");
}

TEST_F(PgStoreTest, ConcurrentFirstStartsMigrateOnce) {
    TestDatabase db;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([&] {
            PgStore s(db.uri());
            if (s.prepare()) ++ok;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 6);
    EXPECT_EQ(db.admin().value("SELECT value FROM gvx_meta WHERE name = 'schema_version'"), "1");
}

// Eight connections verify one token at once: every success is counted, exactly once.
TEST_F(PgStoreTest, UsageIsExactUnderConcurrency) {
    TestDatabase db;
    std::string key;
    {
        PgStore s(db.uri());
        key = make_token(s, "alice");
    }
    constexpr int kThreads = 8, kEach = 25;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&] {
            PgStore s(db.uri());
            for (int j = 0; j < kEach; ++j) {
                auto v = s.verify(key, {}, now_ms());
                if (v && v->outcome == Outcome::ok) ++ok;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), kThreads * kEach);
    Admin a = db.admin();
    EXPECT_EQ(a.value("SELECT request_count FROM apikey"), std::to_string(kThreads * kEach));
    EXPECT_EQ(a.value("SELECT count(*) FROM gvx_activity WHERE outcome = 'OK'"),
              std::to_string(kThreads * kEach));
}

TEST_F(PgStoreTest, RateLimitAdmitsExactlyMaxUnderConcurrency) {
    TestDatabase db;
    Admin a = db.admin();
    std::string key;
    {
        PgStore s(db.uri());
        key = make_token(s, "alice");
    }
    a.value("INSERT INTO gvx_config (name, value) VALUES ('rate_limit_enabled', '1'), "
            "('rate_limit_max', '37'), ('rate_limit_time_window', '600000')");
    std::atomic<int> ok{0}, limited{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            PgStore s(db.uri());
            for (int j = 0; j < 10; ++j) {
                auto v = s.verify(key, {}, now_ms());
                if (v && v->outcome == Outcome::ok) ++ok;
                if (v && v->outcome == Outcome::rate_limited) {
                    ++limited;
                    EXPECT_GT(v->retry_after_ms, 0);
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 37);
    EXPECT_EQ(limited.load(), 80 - 37);
    EXPECT_EQ(a.value("SELECT request_count FROM apikey"), "37");
    EXPECT_EQ(a.value("SELECT count FROM gvx_rate_window"), "37");
}

// The server ends our session (as a restart or failover does): the next call reconnects.
TEST_F(PgStoreTest, ReconnectsAfterTheServerDropsTheConnection) {
    TestDatabase db;
    PgStore s(db.uri());
    const std::string key = make_token(s, "alice");
    const auto before = s.connection().connects();
    Admin a = db.admin();
    a.value("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
            "current_database() AND pid <> pg_backend_pid()");
    auto v = s.verify(key, {}, now_ms());
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->outcome, Outcome::ok);
    EXPECT_EQ(s.connection().connects(), before + 1);
    EXPECT_EQ(a.value("SELECT request_count FROM apikey"), "1");
}

// Nothing listens: the call fails as busy (HTTP 503) within the connect timeout.
TEST_F(PgStoreTest, UnreachableServerFailsFastAsBusy) {
    PgStore s("postgresql://gvx@127.0.0.1:1/gvx?connect_timeout=2");
    const auto started = std::chrono::steady_clock::now();
    auto v = s.verify("gvx_x", {}, now_ms());
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, Errc::busy);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
    EXPECT_TRUE(is_conninfo("postgresql://h/db"));
    EXPECT_TRUE(is_conninfo("host=db1 dbname=gvx"));
    EXPECT_FALSE(is_conninfo("/var/lib/gvx/gvx.db"));
    EXPECT_FALSE(is_conninfo("gvx.db"));
}

TEST_F(PgStoreTest, PurgeRemovesExpiredTokensAndOldActivityInBatches) {
    TestDatabase db;
    PgStore s(db.uri());
    const std::int64_t now = now_ms();
    for (int i = 0; i < 25; ++i) {
        ASSERT_TRUE(s.create(NewToken{.user_id = "u", .name = "expiring", .expires_at = now + 10},
                             now));
    }
    const std::string live = make_token(s, "u", "live one");
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.verify(live, {}, now_ms()));
    Admin a = db.admin();
    a.value("INSERT INTO gvx_activity (at, key_id, key_start, outcome) SELECT 1000, NULL, "
            "'gvx_ol', 'INVALID_API_KEY' FROM generate_series(1, 30)");
    auto preview = s.purge_preview(now + 1000);
    ASSERT_TRUE(preview);
    EXPECT_EQ(preview->tokens, 25);
    EXPECT_EQ(preview->activity, 30);
    PurgeReport total;
    int batches = 0;
    for (;;) {
        auto r = s.purge_batch(now + 1000, 10);
        ASSERT_TRUE(r) << r.error().message;
        total.tokens += r->tokens;
        total.activity += r->activity;
        ++batches;
        if (r->tokens < 10 && r->activity < 10) break;
    }
    EXPECT_EQ(total.tokens, 25);
    EXPECT_EQ(total.activity, 30);
    EXPECT_GE(batches, 3);
    EXPECT_EQ(a.value("SELECT count(*) FROM apikey"), "1");
    EXPECT_EQ(a.value("SELECT count(*) FROM gvx_activity"), "3");
    EXPECT_EQ(s.verify(live, {}, now_ms())->outcome, Outcome::ok);
}

TEST_F(PgStoreTest, BetterAuthSessionsInMillisecondsOrTimestamps) {
    TestDatabase db;
    Admin a = db.admin();
    a.value("CREATE TABLE session (id text PRIMARY KEY, token text UNIQUE NOT NULL, "
            "user_id text NOT NULL, expires_at timestamptz NOT NULL)");
    a.value("INSERT INTO session VALUES ('s1', 'live', 'alice', now() + interval '1 hour'), "
            "('s2', 'old', 'bob', now() - interval '1 hour')");
    PgStore s(db.uri());
    EXPECT_EQ(*s.session_user("live", now_ms()), std::optional<std::string>("alice"));
    EXPECT_EQ(*s.session_user("old", now_ms()), std::nullopt);
    EXPECT_EQ(*s.session_user("nope", now_ms()), std::nullopt);
}

}  // namespace
}  // namespace gvx::pg
