// What a verification no longer does every time, and why its answers stay the same:
// gvx_config kept while the file is unchanged, gvx's copy of the count only where better-auth's
// user table is, and the activity log aged out in rowid order (README, "Benchmarks").
#include <string>

#include "test_db.hpp"

namespace gvx {
namespace {

using testing::now_ms;
using testing::open_store;
using testing::RawDb;
using testing::TempDb;

std::string make_token(Store& store, std::string_view user) {
    auto c = store.create(NewToken{.user_id = user, .name = "laptop"}, now_ms());
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? std::string(c->key.view()) : std::string();
}

Outcome outcome_of(Store& store, std::string_view token) {
    auto v = store.verify(token, ClientInfo{"127.0.0.1", "test"}, now_ms());
    EXPECT_TRUE(v) << (v ? "" : v.error().message);
    return v ? v->outcome : Outcome::invalid_key;
}

// The outcome code of SELECT gvx_check(token) on conn (the error code, or OK).
std::string check_on(RawDb& conn, const std::string& token) {
    return conn.scalar("SELECT coalesce(json_extract(gvx_check('" + token +
                       "'), '$.error.code'), 'OK')");
}

class VerifyCostTest : public ::testing::Test {
   protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }
    TempDb db;
};

// gvx-fcgi's case: its own connection, the settings changed by an admin's shell.
TEST_F(VerifyCostTest, ConfigChangedByAnotherConnectionAppliesToTheNextVerification) {
    auto store = open_store(db.path());
    ASSERT_TRUE(store);
    const std::string key = make_token(*store, "alice");
    for (int i = 0; i < 3; ++i) EXPECT_EQ(outcome_of(*store, key), Outcome::ok);  // kept now

    RawDb admin(db.path());
    admin.exec("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1), ('rate_limit_max', 2)");
    EXPECT_EQ(outcome_of(*store, key), Outcome::ok);
    EXPECT_EQ(outcome_of(*store, key), Outcome::ok);
    EXPECT_EQ(outcome_of(*store, key), Outcome::rate_limited);

    admin.exec("UPDATE gvx_config SET value = 0 WHERE name = 'rate_limit_enabled'");
    EXPECT_EQ(outcome_of(*store, key), Outcome::ok);
    admin.exec("DELETE FROM gvx_config");
    EXPECT_EQ(outcome_of(*store, key), Outcome::ok);
    auto list = store->list("alice");
    ASSERT_TRUE(list);
    EXPECT_EQ((*list)[0].request_count, 7);
}

// gvx.so's case: the settings changed on the very connection that verifies (the shell).
TEST_F(VerifyCostTest, ConfigChangedOnTheSameConnectionAppliesToTheNextVerification) {
    RawDb shell(db.path());
    ASSERT_EQ(sqlite3_gvx_init(shell.db, nullptr, nullptr), SQLITE_OK);
    const std::string key = shell.scalar("SELECT json_extract(gvx_create('alice', 'laptop'), '$.key')");
    for (int i = 0; i < 3; ++i) EXPECT_EQ(check_on(shell, key), "OK");

    shell.exec("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1), ('rate_limit_max', 1)");
    EXPECT_EQ(check_on(shell, key), "OK");
    EXPECT_EQ(check_on(shell, key), "RATE_LIMITED");
    shell.exec("DELETE FROM gvx_config");
    EXPECT_EQ(check_on(shell, key), "OK");
}

// Inside the host's own transaction gvx reads the table every time: it sees the change made
// there, and after a rollback the settings are the old ones again.
TEST_F(VerifyCostTest, ConfigChangedInTheHostsTransactionAndRolledBack) {
    RawDb shell(db.path());
    ASSERT_EQ(sqlite3_gvx_init(shell.db, nullptr, nullptr), SQLITE_OK);
    const std::string key = shell.scalar("SELECT json_extract(gvx_create('alice', 'laptop'), '$.key')");
    EXPECT_EQ(check_on(shell, key), "OK");

    shell.exec("BEGIN");
    shell.exec("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1), ('rate_limit_max', 1)");
    EXPECT_EQ(check_on(shell, key), "OK");
    EXPECT_EQ(check_on(shell, key), "RATE_LIMITED");
    shell.exec("ROLLBACK");
    for (int i = 0; i < 3; ++i) EXPECT_EQ(check_on(shell, key), "OK");
    EXPECT_EQ(shell.scalar("SELECT request_count FROM apikey"), "4");  // the rollback took 1
}

// gvx's copy of the count guards against better-auth's whole-row write-back, so it is kept
// where better-auth's user table is, and not where nothing else writes apikey.
TEST_F(VerifyCostTest, CountCopyIsKeptOnlyWhereBetterAuthsUserTableIs) {
    auto store = open_store(db.path());
    ASSERT_TRUE(store);
    const std::string key = make_token(*store, "alice");
    EXPECT_EQ(outcome_of(*store, key), Outcome::ok);
    RawDb raw(db.path());
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM gvx_key_state"), "0");

    // better-auth arrives: gvx notices its user table at the next verification.
    raw.exec("CREATE TABLE \"user\" (id TEXT PRIMARY KEY NOT NULL, name TEXT)");
    raw.exec("INSERT INTO \"user\" (id, name) VALUES ('alice', 'Alice')");
    EXPECT_EQ(outcome_of(*store, key), Outcome::ok);
    EXPECT_EQ(raw.scalar("SELECT request_count FROM gvx_key_state"), "2");
    raw.exec("UPDATE apikey SET request_count = 1");  // a whole-row write of an older read
    EXPECT_EQ(outcome_of(*store, key), Outcome::ok);
    EXPECT_EQ(raw.scalar("SELECT request_count FROM apikey"), "3");
}

// Retention goes in the order rows were written: from the oldest up to the first still kept,
// whatever the size of the batch; the preview counts what the purge removes.
TEST_F(VerifyCostTest, OldActivityGoesFromTheOldestWrittenUpToTheFirstKept) {
    auto store = open_store(db.path());
    ASSERT_TRUE(store);
    RawDb raw(db.path());
    const std::int64_t now = now_ms();
    const std::int64_t retention = 30LL * 86'400'000;
    const std::string old = std::to_string(now - retention - 1000);
    const std::string young = std::to_string(now - 1000);
    std::string rows;
    for (int i = 0; i < 25; ++i) rows += (rows.empty() ? "(" : ", (") + old + ", 'k', 'gvx_ab', 'OK')";
    rows += ", (" + young + ", 'k', 'gvx_ab', 'OK'), (" + old + ", 'k', 'gvx_ab', 'OK')";
    raw.exec("INSERT INTO gvx_activity (at, key_id, key_start, outcome) VALUES " + rows);

    auto preview = store->purge_preview(now);
    ASSERT_TRUE(preview);
    EXPECT_EQ(preview->activity, 25);
    std::int64_t removed = 0;
    for (int batch = 0; batch < 10; ++batch) {
        auto r = store->purge_batch(now, 8);
        ASSERT_TRUE(r) << r.error().message;
        removed += r->activity;
        if (r->activity < 8) break;
    }
    EXPECT_EQ(removed, 25);
    // The old row written after a kept one waits for it: rows age out in the order written.
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM gvx_activity"), "2");
    auto nothing = store->purge_batch(now, 8);
    ASSERT_TRUE(nothing);
    EXPECT_EQ(nothing->activity, 0);
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'gvx_activity_at'"), "0");
}

}  // namespace
}  // namespace gvx
