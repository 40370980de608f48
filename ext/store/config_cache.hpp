// gvx_config as last read on this connection, kept while the database file is unchanged.
//
// Reading gvx_config on every verification costs a statement per request for settings that
// change a few times a year. SQLite's per-file data version (SQLITE_FCNTL_DATA_VERSION) moves
// with every commit to the file: by another connection or process (seen when a transaction
// starts), and by this connection itself, gvx's writes and the host's alike. So a copy read in a
// transaction gvx began itself holds as long as the data version is the one that transaction
// left behind: any change to gvx_config since then, from anywhere, moved it.
//
// Only transactions gvx began (BEGIN IMMEDIATE, so no other writer can commit in between) use
// and fill the copy. Inside the host's own transaction gvx cannot see what it changed before
// committing, so there the table is read every time. A connection's Store lives on one thread.
#pragma once

#include <optional>

#include "core/policy.hpp"
#include "sqlite_api.hpp"

namespace gvx {

class ConfigCache {
   public:
    // After BEGIN IMMEDIATE of a transaction of gvx's own: the copy holds if nothing committed
    // since the last transaction of gvx's that kept it.
    void own_transaction_began(sqlite3* db) {
        in_own_ = true;
        if (config_ && (!version_ || data_version(db) != version_)) config_.reset();
    }
    // After that transaction committed: this commit moved the data version; gvx never writes
    // gvx_config, so the copy still holds at the new version.
    void own_transaction_committed(sqlite3* db) {
        if (in_own_ && config_) version_ = data_version(db);
        if (!version_) config_.reset();
        in_own_ = false;
    }
    // After it rolled back, or ended some other way: read afresh next time.
    void own_transaction_abandoned() {
        in_own_ = false;
        config_.reset();
    }

    // The copy, when it may be used here (in a transaction of gvx's own).
    const Config* get() const { return in_own_ && config_ ? &*config_ : nullptr; }
    // Keeps c, read in this transaction, when it is one of gvx's own.
    void keep(const Config& c, sqlite3* db) {
        if (!in_own_) return;
        version_ = data_version(db);
        if (version_) config_ = c;
    }
    void clear() {
        in_own_ = false;
        config_.reset();
    }

   private:
    // None when SQLite cannot tell: then nothing is kept, and nothing matches.
    static std::optional<unsigned int> data_version(sqlite3* db) {
        unsigned int v = 0;
        if (sqlite3_file_control(db, "main", SQLITE_FCNTL_DATA_VERSION, &v) != SQLITE_OK)
            return std::nullopt;
        return v;
    }

    bool in_own_ = false;
    std::optional<Config> config_;
    std::optional<unsigned int> version_;
};

}  // namespace gvx
