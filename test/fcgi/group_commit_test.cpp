// GroupCommitStore over a real Store: many request threads verifying at once, their
// verifications committed together, every one counted exactly once and answered only once its
// transaction committed; rate limits admit exactly their maximum; the token API goes on beside.
#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "group_commit.hpp"
#include "test_db.hpp"

namespace gvx::fcgi {
namespace {

using gvx::testing::now_ms;
using gvx::testing::RawDb;
using gvx::testing::TempDb;

constexpr int kThreads = 16;
constexpr int kEach = 40;

class GroupCommit : public ::testing::Test {
   protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        auto s = Store::open(db_.path());
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
    }
    std::string create(const std::string& user, std::optional<std::int64_t> max = std::nullopt) {
        auto t = store_->create(NewToken{.user_id = user, .name = user + " laptop",
                                         .rate_limit_time_window = max ? std::optional<std::int64_t>(3'600'000) : std::nullopt,
                                         .rate_limit_max = max},
                                now_ms());
        EXPECT_TRUE(t) << t.error().message;
        return std::string(t->key.view());
    }
    // kThreads threads verify token kEach times each through shared; counts the outcomes.
    std::vector<int> hammer(GroupCommitStore& shared, const std::string& token) {
        GroupCommitStore::View view(shared);
        std::vector<std::atomic<int>> by_outcome(16);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                const std::string agent = "thread " + std::to_string(t);
                for (int i = 0; i < kEach; ++i) {
                    auto v = view.verify(token, ClientInfo{"127.0.0.1", agent}, now_ms());
                    ASSERT_TRUE(v) << v.error().message;
                    by_outcome[static_cast<int>(v->outcome)] += 1;
                }
            });
        }
        for (auto& t : threads) t.join();
        std::vector<int> out;
        for (auto& n : by_outcome) out.push_back(n.load());
        return out;
    }
    TempDb db_;
    std::unique_ptr<Store> store_;
};

TEST_F(GroupCommit, EveryVerificationIsCountedOnceAndBatchesAreShared) {
    const std::string token = create("alice");
    GroupCommitStore shared(*store_);
    const std::vector<int> outcomes = hammer(shared, token);
    EXPECT_EQ(outcomes[static_cast<int>(Outcome::ok)], kThreads * kEach);

    RawDb raw(db_.path());  // another connection: only what was committed
    EXPECT_EQ(raw.scalar("SELECT request_count FROM apikey"), std::to_string(kThreads * kEach));
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM gvx_activity WHERE outcome = 'OK'"),
              std::to_string(kThreads * kEach));
    const auto counts = shared.counts();
    EXPECT_EQ(counts.verifications, static_cast<std::uint64_t>(kThreads * kEach));
    EXPECT_LT(counts.batches, counts.verifications);  // some commits carried several
}

TEST_F(GroupCommit, RateLimitAdmitsExactlyItsMaximum) {
    RawDb raw(db_.path());
    raw.exec("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1)");
    const std::string token = create("alice", 100);
    GroupCommitStore shared(*store_);
    const std::vector<int> outcomes = hammer(shared, token);
    EXPECT_EQ(outcomes[static_cast<int>(Outcome::ok)], 100);
    EXPECT_EQ(outcomes[static_cast<int>(Outcome::rate_limited)], kThreads * kEach - 100);
    EXPECT_EQ(raw.scalar("SELECT request_count FROM apikey"), "100");
    EXPECT_EQ(raw.scalar("SELECT sum(count) FROM gvx_activity WHERE outcome = 'RATE_LIMITED'"),
              std::to_string(kThreads * kEach - 100));
}

// An answer is given only after its transaction committed: whoever is told "ok" finds the use
// counted from another connection at once.
TEST_F(GroupCommit, AnAnswerComesAfterItsCommit) {
    const std::string token = create("alice");
    GroupCommitStore shared(*store_);
    std::vector<std::thread> threads;
    std::atomic<int> unseen{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            RawDb raw(db_.path());
            for (int i = 0; i < 20; ++i) {
                auto v = GroupCommitStore::View(shared).verify(token, ClientInfo{"127.0.0.1", "git"},
                                                              now_ms());
                ASSERT_TRUE(v);
                const std::int64_t mine = v->record->request_count;
                if (std::stoll(raw.scalar("SELECT request_count FROM apikey")) < mine) ++unseen;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(unseen.load(), 0);
}

// Token API calls from other threads run between batches, on the same connection.
TEST_F(GroupCommit, TheTokenApiRunsBesideVerifications) {
    const std::string token = create("alice");
    GroupCommitStore shared(*store_);
    // All 50 creates are made whenever the verifications end (under load they may end first).
    std::thread api([&] {
        GroupCommitStore::View view(shared);
        const ActingAs acting(view, Actor{.user = "bob", .via = AuditVia::session});
        for (int made = 0; made < 50; ++made) {
            auto c = view.create(NewToken{.user_id = "bob", .name = "token " + std::to_string(made)},
                                 now_ms());
            ASSERT_TRUE(c) << c.error().message;
            ASSERT_TRUE(view.list("bob"));
        }
    });
    const std::vector<int> outcomes = hammer(shared, token);
    api.join();
    EXPECT_EQ(outcomes[static_cast<int>(Outcome::ok)], kThreads * kEach);
    GroupCommitStore::View view(shared);
    auto bobs = view.list("bob");
    ASSERT_TRUE(bobs);
    EXPECT_EQ(bobs->size(), 50u);
    // Each change is bob's in the audit trail, whatever the verifying threads were.
    auto trail = view.audit(AuditQuery{.owner = "bob", .limit = 100});
    ASSERT_TRUE(trail) << trail.error().message;
    ASSERT_EQ(trail->size(), 50u);
    for (const AuditRecord& r : *trail) EXPECT_EQ(r.actor, "bob");
}

}  // namespace
}  // namespace gvx::fcgi
