#include "cleanup.hpp"
#include "store/cleanup_checkpoints.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

namespace gvx {
namespace {

constexpr std::int64_t kMinBatch = 8;
constexpr std::int64_t kMaxBatch = 4096;
constexpr std::int64_t kFirstBatch = 64;
constexpr std::int64_t kFastBatch = 500;

std::int64_t elapsed_us(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now() - since)
        .count();
}

// While a paced cleanup runs, it waits for the lock as gvx's own connections do (short sleeps):
// with SQLite's default handler (1, 2, 5, 10... ms, as the sqlite3 shell's .timeout has) it
// would lose the lock to verifications that look again sooner, and sleep ever longer.
class BriefBusyWaits {
   public:
    explicit BriefBusyWaits(Store& store) : store_(store), on_(store.begin_brief_busy_waits()) {}
    BriefBusyWaits(const BriefBusyWaits&) = delete;
    BriefBusyWaits& operator=(const BriefBusyWaits&) = delete;
    ~BriefBusyWaits() {
        if (on_) store_.end_brief_busy_waits();
    }
    bool on() const { return on_; }

   private:
    Store& store_;
    bool on_;
};

}  // namespace

Result<PurgeReport> purge_paced(Store& store, std::int64_t now,
                                std::optional<std::int64_t> pause_ratio) {
    GVX_TRY(store.prepare());
    GVX_TRY_VALUE(const Config cfg, store.config());
    const std::int64_t ratio = std::max<std::int64_t>(0, pause_ratio.value_or(cfg.cleanup_pause_ratio));
    const bool top_level = sqlite3_get_autocommit(store.db()) != 0;
    const bool paced = top_level && ratio > 0;
    std::int64_t batch = paced ? kFirstBatch : kFastBatch;

    std::optional<BriefBusyWaits> waits;  // outlives checkpoints, whose last one waits briefly
    std::optional<CleanupCheckpoints> checkpoints;
    if (paced) {
        waits.emplace(store);
        checkpoints.emplace(store, waits->on());
    }
    PurgeReport total;
    for (;;) {
        const auto started = std::chrono::steady_clock::now();
        GVX_TRY_VALUE(const PurgeReport r, store.purge_batch(now, batch));
        const std::int64_t held_us = elapsed_us(started);
        total.tokens += r.tokens;
        total.activity += r.activity;
        total.audit += r.audit;
        if (r.tokens < batch && r.activity < batch && r.audit < batch) return total;
        if (!top_level) continue;
        if (!paced) {
            // Even flat out, leave the lock free for a moment: without it this loop takes the
            // lock straight back and waiting verifications starve until the purge ends.
            sqlite3_sleep(1);
            continue;
        }
        if (held_us < cfg.cleanup_hold_us / 2) batch = std::min(batch * 2, kMaxBatch);
        else if (held_us > cfg.cleanup_hold_us) batch = std::max(batch / 2, kMinBatch);
        checkpoints->checkpoint_if_due();
        // In microseconds: a batch of a few hundred µs pauses a millisecond or two, not a
        // whole number of them.
        const std::int64_t pause_us = std::clamp<std::int64_t>(held_us * ratio, 100, 10'000'000);
        std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
    }
}

}  // namespace gvx
