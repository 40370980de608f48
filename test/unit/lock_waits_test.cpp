// How gvx's own connections share the database file with a cleanup: the busy handler's short
// waits and its timeout, the WAL checkpoints that no longer fall on every commit, and a paced
// purge beside live verifications.
#include <atomic>
#include <thread>

#include "cleanup.hpp"
#include "store/busy_waits.hpp"
#include "store/wal_checkpoints.hpp"
#include "test_db.hpp"

namespace gvx {
namespace {

using testing::now_ms;
using testing::open_store;
using testing::RawDb;
using testing::TempDb;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// About 100 pages in one commit.
constexpr const char* kFillerInsert =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) "
    "INSERT INTO filler SELECT randomblob(3000) FROM n";

std::string make(Store& store, std::string_view name) {
    auto c = store.create(NewToken{.user_id = "alice", .name = name}, now_ms());
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? std::string(c->key.view()) : std::string();
}

// The WAL's size in pages as a plain connection sees it (a passive checkpoint's report).
int wal_pages(RawDb& raw) {
    int log = -1, done = -1;
    EXPECT_EQ(sqlite3_wal_checkpoint_v2(raw.db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done),
              SQLITE_OK);
    return log;
}

TEST(WalCheckpoints, FirstAtAThousandPagesAsSQLiteDoes) {
    CheckpointPacer pacer;
    EXPECT_FALSE(pacer.due(3));
    EXPECT_FALSE(pacer.due(999));
    EXPECT_TRUE(pacer.due(1000));
    // The WAL started over: the count starts again.
    EXPECT_FALSE(pacer.due(4));
    EXPECT_FALSE(pacer.due(998));
    EXPECT_TRUE(pacer.due(1003));
}

TEST(WalCheckpoints, NotOnEveryCommitWhileTheWalCannotStartOver) {
    CheckpointPacer pacer;
    EXPECT_TRUE(pacer.due(1000));
    // SQLite's auto-checkpoint would run on each of these commits.
    for (int pages = 1003; pages < 2000; pages += 3) EXPECT_FALSE(pacer.due(pages)) << pages;
    EXPECT_TRUE(pacer.due(2000));
    // The steps double while it still grows: 2000 more, 4000, then 8000 at most.
    EXPECT_FALSE(pacer.due(3999));
    EXPECT_TRUE(pacer.due(4000));
    EXPECT_FALSE(pacer.due(7999));
    EXPECT_TRUE(pacer.due(8000));
    EXPECT_FALSE(pacer.due(15999));
    EXPECT_TRUE(pacer.due(16000));
    EXPECT_FALSE(pacer.due(23999));
    EXPECT_TRUE(pacer.due(24000));
    // Once it starts over, a thousand pages again.
    EXPECT_FALSE(pacer.due(10));
    EXPECT_TRUE(pacer.due(1010));
}

TEST(WalCheckpoints, FixedStepsWithoutGrowth) {
    CheckpointPacer pacer(200, /*max_growth=*/1);
    EXPECT_FALSE(pacer.due(199));
    EXPECT_TRUE(pacer.due(200));
    EXPECT_FALSE(pacer.due(399));
    EXPECT_TRUE(pacer.due(400));
    EXPECT_TRUE(pacer.due(600));
}

// gvx's own connection still checkpoints: a WAL written through it keeps starting over
// instead of growing with every commit.
TEST(WalCheckpoints, OwnConnectionKeepsTheWalSmall) {
    TempDb db;
    auto store = open_store(db.path());
    ASSERT_TRUE(store);
    sqlite3* own = store->db();
    ASSERT_EQ(sqlite3_exec(own, "CREATE TABLE filler (b BLOB)", nullptr, nullptr, nullptr),
              SQLITE_OK);
    // 60 commits of about 100 pages each: 6000 pages written in all.
    for (int i = 0; i < 60; ++i) {
        ASSERT_EQ(sqlite3_exec(own, kFillerInsert, nullptr, nullptr, nullptr),
                  SQLITE_OK)
            << sqlite3_errmsg(own);
    }
    RawDb raw(db.path());
    EXPECT_LT(wal_pages(raw), 1300);
}

TEST(BusyWait, SleepsStartShortAndGrowToAMillisecond) {
    EXPECT_EQ(busy_sleep_after(0), microseconds(20));
    EXPECT_EQ(busy_sleep_after(1), microseconds(40));
    EXPECT_EQ(busy_sleep_after(5), microseconds(640));
    for (int attempts = 6; attempts < 10'000; attempts += 997)
        EXPECT_EQ(busy_sleep_after(attempts), milliseconds(1)) << attempts;
    for (int attempts = 1; attempts < 20; ++attempts)
        EXPECT_GE(busy_sleep_after(attempts), busy_sleep_after(attempts - 1));
}

// Another connection holds the write lock for a few milliseconds: the verification waits for
// it and succeeds soon after it is released, and the wait is counted.
TEST(BusyWait, ShortLockIsWaitedOut) {
    ASSERT_GE(sodium_init(), 0);
    TempDb db;
    auto store = open_store(db.path());
    ASSERT_TRUE(store);
    const std::string key = make(*store, "laptop");
    RawDb holder(db.path());
    holder.exec("BEGIN IMMEDIATE");
    const BusyWaitCounts before = busy_wait_counts();
    std::atomic<bool> released{false};
    std::thread release([&] {
        std::this_thread::sleep_for(milliseconds(5));
        released = true;
        holder.exec("COMMIT");
    });
    auto v = store->verify(key, ClientInfo{"127.0.0.1", "test"}, now_ms());
    release.join();
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->outcome, Outcome::ok);
    EXPECT_TRUE(released.load());
    const BusyWaitCounts after = busy_wait_counts();
    EXPECT_GE(after.waits - before.waits, 1u);
    EXPECT_GE(after.waited_us - before.waited_us, 1000u);
    EXPECT_EQ(after.gave_up, before.gave_up);
}

// A lock that is never released: each wait gives up after the 5 s timeout, and the
// verification fails as busy (gvx-fcgi's 503), its usage count untouched. (At top level
// verification tries its side connection too, which waits as long again.)
TEST(BusyWait, GivesUpAfterTheTimeoutAsBusy) {
    ASSERT_GE(sodium_init(), 0);
    TempDb db;
    auto store = open_store(db.path());
    ASSERT_TRUE(store);
    const std::string key = make(*store, "laptop");
    RawDb holder(db.path());
    holder.exec("BEGIN IMMEDIATE");
    const BusyWaitCounts before = busy_wait_counts();
    const auto started = steady_clock::now();
    auto v = store->verify(key, ClientInfo{"127.0.0.1", "test"}, now_ms());
    const auto waited = steady_clock::now() - started;
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, Errc::busy);
    const auto gave_up = static_cast<int>(busy_wait_counts().gave_up - before.gave_up);
    EXPECT_GE(gave_up, 1);
    EXPECT_GE(waited, gave_up * milliseconds(5000));
    EXPECT_LT(waited, gave_up * milliseconds(5000) + milliseconds(3000));
    holder.exec("ROLLBACK");
    EXPECT_EQ(RawDb(db.path()).scalar("SELECT request_count FROM apikey"), "0");
}

// A paced purge on gvx's own connection while another connection verifies: every expired
// token and old activity row goes, no live token does, every verification succeeds and is
// counted; afterwards the connection checkpoints on its own again.
TEST(PurgePaced, RemovesEverythingExpiredAndNothingLiveWhileVerifying) {
    ASSERT_GE(sodium_init(), 0);
    TempDb db;
    auto cleaner = open_store(db.path());
    ASSERT_TRUE(cleaner);
    RawDb(db.path()).exec("INSERT INTO gvx_config VALUES ('max_tokens_per_user', 0)");
    std::vector<std::string> live;
    for (int i = 0; i < 5; ++i) live.push_back(make(*cleaner, "live " + std::to_string(i)));
    const std::int64_t now = now_ms();
    {
        RawDb raw(db.path());
        raw.exec("INSERT INTO apikey (id, key, user_id, expires_at, created_at, updated_at) "
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
                 "SELECT 'expired-' || i, 'hash-' || i, 'bob', " +
                 std::to_string(now - 1000) + ", 0, 0 FROM n");
        raw.exec("INSERT INTO gvx_activity (at, key_id, key_start, outcome) "
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
                 "SELECT i, 'x', 'gvx_xx', 'OK' FROM n");
    }
    std::atomic<bool> purging{true};
    std::atomic<int> verified{0}, failed{0};
    std::thread verifier([&] {
        auto store = open_store(db.path());
        if (!store) return;
        for (std::size_t i = 0; purging || i < live.size(); ++i) {
            auto v = store->verify(live[i % live.size()], ClientInfo{"127.0.0.1", "t"}, now);
            if (v && v->outcome == Outcome::ok) ++verified;
            else ++failed;
            std::this_thread::sleep_for(microseconds(500));
        }
    });
    auto r = purge_paced(*cleaner, now, /*pause_ratio=*/2);
    purging = false;
    verifier.join();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->tokens, 20000);
    EXPECT_EQ(r->activity, 3000);
    EXPECT_EQ(failed.load(), 0);
    EXPECT_GT(verified.load(), 0);
    RawDb raw(db.path());
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM apikey"), "5");
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM gvx_activity WHERE key_id = 'x'"), "0");
    EXPECT_EQ(raw.scalar("SELECT sum(request_count) FROM apikey"),
              std::to_string(verified.load()));
    // The cleaner's connection has its own checkpoints back: writing through it keeps the WAL
    // from growing past them.
    sqlite3* own = cleaner->db();
    ASSERT_EQ(sqlite3_exec(own, "CREATE TABLE filler (b BLOB)", nullptr, nullptr, nullptr),
              SQLITE_OK);
    for (int i = 0; i < 40; ++i) {
        ASSERT_EQ(sqlite3_exec(own, kFillerInsert, nullptr, nullptr, nullptr),
                  SQLITE_OK);
    }
    EXPECT_LT(wal_pages(raw), 1300);
}

}  // namespace
}  // namespace gvx
