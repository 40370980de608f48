// When gvx's own SQLite connections checkpoint the WAL.
//
// SQLite's auto-checkpoint runs a checkpoint, with its two fsyncs, after every commit that
// leaves 1000 pages or more in the WAL. The WAL only starts over once a checkpoint has copied
// all of it and the next writer finds nobody else writing meanwhile; while a cleanup writes
// hundreds of pages a second beside verifications (gvx-cleanup), that rarely happens, so the
// WAL stays above 1000 pages and every verification's commit paid a checkpoint (milliseconds,
// a 10x p99). gvx's connections checkpoint once the WAL reaches kWalCheckpointPages, and then
// again only once it has grown by that much more: the same as SQLite's when the WAL starts
// over, at most one checkpoint per kWalCheckpointPages when it cannot.
#pragma once

#include <algorithm>

#include "sqlite_api.hpp"

namespace gvx {

inline constexpr int kWalCheckpointPages = 1000;  // SQLite's default auto-checkpoint

// The decision alone, fed the WAL's size after each commit.
class CheckpointPacer {
   public:
    // every_pages: the first checkpoint's size; while the WAL does not start over, the steps
    // double up to max_growth times that.
    explicit CheckpointPacer(int every_pages = kWalCheckpointPages, int max_growth = 8)
        : every_(every_pages), max_growth_(max_growth), step_(every_pages), next_(every_pages) {}

    // pages_in_wal: the WAL's size after a commit (as sqlite3_wal_hook reports it).
    // True: checkpoint now.
    bool due(int pages_in_wal) {
        if (pages_in_wal < last_) {  // the WAL started over
            step_ = every_;
            next_ = every_;
        }
        last_ = pages_in_wal;
        if (pages_in_wal < next_) return false;
        next_ = pages_in_wal + step_;
        step_ = std::min(step_ * 2, every_ * max_growth_);
        return true;
    }

   private:
    int every_;
    int max_growth_;
    int step_;
    int next_;
    int last_ = 0;
};

// Replaces the connection's auto-checkpoint with a passive checkpoint when pacer says so;
// pacer must outlive the hook (sqlite3_wal_autocheckpoint or another hook replaces it).
void checkpoint_as_wal_grows(sqlite3* db, CheckpointPacer* pacer);

}  // namespace gvx
