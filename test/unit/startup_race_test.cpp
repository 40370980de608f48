// Several processes opening one fresh database at the same instant: every one succeeds (the
// first switch to WAL and the first migration are serialised, whoever comes first).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "test_db.hpp"

namespace gvx {
namespace {

constexpr int kProcesses = 8;
constexpr int kRounds = 50;

// Forks n children that block on a pipe until the parent closes it, so they all call
// Store::open at once. Returns how many failed; their messages go to stderr.
int open_all_at_once(const std::string& path, int n) {
    int gate[2];
    if (pipe(gate) != 0) return n;
    std::vector<pid_t> pids;
    for (int i = 0; i < n; ++i) {
        const pid_t pid = fork();
        if (pid == 0) {
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) > 0) {
            }  // returns 0 when the parent closes its end: the start
            auto store = Store::open(path);
            if (!store) std::fprintf(stderr, "open failed: %s\n", store.error().message.c_str());
            _exit(store ? 0 : 1);
        }
        pids.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);  // go
    int failed = 0;
    for (pid_t pid : pids) {
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
    }
    return failed;
}

TEST(StartupRace, EightProcessesOpenAFreshDatabaseAtOnceFiftyTimes) {
    int failed = 0;
    for (int round = 0; round < kRounds; ++round) {
        testing::TempDb db;
        failed += open_all_at_once(db.path(), kProcesses);
        testing::RawDb raw(db.path());
        EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
        EXPECT_EQ(raw.scalar("SELECT count(*) FROM gvx_meta WHERE name = 'schema_version'"), "1");
    }
    EXPECT_EQ(failed, 0) << failed << " of " << kProcesses * kRounds << " opens failed";
}

}  // namespace
}  // namespace gvx
