// The WAL checkpoints of a paced cleanup (cleanup.cpp), done by the cleanup in its pauses.
//
// Left to SQLite's auto-checkpoint, the copy and its fsyncs land on whichever commit crosses
// 1000 pages, often a verification's, which then takes milliseconds; and counted inside a
// batch, they would shrink the batches for nothing. So the cleanup checkpoints passively (it
// waits for nobody) each time the WAL has grown by kPassivePages.
//
// A passive checkpoint copies the WAL but cannot make it start over: that takes a moment when
// nobody writes, and verifications write all the time. So the WAL grows while a large cleanup
// runs (some 20 MB a second on a slow disk); once it holds kRestartPages, the cleanup makes it
// start over with a restart checkpoint, which holds writers back for the copy of the last
// few pages and its fsyncs (about 10 ms here), once per kRestartPages. It waits at most
// kRestartWaitMs for the lock and for readers (a long reader would otherwise hold every
// verification back for the whole busy timeout), and after a failure tries again only once
// the WAL has grown by kRestartPages more. At the end it hands the file's space back (a
// truncate checkpoint, the same short wait) if it had grown that far.
#pragma once

#include "store.hpp"
#include "store/wal_checkpoints.hpp"

namespace gvx {

class CleanupCheckpoints {
   public:
    static constexpr int kPassivePages = 200;
    static constexpr int kRestartPages = 32768;  // 128 MB at 4 KB pages
    static constexpr int kRestartWaitMs = 50;

    // Takes over store's checkpoints until destroyed. brief_waits: gvx's busy handler is in
    // use on the connection (Store::begin_brief_busy_waits), so a restart can wait briefly;
    // without it there are none.
    CleanupCheckpoints(Store& store, bool brief_waits);
    CleanupCheckpoints(const CleanupCheckpoints&) = delete;
    CleanupCheckpoints& operator=(const CleanupCheckpoints&) = delete;
    ~CleanupCheckpoints();

    // Between batches: the checkpoint due, if any.
    void checkpoint_if_due();

   private:
    static int on_commit(void* self, sqlite3*, const char*, int pages_in_wal);
    void checkpoint(int mode);
    // A restart or truncate checkpoint, waiting at most kRestartWaitMs.
    void start_over(int mode);

    Store& store_;
    bool brief_waits_;
    CheckpointPacer pacer_{kPassivePages, /*max_growth=*/1};
    CheckpointPacer restarts_{kRestartPages, /*max_growth=*/1};
    int pages_in_wal_ = 0;
    bool due_ = false;
    bool restart_due_ = false;
    bool grew_large_ = false;
    int restore_pages_ = kWalCheckpointPages;
};

}  // namespace gvx
