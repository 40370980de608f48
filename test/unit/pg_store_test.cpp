// The PostgreSQL store against a real PostgreSQL 15 (test/postgres/with_postgres.py starts it
// and names it in GVX_TEST_PG / GVX_TEST_PG_ADMIN). Each test gets a database of its own.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/limits.hpp"
#include "core/token.hpp"
#include "pg/pg_store.hpp"

namespace gvx::pg {
namespace {

// sql/postgres/NNN_*.sql: the version a database is migrated to.
constexpr int kPgSchemaVersion = 3;

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

// The audit trail as on SQLite (test/fcgi/audit_test.cpp): each change one entry, in its
// transaction, by the store's actor; failures none; newest first; retention.
TEST_F(PgStoreTest, AuditTrailRecordsEveryChangeByItsActor) {
    TestDatabase db;
    PgStore s(db.uri());
    s.set_actor(Actor{.user = "alice", .via = AuditVia::remote_user, .ip = "192.0.2.7\n",
                      .user_agent = "agent\x1b[2J"});
    auto c = s.create(NewToken{.user_id = "alice", .name = "laptop"}, now_ms());
    ASSERT_TRUE(c) << c.error().message;
    const std::string id = c->record.id;
    TokenChanges off;
    off.enabled = false;
    ASSERT_TRUE(*s.update(id, "alice", off, now_ms()));
    TokenChanges renamed;
    renamed.name = "old laptop";
    ASSERT_TRUE(*s.update(id, "alice", renamed, now_ms()));
    auto r = s.rotate(id, std::string_view("alice"), Rotation{.grace_ms = 60'000}, now_ms());
    ASSERT_TRUE(r && *r) << (r ? "" : r.error().message);
    {
        const ActingAs admin(s, Actor{.user = "root", .via = AuditVia::admin,
                                      .user_agent = "gvx revoke"});
        ASSERT_TRUE(*s.revoke((*r)->record.id, std::nullopt));
    }
    // Refused changes leave nothing.
    EXPECT_FALSE(*s.revoke(id, std::string_view("bob")));
    EXPECT_FALSE(*s.update(id, "bob", off, now_ms()));
    EXPECT_FALSE(s.create(NewToken{.user_id = "alice", .name = "ab"}, now_ms()));

    auto all = s.audit(AuditQuery{.owner = "alice"});
    ASSERT_TRUE(all) << all.error().message;
    std::vector<std::string> actions;
    for (const AuditRecord& e : *all) actions.push_back(e.action);
    EXPECT_EQ(actions, (std::vector<std::string>{"delete", "rotate", "update", "disable",
                                                 "create"}));
    const AuditRecord& created = all->back();
    EXPECT_EQ(created.key_id, id);
    EXPECT_EQ(created.key_name, "laptop");
    EXPECT_EQ(created.actor, "alice");
    EXPECT_EQ(created.via, "remote_user");
    EXPECT_EQ(created.ip, "192.0.2.7?");
    EXPECT_EQ(created.user_agent, "agent?[2J");
    EXPECT_NE(created.detail->find("\"prefix\":\"gvx_\""), std::string::npos);
    EXPECT_EQ((*all)[0].actor, "root");
    EXPECT_EQ((*all)[0].via, "admin");
    EXPECT_EQ((*all)[0].key_id, (*r)->record.id);
    EXPECT_NE((*all)[1].detail->find((*r)->record.id), std::string::npos);
    EXPECT_EQ((*all)[2].key_name, "old laptop");
    for (const AuditRecord& e : *all) {
        EXPECT_EQ(e.detail.value_or("").find(std::string(c->key.view()).substr(4)),
                  std::string::npos);
    }
    EXPECT_EQ(s.audit(AuditQuery{.owner = "alice", .key_id = id})->size(), 4u);
    EXPECT_TRUE(s.audit(AuditQuery{.owner = "bob", .key_id = id})->empty());
    EXPECT_EQ(s.audit(AuditQuery{.limit = 2})->size(), 2u);
    EXPECT_TRUE(s.audit(AuditQuery{.owner = std::string_view("a\0b", 3)})->empty());

    db.admin().value("INSERT INTO gvx_config (name, value) VALUES ('audit_retention_ms', '1000')");
    auto preview = s.purge_preview(now_ms() + 60'000);
    ASSERT_TRUE(preview) << preview.error().message;
    EXPECT_EQ(preview->audit, 5);
    auto purged = s.purge_batch(now_ms() + 60'000, 100);
    ASSERT_TRUE(purged) << purged.error().message;
    EXPECT_EQ(purged->audit, 5);
    EXPECT_TRUE(s.audit(AuditQuery{})->empty());
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
    // Refusals are counted: the two without a token's shape (same start '', address, user
    // agent and outcome, within a minute) share one row.
    Admin a = db.admin();
    EXPECT_EQ(a.value("SELECT sum(count) FROM gvx_activity WHERE key_id IS NULL"), "3");
    EXPECT_EQ(a.value("SELECT count(*) FROM gvx_activity WHERE key_id IS NULL"), "2");
    EXPECT_EQ(a.value("SELECT key_start FROM gvx_activity WHERE key_id IS NULL ORDER BY id "
                      "LIMIT 1"),
              "gvx_un");
    EXPECT_EQ(a.value("SELECT count FROM gvx_activity WHERE key_start = ''"), "2");

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
    EXPECT_EQ(db.admin().value("SELECT value FROM gvx_meta WHERE name = 'schema_version'"),
              std::to_string(kPgSchemaVersion));
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


// Threads that each open a store of their own, connect, then start together: as several
// gvx-fcgi processes on several machines would, each with its own connection.
class StartingLine {
   public:
    explicit StartingLine(int runners) : runners_(runners) {}
    // Blocks until every runner has called it.
    void ready() {
        ++ready_;
        while (ready_.load() < runners_) std::this_thread::yield();
    }

   private:
    const int runners_;
    std::atomic<int> ready_{0};
};

void set_config(Admin& a, std::string_view name, std::string_view value) {
    a.value("INSERT INTO gvx_config (name, value) VALUES ('" + std::string(name) + "', '" +
            std::string(value) + "') ON CONFLICT (name) DO UPDATE SET value = excluded.value");
}

std::int64_t count_of(Admin& a, const std::string& sql) { return std::stoll(a.value(sql)); }

// -- rotation ----------------------------------------------------------------------------

TEST_F(PgStoreTest, RotationWithoutGraceCarriesEverythingAndEndsTheOldToken) {
    TestDatabase db;
    PgStore s(db.uri());
    Admin a = db.admin();
    const std::int64_t day = 86'400'000, now = now_ms();
    auto old = s.create(NewToken{.user_id = "alice",
                                 .name = "deploy",
                                 .prefix = "ci_",
                                 .expires_at = now + 30 * day,
                                 .metadata = "{\"env\":\"prod\"}",
                                 .rate_limit_enabled = true,
                                 .rate_limit_time_window = 60'000,
                                 .rate_limit_max = 7,
                                 .permissions = "{\"repo:alice/project\": [\"read\", \"write\"]}"},
                        now - 1000);
    ASSERT_TRUE(old) << old.error().message;
    // better-auth's usage limit, as its own API would have set it.
    a.value("UPDATE apikey SET remaining = 40, refill_interval = 3600000, refill_amount = 50");

    auto rotated = s.rotate(old->record.id, std::string_view("alice"), Rotation{}, now);
    ASSERT_TRUE(rotated) << rotated.error().message;
    ASSERT_TRUE(*rotated);
    const TokenRecord& n = (*rotated)->record;
    const std::string key((*rotated)->key.view());
    EXPECT_NE(n.id, old->record.id);
    EXPECT_NE(key, std::string(old->key.view()));
    EXPECT_EQ(key.substr(0, 3), "ci_");
    EXPECT_EQ(n.name, "deploy");
    EXPECT_EQ(n.user_id, "alice");
    EXPECT_EQ(n.permissions, "{\"repo:alice/project\":[\"read\",\"write\"]}");
    EXPECT_EQ(n.metadata, "{\"env\":\"prod\"}");
    EXPECT_EQ(n.rate_limit_time_window, 60'000);
    EXPECT_EQ(n.rate_limit_max, 7);
    EXPECT_EQ(n.remaining, 40);
    EXPECT_EQ(n.created_at, now);
    EXPECT_EQ(n.expires_at, now + 30 * day + 1000);  // as long a life as the old one had
    // Stored as returned, hash and all.
    const std::string where = " FROM apikey WHERE id = '" + n.id + "'";
    EXPECT_EQ(a.value("SELECT key" + where), hash_key(key));
    EXPECT_EQ(a.value("SELECT permissions || ' ' || metadata || ' ' || rate_limit_max || ' ' || "
                      "remaining || ' ' || refill_interval || ' ' || refill_amount" + where),
              "{\"repo:alice/project\":[\"read\",\"write\"]} {\"env\":\"prod\"} 7 40 3600000 50");

    // Grace 0: the old token is gone at once, and its rate window with it.
    EXPECT_EQ(count_of(a, "SELECT count(*) FROM apikey"), 1);
    EXPECT_EQ(s.verify(old->key.view(), {}, now_ms())->outcome, Outcome::invalid_key);
    auto v = s.verify(key, {}, now_ms());
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->outcome, Outcome::ok);
    EXPECT_EQ(v->record->id, n.id);
    // A token that never expired rotates into one that never expires.
    auto forever = s.create(NewToken{.user_id = "alice", .name = "forever"}, now);
    ASSERT_TRUE(forever);
    auto next = s.rotate(forever->record.id, std::nullopt, Rotation{}, now);
    ASSERT_TRUE(next && *next);
    EXPECT_EQ((*next)->record.expires_at, std::nullopt);
    EXPECT_EQ((*next)->record.permissions, std::nullopt);  // NULL stays NULL: full access
}

TEST_F(PgStoreTest, RotationWithGraceEndsTheOldTokenLater) {
    TestDatabase db;
    PgStore s(db.uri());
    Admin a = db.admin();
    const std::int64_t now = now_ms();
    const std::string old_key = make_token(s, "alice", "laptop");
    const std::string old_id = (*s.list("alice"))[0].id;
    auto rotated = s.rotate(old_id, std::string_view("alice"), Rotation{.grace_ms = 2000}, now);
    ASSERT_TRUE(rotated && *rotated) << (rotated ? "" : rotated.error().message);
    EXPECT_EQ(a.value("SELECT expires_at FROM apikey WHERE id = '" + old_id + "'"),
              std::to_string(now + 2000));
    EXPECT_EQ(s.verify(old_key, {}, now + 1000)->outcome, Outcome::ok);
    EXPECT_EQ(s.verify((*rotated)->key.view(), {}, now + 1000)->outcome, Outcome::ok);
    EXPECT_EQ(s.verify(old_key, {}, now + 2001)->outcome, Outcome::expired);
    EXPECT_EQ(s.verify((*rotated)->key.view(), {}, now + 2001)->outcome, Outcome::ok);

    // A grace never makes a token live longer than it would have.
    auto brief = s.create(NewToken{.user_id = "alice", .name = "brief", .expires_at = now + 500},
                          now);
    ASSERT_TRUE(brief);
    auto again = s.rotate(brief->record.id, std::string_view("alice"),
                          Rotation{.grace_ms = 3'600'000}, now);
    ASSERT_TRUE(again && *again);
    EXPECT_EQ(a.value("SELECT expires_at FROM apikey WHERE id = '" + brief->record.id + "'"),
              std::to_string(now + 500));
}

TEST_F(PgStoreTest, RotationRefusesOtherUsersTokensAndBadInput) {
    TestDatabase db;
    PgStore s(db.uri());
    Admin a = db.admin();
    const std::string key = make_token(s, "alice", "mine");
    const std::string id = (*s.list("alice"))[0].id;
    const std::int64_t now = now_ms();
    // Not bob's, unknown, or not even text: no such token (HTTP 404), and nothing changes.
    const std::vector<std::pair<std::string, std::string>> not_theirs = {
        {id, "bob"}, {"no-such-id", "alice"}, {std::string("x\0y", 3), "alice"},
        {id, "alice\xff"}};
    for (const auto& [which, user] : not_theirs) {
        auto r = s.rotate(which, std::string_view(user), Rotation{}, now);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_FALSE(*r);
    }
    for (const Rotation& bad : {Rotation{.grace_ms = -1},
                                Rotation{.grace_ms = kMaxRotationGraceMs + 1},
                                Rotation{.expires_at = now - 1}}) {
        auto r = s.rotate(id, std::string_view("alice"), bad, now);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, Errc::invalid_argument);
    }
    EXPECT_EQ(count_of(a, "SELECT count(*) FROM apikey"), 1);
    EXPECT_EQ(s.verify(key, {}, now_ms())->outcome, Outcome::ok);
    EXPECT_TRUE(*s.rotate(id, std::string_view("alice"),
                          Rotation{.grace_ms = kMaxRotationGraceMs}, now));
}

// max_token_lifetime counts from the new token's creation; asking for more is refused and
// leaves the old token as it was.
TEST_F(PgStoreTest, RotationHonoursTheLifetimeCap) {
    TestDatabase db;
    PgStore s(db.uri());
    ASSERT_TRUE(s.prepare());  // the schema, for the setting
    Admin a = db.admin();
    const std::int64_t day = 86'400'000, now = now_ms();
    set_config(a, "max_token_lifetime_ms", std::to_string(day));
    auto t = s.create(NewToken{.user_id = "alice", .name = "capped"}, now - day / 2);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->record.expires_at, now - day / 2 + day);
    auto too_long = s.rotate(t->record.id, std::string_view("alice"),
                             Rotation{.expires_at = now + 10 * day}, now);
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error().code, Errc::invalid_argument);
    EXPECT_EQ(count_of(a, "SELECT count(*) FROM apikey"), 1);
    auto rotated = s.rotate(t->record.id, std::string_view("alice"), Rotation{}, now);
    ASSERT_TRUE(rotated && *rotated) << (rotated ? "" : rotated.error().message);
    EXPECT_EQ((*rotated)->record.created_at, now);
    EXPECT_EQ((*rotated)->record.expires_at, now + day);
}

// Eight connections rotate one token at once: one rotation wins, the others find no token,
// and exactly one successor exists (without the row lock, each would make one).
TEST_F(PgStoreTest, ConcurrentRotationsOfOneTokenCannotBothSucceed) {
    TestDatabase db;
    std::string id;
    {
        PgStore s(db.uri());
        make_token(s, "alice", "contested");
        id = (*s.list("alice"))[0].id;
    }
    constexpr int kThreads = 8;
    StartingLine line(kThreads);
    std::atomic<int> won{0}, lost{0}, failed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&] {
            PgStore s(db.uri());
            const bool connected = bool(s.prepare());
            line.ready();
            if (!connected) {
                ++failed;
                return;
            }
            auto r = s.rotate(id, std::string_view("alice"), Rotation{}, now_ms());
            if (!r) ++failed;
            else if (*r) ++won;
            else ++lost;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(lost.load(), kThreads - 1);
    EXPECT_EQ(failed.load(), 0);
    Admin a = db.admin();
    EXPECT_EQ(count_of(a, "SELECT count(*) FROM apikey"), 1);
    EXPECT_EQ(count_of(a, "SELECT count(*) FROM apikey WHERE id = '" + id + "'"), 0);
}

// -- max_tokens_per_user -----------------------------------------------------------------

TEST_F(PgStoreTest, TokenCapCountsLiveTokensOfEachUser) {
    TestDatabase db;
    PgStore s(db.uri());
    ASSERT_TRUE(s.prepare());  // the schema, for the setting
    Admin a = db.admin();
    set_config(a, "max_tokens_per_user", "3");
    const std::int64_t now = now_ms();
    ASSERT_TRUE(s.create(NewToken{.user_id = "alice", .name = "short", .expires_at = now + 10},
                         now));
    for (int i = 0; i < 2; ++i)
        ASSERT_TRUE(s.create(NewToken{.user_id = "alice", .name = "live"}, now));
    auto full = s.create(NewToken{.user_id = "alice", .name = "one more"}, now);
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, Errc::too_many_tokens);
    EXPECT_NE(full.error().message.find("max_tokens_per_user"), std::string::npos);
    // An expired token does not count; another user has a cap of their own.
    ASSERT_TRUE(s.create(NewToken{.user_id = "alice", .name = "one more"}, now + 100));
    EXPECT_FALSE(s.create(NewToken{.user_id = "alice", .name = "too many"}, now + 100));
    make_token(s, "bob");
    // Revoking one makes room; rotation replaces a token without needing room.
    const auto listed = *s.list("alice");
    ASSERT_TRUE(*s.revoke(listed.back().id, std::string_view("alice")));
    ASSERT_TRUE(s.create(NewToken{.user_id = "alice", .name = "again"}, now + 100));
    EXPECT_TRUE(*s.rotate(listed.front().id, std::string_view("alice"), Rotation{}, now + 100));
    // 0: no cap.
    set_config(a, "max_tokens_per_user", "0");
    for (int i = 0; i < 3; ++i) make_token(s, "alice");
    EXPECT_EQ(count_of(a, "SELECT count(*) FROM apikey WHERE user_id = 'alice'"), 7);
}

// Connections creating tokens for one user at once never pass the cap between them.
TEST_F(PgStoreTest, TokenCapHoldsUnderConcurrency) {
    TestDatabase db;
    constexpr int kCap = 10, kThreads = 4, kEach = 8;
    {
        PgStore s(db.uri());
        ASSERT_TRUE(s.prepare());
        Admin a = db.admin();
        set_config(a, "max_tokens_per_user", std::to_string(kCap));
    }
    StartingLine line(kThreads);
    std::atomic<int> created{0}, refused{0}, failed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&] {
            PgStore s(db.uri());
            const bool connected = bool(s.prepare());
            line.ready();
            if (!connected) {
                ++failed;
                return;
            }
            for (int j = 0; j < kEach; ++j) {
                auto c = s.create(NewToken{.user_id = "alice", .name = "racing"}, now_ms());
                if (c) ++created;
                else if (c.error().code == Errc::too_many_tokens) ++refused;
                else ++failed;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(created.load(), kCap);
    EXPECT_EQ(refused.load(), kThreads * kEach - kCap);
    EXPECT_EQ(failed.load(), 0);
    Admin a = db.admin();
    EXPECT_EQ(count_of(a, "SELECT count(*) FROM apikey WHERE user_id = 'alice'"), kCap);
}

// -- refusals are counted ----------------------------------------------------------------

// A flood of unknown credentials from many addresses and connections costs a bounded number
// of rows, and every refusal is counted once.
TEST_F(PgStoreTest, RefusalsOfUnknownCredentialsTakeBoundedRows) {
    TestDatabase db;
    constexpr int kCap = 20, kThreads = 4, kEach = 100;
    {
        PgStore s(db.uri());
        ASSERT_TRUE(s.prepare());
        Admin a = db.admin();
        set_config(a, "activity_unknown_max_rows", std::to_string(kCap));
    }
    StartingLine line(kThreads);
    std::vector<std::thread> threads;
    std::atomic<int> refused{0}, failed{0};
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            PgStore s(db.uri());
            const bool connected = bool(s.prepare());
            line.ready();
            if (!connected) {
                ++failed;
                return;
            }
            for (int j = 0; j < kEach; ++j) {
                const std::string ip = "10.0." + std::to_string(i) + "." + std::to_string(j);
                const std::string token = "gvx_" + std::string(64, 'Z');
                auto v = s.verify(token, ClientInfo{.ip = ip, .user_agent = "flood"}, now_ms());
                if (v && v->outcome == Outcome::invalid_key) ++refused;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(refused.load(), kThreads * kEach);
    EXPECT_EQ(failed.load(), 0);
    Admin a = db.admin();
    EXPECT_EQ(count_of(a, "SELECT sum(count) FROM gvx_activity"), kThreads * kEach);
    // The cap, plus at most one row per connection racing past it and one overflow row each.
    EXPECT_LE(count_of(a, "SELECT count(*) FROM gvx_activity"), kCap + 2 * kThreads);
    EXPECT_GE(count_of(a, "SELECT count(*) FROM gvx_activity WHERE ip = '' AND key_start = ''"),
              1);
}

// A known token's refusals from one client add to one row, which /activity shows counted.
TEST_F(PgStoreTest, RepeatedRefusalsOfATokenShareARow) {
    TestDatabase db;
    PgStore s(db.uri());
    const std::string key = make_token(s, "alice", "disabled");
    const std::string id = (*s.list("alice"))[0].id;
    TokenChanges off;
    off.enabled = false;
    ASSERT_TRUE(s.update(id, "alice", off, now_ms()));
    const std::int64_t now = now_ms();
    const ClientInfo client{.ip = "203.0.113.9", .user_agent = "git/2.39"};
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(s.verify(key, client, now + i)->outcome, Outcome::disabled);
    // A minute later, a new row.
    EXPECT_EQ(s.verify(key, client, now + kRefusalWindowMs + 1)->outcome, Outcome::disabled);
    auto acts = s.activity(id, "alice", 10);
    ASSERT_TRUE(acts) << acts.error().message;
    ASSERT_EQ(acts->size(), 2u);
    EXPECT_EQ((*acts)[0].count, 1);
    EXPECT_EQ((*acts)[1].count, 5);
    EXPECT_EQ((*acts)[1].outcome, "KEY_DISABLED");
    EXPECT_EQ((*acts)[1].at, now);
    EXPECT_EQ((*acts)[1].last_at, now + 4);
}

// A database gvx made at schema version 1 is brought to the current one on connect: its
// activity rows count 1 each, and gvx_tokens shows permissions.
TEST_F(PgStoreTest, MigratesADatabaseOfVersionOne) {
    TestDatabase db;
    Admin a = db.admin();
    std::ifstream in(std::string(GVX_SOURCE_DIR) + "/sql/postgres/001_init.sql");
    ASSERT_TRUE(in);
    const std::string v1((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    a.value(v1);
    a.value("CREATE TABLE gvx_meta (name text PRIMARY KEY NOT NULL, value text)");
    a.value("INSERT INTO gvx_meta VALUES ('schema_version', '1')");
    a.value("INSERT INTO gvx_activity (at, key_start, outcome) VALUES (1, 'gvx_ab', "
            "'INVALID_API_KEY'), (2, 'gvx_ab', 'INVALID_API_KEY')");
    PgStore s(db.uri());
    ASSERT_TRUE(s.prepare());
    EXPECT_EQ(a.value("SELECT value FROM gvx_meta WHERE name = 'schema_version'"),
              std::to_string(kPgSchemaVersion));
    EXPECT_EQ(a.value("SELECT string_agg(count::text, ',') FROM gvx_activity"), "1,1");
    auto t = s.create(NewToken{.user_id = "alice", .name = "viewed", .permissions =
                                                                          "{\"repo\":[\"read\"]}"},
                      now_ms());
    ASSERT_TRUE(t);
    EXPECT_EQ(a.value("SELECT permissions FROM gvx_tokens"), "{\"repo\":[\"read\"]}");
}

}  // namespace
}  // namespace gvx::pg
