// How often, and how long, gvx's own SQLite connections waited for another connection's lock
// (the busy handler in connection.cpp), for gvx-fcgi's /metrics. Process-wide, lock-free.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace gvx {

struct BusyWaitCounts {
    std::uint64_t waits = 0;     // locks waited for (statements that had to wait at all)
    std::uint64_t waited_us = 0; // time spent sleeping in those waits, all together
    std::uint64_t gave_up = 0;   // waits that ended in SQLITE_BUSY after the timeout
};

// How long gvx's busy handler sleeps before its next look at a lock, after attempts looks:
// 20 µs, doubling up to 1 ms. Write transactions here (a verification, a cleanup batch) hold
// the lock well under a millisecond, so most waits end within a few short sleeps, where a
// flat 1 ms sleep made every wait cost a millisecond at least.
inline std::chrono::microseconds busy_sleep_after(int attempts) {
    constexpr int kFirstUs = 20;
    constexpr int kLongestUs = 1000;
    if (attempts >= 6) return std::chrono::microseconds(kLongestUs);  // 20 << 6 > 1000
    return std::chrono::microseconds(std::min(kLongestUs, kFirstUs << std::max(attempts, 0)));
}

// The state of gvx's busy handler on one connection (store/connection.cpp).
struct BusyWait {
    static constexpr std::chrono::milliseconds kTimeout{5000};
    std::chrono::milliseconds timeout = kTimeout;  // a wait gives up (SQLITE_BUSY) after this
    std::chrono::steady_clock::time_point since;    // the start of the current wait
};

// A snapshot of the counters since the process started.
BusyWaitCounts busy_wait_counts();

// Called by the busy handler after each sleep: attempts is SQLite's count of earlier calls
// for this lock (0: a new wait), slept how long that sleep took.
void note_busy_wait(int attempts, std::chrono::steady_clock::duration slept);
// Called by the busy handler when it gives up.
void note_busy_timeout();

}  // namespace gvx
