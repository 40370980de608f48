#include "store/busy_waits.hpp"

#include <atomic>

namespace gvx {
namespace {

std::atomic<std::uint64_t> g_waits{0};
std::atomic<std::uint64_t> g_waited_us{0};
std::atomic<std::uint64_t> g_gave_up{0};

}  // namespace

BusyWaitCounts busy_wait_counts() {
    return BusyWaitCounts{.waits = g_waits.load(std::memory_order_relaxed),
                          .waited_us = g_waited_us.load(std::memory_order_relaxed),
                          .gave_up = g_gave_up.load(std::memory_order_relaxed)};
}

void note_busy_wait(int attempts, std::chrono::steady_clock::duration slept) {
    if (attempts == 0) g_waits.fetch_add(1, std::memory_order_relaxed);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(slept).count();
    g_waited_us.fetch_add(us > 0 ? static_cast<std::uint64_t>(us) : 0, std::memory_order_relaxed);
}

void note_busy_timeout() { g_gave_up.fetch_add(1, std::memory_order_relaxed); }

}  // namespace gvx
