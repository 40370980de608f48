#include "store/cleanup_checkpoints.hpp"

#include "store/sql.hpp"

namespace gvx {

CleanupCheckpoints::CleanupCheckpoints(Store& store, bool brief_waits)
    : store_(store), brief_waits_(brief_waits) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(store_.db(), sql::kWalAutocheckpoint, -1, &raw, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(raw) == SQLITE_ROW)
        restore_pages_ = sqlite3_column_int(raw, 0);
    sqlite3_finalize(raw);
    // Replaces SQLite's auto-checkpoint (or, on a connection gvx owns, its CheckpointPacer).
    sqlite3_wal_hook(store_.db(), &CleanupCheckpoints::on_commit, this);
}

CleanupCheckpoints::~CleanupCheckpoints() {
    if (grew_large_) start_over(SQLITE_CHECKPOINT_TRUNCATE);
    store_.restore_checkpoints(restore_pages_);
}

int CleanupCheckpoints::on_commit(void* self, sqlite3*, const char*, int pages_in_wal) {
    auto& me = *static_cast<CleanupCheckpoints*>(self);
    me.pages_in_wal_ = pages_in_wal;
    if (me.pacer_.due(pages_in_wal)) me.due_ = true;
    if (me.restarts_.due(pages_in_wal)) me.restart_due_ = true;
    return SQLITE_OK;
}

void CleanupCheckpoints::checkpoint_if_due() {
    if (!due_) return;
    due_ = false;
    checkpoint(SQLITE_CHECKPOINT_PASSIVE);
    if (restart_due_) {
        restart_due_ = false;
        grew_large_ = true;
        start_over(SQLITE_CHECKPOINT_RESTART);
    }
}

void CleanupCheckpoints::start_over(int mode) {
    if (!brief_waits_) return;
    const auto timeout = store_.swap_busy_timeout(std::chrono::milliseconds(kRestartWaitMs));
    checkpoint(mode);
    store_.swap_busy_timeout(timeout);
}

void CleanupCheckpoints::checkpoint(int mode) {
    // A checkpoint that cannot finish (busy) is tried again at the next one; the cleanup's
    // own work does not depend on it.
    (void)sqlite3_wal_checkpoint_v2(store_.db(), nullptr, mode, nullptr, nullptr);
}

}  // namespace gvx
