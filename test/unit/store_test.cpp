// The store on real SQLite files: tokens, outcomes, usage, activity, rate limits, cleanup,
// migrations and the Gitflare fixture.
#include <thread>

#include "core/token.hpp"
#include "test_db.hpp"

namespace gvx {
namespace {

using testing::now_ms;
using testing::open_store;
using testing::RawDb;
using testing::TempDb;

class StoreTest : public ::testing::Test {
   protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        store = open_store(db.path());
        ASSERT_TRUE(store);
    }
    std::string make(std::string_view user, std::string_view name,
                     std::optional<std::int64_t> expires = std::nullopt) {
        auto c = store->create(NewToken{.user_id = user, .name = name, .expires_at = expires},
                               now_ms());
        EXPECT_TRUE(c) << (c ? "" : c.error().message);
        return c ? std::string(c->key.view()) : std::string();
    }
    Outcome outcome(std::string_view token, std::int64_t at = now_ms()) {
        auto v = store->verify(token, ClientInfo{"127.0.0.1", "test"}, at);
        EXPECT_TRUE(v) << (v ? "" : v.error().message);
        return v ? v->outcome : Outcome::invalid_key;
    }
    TempDb db;
    std::unique_ptr<Store> store;
};

TEST_F(StoreTest, CreateStoresOnlyTheHashAndTheDocumentedColumns) {
    const std::int64_t t0 = now_ms();
    auto c = store->create(NewToken{.user_id = "alice", .name = "CI pipeline"}, t0);
    ASSERT_TRUE(c);
    const std::string key(c->key.view());
    EXPECT_EQ(key.size(), 68u);
    RawDb raw(db.path());
    EXPECT_EQ(raw.scalar("SELECT key FROM apikey"), hash_key(key));
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM apikey WHERE key LIKE '%" + key.substr(4, 20) +
                         "%' OR name LIKE '%" + key.substr(4, 20) + "%'"),
              "0");
    EXPECT_EQ(raw.scalar("SELECT start || '|' || prefix || '|' || user_id || '|' || enabled || "
                         "'|' || request_count || '|' || (created_at = updated_at) FROM apikey"),
              key.substr(0, 6) + "|gvx_|alice|1|0|1");
    EXPECT_EQ(raw.scalar("SELECT length(id) FROM apikey"), "32");
    EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
}

TEST_F(StoreTest, VerifyCountsUsageAndRevokeStopsIt) {
    const std::string key = make("alice", "laptop");
    EXPECT_EQ(outcome(key), Outcome::ok);
    EXPECT_EQ(outcome(key), Outcome::ok);
    auto list = store->list("alice");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].request_count, 2);
    EXPECT_TRUE((*list)[0].last_request.has_value());
    const std::string id = (*list)[0].id;

    auto other = store->revoke(id, std::string_view("mallory"));
    ASSERT_TRUE(other);
    EXPECT_FALSE(*other);  // another user's token is not theirs to delete
    EXPECT_EQ(outcome(key), Outcome::ok);
    auto mine = store->revoke(id, std::string_view("alice"));
    ASSERT_TRUE(mine);
    EXPECT_TRUE(*mine);
    EXPECT_EQ(outcome(key), Outcome::invalid_key);
    auto again = store->revoke(id, std::nullopt);
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
}

TEST_F(StoreTest, ExpiredDisabledAndUnknownTokensNeverVerify) {
    const std::int64_t now = now_ms();
    const std::string soon = make("alice", "short lived", now + 1000);
    EXPECT_EQ(outcome(soon, now), Outcome::ok);
    EXPECT_EQ(outcome(soon, now + 1000), Outcome::expired);  // at the instant of expiry
    EXPECT_EQ(outcome(soon, now + 5000), Outcome::expired);

    const std::string key = make("bob", "to disable");
    auto list = store->list("bob");
    ASSERT_TRUE(list);
    auto upd = store->update((*list)[0].id, "bob", TokenChanges{.enabled = false}, now_ms());
    ASSERT_TRUE(upd);
    ASSERT_TRUE(*upd);
    EXPECT_FALSE((*upd)->enabled);
    EXPECT_EQ(outcome(key), Outcome::disabled);

    EXPECT_EQ(outcome("gvx_" + std::string(64, 'A')), Outcome::invalid_key);
    EXPECT_EQ(outcome(""), Outcome::invalid_key);
    EXPECT_EQ(outcome(std::string(5000, 'x')), Outcome::invalid_key);
    EXPECT_EQ(outcome(key.substr(0, 67)), Outcome::invalid_key);
}

TEST_F(StoreTest, ActivityRecordsEveryAttemptWithoutTheToken) {
    const std::string key = make("alice", "activity");
    EXPECT_EQ(outcome(key), Outcome::ok);
    EXPECT_EQ(outcome("gvx_Unknown" + std::string(60, 'z')), Outcome::invalid_key);
    auto list = store->list("alice");
    ASSERT_TRUE(list);
    auto act = store->activity((*list)[0].id, "alice", 50);
    ASSERT_TRUE(act);
    ASSERT_EQ(act->size(), 1u);
    EXPECT_EQ((*act)[0].outcome, "OK");
    EXPECT_EQ((*act)[0].ip, "127.0.0.1");
    EXPECT_EQ((*act)[0].key_start, key.substr(0, 6));
    auto theirs = store->activity((*list)[0].id, "mallory", 50);
    ASSERT_FALSE(theirs);
    EXPECT_EQ(theirs.error().code, Errc::not_found);

    RawDb raw(db.path());
    EXPECT_EQ(raw.scalar("SELECT key_start || '|' || outcome || '|' || quote(key_id) FROM "
                         "gvx_activity WHERE key_id IS NULL"),
              "gvx_Un|INVALID_API_KEY|NULL");
    // No column of any gvx table holds more than 6 characters of a token.
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM gvx_activity WHERE instr(key_start || ip || "
                         "user_agent, '" + key.substr(6, 12) + "') > 0"),
              "0");
}

TEST_F(StoreTest, HostileClientInfoIsBoundedAndPrintable) {
    const std::string key = make("alice", "hostile");
    auto v = store->verify(key, ClientInfo{std::string(500, '1'), "evil\n\x01\xff" + std::string(1000, 'u')},
                           now_ms());
    ASSERT_TRUE(v);
    RawDb raw(db.path());
    EXPECT_EQ(raw.scalar("SELECT length(ip) || '|' || length(user_agent) || '|' || "
                         "substr(user_agent, 1, 8) FROM gvx_activity"),
              "64|256|evil???u");
}

TEST_F(StoreTest, CreateRejectsBadInputNamingTheField) {
    auto err = [&](NewToken t) {
        auto c = store->create(t, now_ms());
        EXPECT_FALSE(c);
        return c ? std::string() : c.error().message;
    };
    EXPECT_EQ(err({.user_id = "alice", .name = "ab"}), "name must be 3 to 50 characters (got 2)");
    EXPECT_EQ(err({.user_id = "alice", .name = std::string(51, 'n')}),
              "name must be 3 to 50 characters (got 51)");
    EXPECT_EQ(err({.user_id = "", .name = "valid"}), "user_id must not be empty");
    EXPECT_EQ(err({.user_id = "alice", .name = std::string("nu\0l", 4)}),
              "name must not contain NUL bytes");
    EXPECT_EQ(err({.user_id = "alice", .name = "bad \xff utf8"}), "name must be valid UTF-8");
    EXPECT_EQ(err({.user_id = "alice", .name = "valid", .prefix = "no spaces"}),
              "prefix must match ^[A-Za-z0-9_-]{1,32}$");
    EXPECT_EQ(err({.user_id = "alice", .name = "valid", .expires_at = now_ms() - 1}),
              "expires_at must be in the future (milliseconds since the epoch)");
    // 50 code points of 4 bytes each are fine.
    std::string rockets;
    for (int i = 0; i < 50; ++i) rockets += "🚀";
    EXPECT_TRUE(store->create(NewToken{.user_id = "alice", .name = rockets}, now_ms()));
    RawDb raw(db.path());
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM apikey"), "1");  // nothing else was written
}

TEST_F(StoreTest, FixedWindowRateLimitAdmitsExactlyMaxAndResets) {
    RawDb raw(db.path());
    raw.exec("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1), "
             "('rate_limit_max', 3), ('rate_limit_time_window', 60000)");
    const std::string key = make("alice", "limited");
    const std::int64_t t0 = now_ms();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(outcome(key, t0 + i * 1000), Outcome::ok);
    auto v = store->verify(key, {}, t0 + 10'000);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->outcome, Outcome::rate_limited);
    EXPECT_EQ(v->retry_after_ms, 50'000);  // the window started at t0, not at the last request
    EXPECT_EQ(outcome(key, t0 + 59'999), Outcome::rate_limited);
    EXPECT_EQ(outcome(key, t0 + 60'000), Outcome::ok);  // a new window
    auto list = store->list("alice");
    ASSERT_TRUE(list);
    EXPECT_EQ((*list)[0].request_count, 4);  // limited attempts are not successes
    EXPECT_EQ(raw.scalar("SELECT sum(count) FROM gvx_activity WHERE outcome = 'RATE_LIMITED'"),
              "2");
}

TEST_F(StoreTest, PerTokenRateLimitOverridesAndOptOut) {
    RawDb raw(db.path());
    raw.exec("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1), ('rate_limit_max', 1)");
    auto c = store->create(NewToken{.user_id = "alice", .name = "five a minute",
                                    .rate_limit_time_window = 60'000, .rate_limit_max = 5},
                           now_ms());
    ASSERT_TRUE(c);
    const std::string five(c->key.view());
    auto e = store->create(NewToken{.user_id = "alice", .name = "exempt",
                                    .rate_limit_enabled = false},
                           now_ms());
    ASSERT_TRUE(e);
    const std::string exempt(e->key.view());
    const std::int64_t t0 = now_ms();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(outcome(five, t0), Outcome::ok);
    EXPECT_EQ(outcome(five, t0), Outcome::rate_limited);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(outcome(exempt, t0), Outcome::ok);
}

TEST_F(StoreTest, RateLimitIsOffByDefault) {
    const std::string key = make("alice", "unlimited");
    for (int i = 0; i < 30; ++i) EXPECT_EQ(outcome(key), Outcome::ok);
}

TEST_F(StoreTest, PurgeRemovesExpiredTokensAndOldActivityOnly) {
    const std::int64_t now = now_ms();
    // Expiring well after the creates (1200 of them take seconds on a busy machine), and
    // purged as of later still.
    const std::int64_t expiry = now + 600'000;
    const std::int64_t purge_at = expiry + 1000;
    RawDb(db.path()).exec("INSERT INTO gvx_config VALUES ('max_tokens_per_user', 0)");  // no cap
    for (int i = 0; i < 1200; ++i) make("alice", "expiring " + std::to_string(i), expiry);
    const std::string live = make("alice", "live forever");
    const std::string later = make("alice", "live a while", now + 86'400'000);
    RawDb raw(db.path());
    raw.exec("INSERT INTO gvx_activity (at, key_id, key_start, outcome) VALUES "
             "(1, 'x', 'gvx_xx', 'OK'), (2, 'x', 'gvx_xx', 'OK')");
    auto preview = store->purge_preview(purge_at);
    ASSERT_TRUE(preview);
    EXPECT_EQ(preview->tokens, 1200);
    EXPECT_EQ(preview->activity, 2);
    std::int64_t total = 0;
    for (;;) {
        auto r = store->purge_batch(purge_at, 500);
        ASSERT_TRUE(r);
        total += r->tokens;
        if (r->tokens < 500) break;
    }
    EXPECT_EQ(total, 1200);
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM apikey"), "2");
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM gvx_activity"), "0");
    EXPECT_EQ(outcome(live, purge_at), Outcome::ok);
    EXPECT_EQ(outcome(later, purge_at), Outcome::ok);
}

TEST_F(StoreTest, UpdateAndGetAreScopedToTheOwner) {
    make("alice", "original");
    auto list = store->list("alice");
    ASSERT_TRUE(list);
    const std::string id = (*list)[0].id;
    auto theirs = store->update(id, "mallory", TokenChanges{.name = "stolen"}, now_ms());
    ASSERT_TRUE(theirs);
    EXPECT_FALSE(*theirs);
    auto got = store->get(id, "mallory");
    ASSERT_TRUE(got);
    EXPECT_FALSE(*got);
    auto mine = store->update(id, "alice", TokenChanges{.name = "renamed"}, now_ms() + 5);
    ASSERT_TRUE(mine);
    ASSERT_TRUE(*mine);
    EXPECT_EQ((*mine)->name, "renamed");
    EXPECT_GT((*mine)->updated_at, (*mine)->created_at);
    auto bad = store->update(id, "alice", TokenChanges{.name = "no"}, now_ms());
    EXPECT_FALSE(bad);
}

TEST_F(StoreTest, ListIsOldestFirstAndPerUser) {
    const std::int64_t t0 = now_ms();
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(store->create(NewToken{.user_id = "alice", .name = "token " + std::to_string(i)},
                                  t0 + 100 - i));  // created "backwards" in time
    ASSERT_TRUE(store->create(NewToken{.user_id = "bob", .name = "bob's"}, t0));
    auto list = store->list("alice");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 5u);
    for (std::size_t i = 1; i < list->size(); ++i)
        EXPECT_LE((*list)[i - 1].created_at, (*list)[i].created_at);
    EXPECT_EQ((*list)[0].name, "token 4");
}

TEST_F(StoreTest, ListKeepsCreationOrderWithinTheSameMillisecond) {
    const std::int64_t t0 = now_ms();
    for (int i = 0; i < 20; ++i)
        ASSERT_TRUE(store->create(NewToken{.user_id = "alice", .name = "same ms " + std::to_string(i)},
                                  t0));
    auto list = store->list("alice");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 20u);
    for (int i = 0; i < 20; ++i) EXPECT_EQ((*list)[i].name, "same ms " + std::to_string(i));
}

TEST_F(StoreTest, MigrationsAreIdempotentAndRefuseANewerSchema) {
    store.reset();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(open_store(db.path()));
    RawDb raw(db.path());
    EXPECT_EQ(raw.scalar("SELECT value FROM gvx_meta WHERE name = 'schema_version'"), "6");
    raw.exec("UPDATE gvx_meta SET value = 99 WHERE name = 'schema_version'");
    auto s = Store::open(db.path());
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("newer than this gvx"), std::string::npos);
}

TEST_F(StoreTest, NamesUserByIdAndByBetterAuthUsernameOnceItsTableExists) {
    auto named = [&](std::string_view id, std::string_view name) {
        auto r = store->names_user(id, name);
        EXPECT_TRUE(r);
        return r && *r;
    };
    EXPECT_TRUE(named("u_carol", "u_carol"));
    EXPECT_FALSE(named("u_carol", "carol"));  // no user table yet
    RawDb raw(db.path());
    raw.exec("CREATE TABLE \"user\" (id TEXT PRIMARY KEY, username TEXT UNIQUE);"
             "INSERT INTO \"user\" VALUES ('u_carol', 'carol'), ('u_dave', 'dave')");
    EXPECT_TRUE(named("u_carol", "carol"));  // the table appeared while the store was open
    // Exactly: Apache would make the typed "Carol" the user, another name to git and hooks.
    EXPECT_FALSE(named("u_carol", "Carol"));
    EXPECT_FALSE(named("u_carol", "dave"));
    EXPECT_FALSE(named("u_carol", "u_dave"));
    EXPECT_FALSE(named("u_carol", ""));
}

// A database exported from Gitflare: its tokens verify, its data stays as it was.
TEST(Gitflare, FixtureTokensVerifyAndNothingForeignChanges) {
    ASSERT_GE(sodium_init(), 0);
    TempDb db;
    RawDb raw(db.path());
    raw.exec(testing::read_file(std::string(GVX_FIXTURES) + "/gitflare.sql"));
    const std::string foreign_schema =
        raw.scalar("SELECT sql FROM sqlite_master WHERE name IN ('user', 'session', 'apikey')");
    const char* kForeignRows =
        "SELECT group_concat(id || name || start || prefix || key || user_id || enabled || "
        "rate_limit_enabled || rate_limit_time_window || rate_limit_max || created_at || "
        "updated_at || coalesce(expires_at, '') || coalesce(metadata, ''), ',') FROM apikey";
    const std::string rows_before = raw.scalar(kForeignRows);
    const std::string users_before = raw.scalar("SELECT group_concat(id || email) FROM user");

    auto store = open_store(db.path());
    ASSERT_TRUE(store);
    auto check = [&](std::string_view token, Outcome expected, const char* user) {
        auto v = store->verify(token, {}, now_ms());
        ASSERT_TRUE(v);
        EXPECT_EQ(v->outcome, expected) << user;
        if (expected == Outcome::ok) { EXPECT_EQ(v->record->user_id, user); }
    };
    check("gvx_EIcFFZEZfqAtYJDDqgBUZYzEaIjTQzcYvNpHXEIYWnIwbCHSDmqUqAAMguoUWMyq", Outcome::ok,
          "u_alice");
    check("gvx_QWErtyUIopASdfGHjklZXcvBNmqweRTYuiopASDFghJKLzxcvbnmQWERtyuIOP", Outcome::ok,
          "u_bob");
    check("gvx_ZZexpiredTOKENaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          Outcome::expired, "u_alice");
    check("gvx_DDdisabledTOKENbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
          Outcome::disabled, "u_bob");

    // Names of 1 or 2 characters and double-encoded metadata are read as they are.
    auto list = store->list("u_alice");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].name, "CI");
    EXPECT_EQ((*list)[0].request_count, 1);  // Gitflare never counts (its rate limit is off)

    // gvx's own tokens live beside Gitflare's, under the foreign key to user.
    auto created = store->create(NewToken{.user_id = "u_bob", .name = "from gvx"}, now_ms());
    ASSERT_TRUE(created) << created.error().message;

    EXPECT_EQ(raw.scalar("SELECT sql FROM sqlite_master WHERE name IN ('user', 'session', "
                         "'apikey')"),
              foreign_schema);
    EXPECT_EQ(raw.scalar(kForeignRows).substr(0, rows_before.size()), rows_before);
    EXPECT_EQ(raw.scalar("SELECT group_concat(id || email) FROM user"), users_before);
    EXPECT_EQ(raw.scalar("PRAGMA foreign_key_check"), "");
    EXPECT_EQ(raw.scalar("PRAGMA integrity_check"), "ok");
}

// SELECT gvx_verify(t) FROM a_table holds a read transaction; when another connection holds
// the write lock, SQLite refuses the write at once. The count must still land.
TEST(SqlFunctions, VerifyInsideAReadingStatementWaitsOnASecondConnection) {
    ASSERT_GE(sodium_init(), 0);
    TempDb db;
    std::string key;
    {
        auto store = open_store(db.path());
        auto c = store->create(NewToken{.user_id = "alice", .name = "nested"}, now_ms());
        ASSERT_TRUE(c);
        key = std::string(c->key.view());
    }
    RawDb user(db.path());
    ASSERT_EQ(sqlite3_gvx_init(user.db, nullptr, nullptr), SQLITE_OK);
    user.exec("CREATE TABLE to_check(t TEXT); INSERT INTO to_check VALUES ('" + key + "')");

    RawDb writer(db.path());
    writer.exec("BEGIN IMMEDIATE");
    std::thread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        writer.exec("COMMIT");
    });
    EXPECT_EQ(user.scalar("SELECT gvx_verify(t) FROM to_check"), "alice");
    release.join();
    EXPECT_EQ(user.scalar("SELECT request_count FROM apikey"), "1");

    // Inside BEGIN, with the same contention.
    writer.exec("BEGIN IMMEDIATE");
    std::thread release2([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        writer.exec("COMMIT");
    });
    user.exec("BEGIN");
    EXPECT_EQ(user.scalar("SELECT gvx_verify(t) FROM to_check"), "alice");
    user.exec("COMMIT");
    release2.join();
    EXPECT_EQ(user.scalar("SELECT request_count FROM apikey"), "2");

    // Inside a transaction that already writes, the work joins it (and its rollback).
    user.exec("BEGIN IMMEDIATE");
    EXPECT_EQ(user.scalar("SELECT gvx_verify(t) FROM to_check"), "alice");
    user.exec("ROLLBACK");
    EXPECT_EQ(user.scalar("SELECT request_count FROM apikey"), "2");
}

}  // namespace
}  // namespace gvx
