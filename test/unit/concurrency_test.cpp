// Several processes on one database file: usage counts and rate-limit admissions are exact.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <vector>

#include "test_db.hpp"

namespace gvx {
namespace {

using testing::now_ms;
using testing::open_store;
using testing::RawDb;
using testing::TempDb;

// Runs body(i) in n child processes at once; each opens its own connection. Returns the sum of
// the children's exit codes (each reports a small count through it).
int run_processes(int n, const std::function<int(int)>& body) {
    std::vector<pid_t> pids;
    for (int i = 0; i < n; ++i) {
        const pid_t pid = fork();
        if (pid == 0) _exit(body(i));
        pids.push_back(pid);
    }
    int total = 0;
    for (pid_t pid : pids) {
        int status = 0;
        waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status));
        total += WEXITSTATUS(status);
    }
    return total;
}

std::string create_token(const std::string& path, std::string_view user) {
    auto store = open_store(path);
    auto c = store->create(NewToken{.user_id = user, .name = "shared token"}, now_ms());
    EXPECT_TRUE(c);
    return std::string(c->key.view());
}

TEST(Concurrency, EveryVerificationIsCountedExactlyOnce) {
    ASSERT_GE(sodium_init(), 0);
    TempDb db;
    const std::string key = create_token(db.path(), "alice");
    constexpr int kProcs = 4, kEach = 150;
    const int ok = run_processes(kProcs, [&](int) {
        auto store = Store::open(db.path());
        if (!store) return 0;
        int n = 0;
        for (int i = 0; i < kEach; ++i) {
            auto v = (*store)->verify(key, {}, now_ms());
            if (v && v->outcome == Outcome::ok) ++n;
        }
        return n == kEach ? 1 : 0;
    });
    EXPECT_EQ(ok, kProcs);
    RawDb raw(db.path());
    EXPECT_EQ(raw.scalar("SELECT request_count FROM apikey"), std::to_string(kProcs * kEach));
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM gvx_activity WHERE outcome = 'OK'"),
              std::to_string(kProcs * kEach));
}

TEST(Concurrency, RateLimitAdmitsExactlyMaxUnderContention) {
    ASSERT_GE(sodium_init(), 0);
    TempDb db;
    const std::string key = create_token(db.path(), "alice");
    RawDb raw(db.path());
    raw.exec("INSERT INTO gvx_config VALUES ('rate_limit_enabled', 1), ('rate_limit_max', 37), "
             "('rate_limit_time_window', 3600000)");
    constexpr int kProcs = 4, kEach = 25;  // 100 attempts for 37 places
    const int admitted = run_processes(kProcs, [&](int) {
        auto store = Store::open(db.path());
        if (!store) return 0;
        int n = 0;
        for (int i = 0; i < kEach; ++i) {
            auto v = (*store)->verify(key, {}, now_ms());
            if (v && v->outcome == Outcome::ok) ++n;
        }
        return n;
    });
    EXPECT_EQ(admitted, 37);
    EXPECT_EQ(raw.scalar("SELECT request_count FROM apikey"), "37");
    // Refusals are counted in rows (sql/002): every one of them, exactly.
    EXPECT_EQ(raw.scalar("SELECT sum(count) FROM gvx_activity WHERE outcome = 'RATE_LIMITED'"),
              std::to_string(kProcs * kEach - 37));
}

TEST(Concurrency, NoTokenVerifiesAfterItsRevokeReturned) {
    ASSERT_GE(sodium_init(), 0);
    TempDb db;
    const std::string key = create_token(db.path(), "alice");
    RawDb raw(db.path());
    const std::string id = raw.scalar("SELECT id FROM apikey");
    // Children verify in a loop and record when each successful verification started; the
    // parent revokes once both have verified (on a loaded machine a fixed delay was not enough
    // for a child to start) and notes when revoke returned. No success may have started after
    // that. The children stop when the parent closes the stop pipe.
    int results[2], ready[2], stop[2];
    ASSERT_EQ(pipe(results), 0);
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(stop), 0);
    std::vector<pid_t> pids;
    for (int p = 0; p < 2; ++p) {
        const pid_t pid = fork();
        if (pid == 0) {
            close(results[0]);
            close(ready[0]);
            close(stop[1]);
            auto store = Store::open(db.path());
            std::int64_t last_ok = 0;
            bool told_ready = false;
            const std::int64_t give_up = now_ms() + 60'000;
            pollfd stopped{.fd = stop[0], .events = POLLIN, .revents = 0};
            while (store && now_ms() < give_up && poll(&stopped, 1, 0) == 0) {
                // Stamp the start: a verification that began before the revoke returned may
                // still succeed; one that began after it must not.
                const std::int64_t started = now_ms();
                auto v = (*store)->verify(key, {}, started);
                if (v && v->outcome == Outcome::ok) last_ok = started;
                if (last_ok && !told_ready) told_ready = write(ready[1], "r", 1) == 1;
                // Two writers in a tight loop: SQLite's busy handler polls with sleeps, so the
                // other child can miss every free moment and never verify at all (seen under
                // ASan and a loaded CI). A pause leaves the lock free for it.
                usleep(500);
            }
            if (!told_ready) (void)!write(ready[1], "r", 1);
            (void)!write(results[1], &last_ok, sizeof last_ok);
            _exit(0);
        }
        pids.push_back(pid);
    }
    close(results[1]);
    close(ready[1]);
    close(stop[0]);
    char r[2];
    ASSERT_EQ(read(ready[0], r, 1), 1);
    ASSERT_EQ(read(ready[0], r + 1, 1), 1);
    auto store = open_store(db.path());
    auto revoked = store->revoke(id, std::nullopt);
    ASSERT_TRUE(revoked);
    EXPECT_TRUE(*revoked);
    const std::int64_t revoked_at = now_ms();
    usleep(300'000);  // the children go on verifying (and must be refused) for a while
    close(stop[1]);
    for (pid_t pid : pids) waitpid(pid, nullptr, 0);
    for (int p = 0; p < 2; ++p) {
        std::int64_t last_ok = 0;
        ASSERT_EQ(read(results[0], &last_ok, sizeof last_ok), (ssize_t)sizeof last_ok);
        EXPECT_GT(last_ok, 0);
        EXPECT_LE(last_ok, revoked_at);
    }
    close(results[0]);
    close(ready[0]);
}

}  // namespace
}  // namespace gvx
