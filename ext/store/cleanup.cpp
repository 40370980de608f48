#include "cleanup.hpp"
#include "store/sql.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

namespace gvx {
namespace {

constexpr std::int64_t kMinBatch = 8;
constexpr std::int64_t kMaxBatch = 4096;
constexpr std::int64_t kFirstBatch = 64;
constexpr std::int64_t kFastBatch = 500;

// While a paced cleanup runs, it checkpoints the WAL it writes itself, during its pauses.
// Left to SQLite's auto-checkpoint, the copy and its fsyncs land on whichever commit crosses
// 1000 pages, often a verification's, which then takes milliseconds; and counted inside a
// batch, they would shrink the batches for nothing.
class CheckpointInPauses {
   public:
    explicit CheckpointInPauses(sqlite3* db) : db_(db) {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db_, sql::kWalAutocheckpoint, -1, &raw, nullptr) == SQLITE_OK &&
            sqlite3_step(raw) == SQLITE_ROW)
            restore_pages_ = sqlite3_column_int(raw, 0);
        sqlite3_finalize(raw);
        sqlite3_wal_hook(db_, &CheckpointInPauses::on_commit, this);  // replaces auto-checkpoint
    }
    CheckpointInPauses(const CheckpointInPauses&) = delete;
    CheckpointInPauses& operator=(const CheckpointInPauses&) = delete;
    ~CheckpointInPauses() { sqlite3_wal_autocheckpoint(db_, restore_pages_); }

    // A passive checkpoint (it waits for nobody) once the WAL holds kPages or more.
    void checkpoint_if_due() {
        if (wal_pages_ < kPages) return;
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        wal_pages_ = 0;
    }

   private:
    static constexpr int kPages = 200;
    static int on_commit(void* self, sqlite3*, const char*, int pages_in_wal) {
        static_cast<CheckpointInPauses*>(self)->wal_pages_ = pages_in_wal;
        return SQLITE_OK;
    }
    sqlite3* db_;
    int restore_pages_ = 1000;  // SQLite's default
    int wal_pages_ = 0;
};

std::int64_t elapsed_us(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now() - since)
        .count();
}

}  // namespace

Result<PurgeReport> purge_paced(Store& store, std::int64_t now,
                                std::optional<std::int64_t> pause_ratio) {
    GVX_TRY(store.prepare());
    GVX_TRY_VALUE(const Config cfg, store.config());
    const std::int64_t ratio = std::max<std::int64_t>(0, pause_ratio.value_or(cfg.cleanup_pause_ratio));
    const bool top_level = sqlite3_get_autocommit(store.db()) != 0;
    const bool paced = top_level && ratio > 0;
    std::int64_t batch = paced ? kFirstBatch : kFastBatch;

    std::optional<CheckpointInPauses> checkpoints;
    if (paced) checkpoints.emplace(store.db());
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
        const std::int64_t pause_ms = std::max<std::int64_t>(1, held_us * ratio / 1000);
        sqlite3_sleep(static_cast<int>(std::min<std::int64_t>(pause_ms, 10'000)));
    }
}

}  // namespace gvx
