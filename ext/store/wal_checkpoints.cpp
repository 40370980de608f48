#include "store/wal_checkpoints.hpp"

namespace gvx {
namespace {

int checkpoint_if_due(void* pacer, sqlite3* db, const char* schema, int pages_in_wal) {
    if (static_cast<CheckpointPacer*>(pacer)->due(pages_in_wal)) {
        // Passive, as SQLite's own: it waits for nobody, and copies what it can. Its result
        // is not the commit's: the commit is done, and the next checkpoint tries again.
        (void)sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    return SQLITE_OK;
}

}  // namespace

void checkpoint_as_wal_grows(sqlite3* db, CheckpointPacer* pacer) {
    sqlite3_wal_hook(db, checkpoint_if_due, pacer);
}

}  // namespace gvx
