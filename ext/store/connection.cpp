// The SQLite store's connection: opening, pragmas, and the statement cache.
#include <errno.h>  // program_invocation_short_name (GNU)

#include <chrono>
#include <thread>
#include <utility>

#include "store.hpp"
#include "store/busy_waits.hpp"
#include "store/sql.hpp"

namespace gvx {
namespace {

constexpr int kBusyTimeoutMs = static_cast<int>(BusyWait::kTimeout.count());

// gvx's busy handler: look again after short sleeps that grow to 1 ms (busy_sleep_after), and
// give up (SQLITE_BUSY, a 503) once the wait has lasted the connection's BusyWait::timeout.
// Each wait is counted for gvx-fcgi's /metrics.
int wait_briefly(void* state, int attempts) {
    auto& wait = *static_cast<BusyWait*>(state);
    const auto now = std::chrono::steady_clock::now();
    if (attempts == 0) wait.since = now;
    if (now - wait.since >= wait.timeout) {
        note_busy_timeout();
        return 0;
    }
    std::this_thread::sleep_for(busy_sleep_after(attempts));
    note_busy_wait(attempts, std::chrono::steady_clock::now() - now);
    return 1;
}

// Switching a database to WAL takes an exclusive lock. When several processes open a fresh
// database at once, SQLite answers some of them SQLITE_BUSY at once, without waiting (each
// holds the shared lock the other needs: waiting would deadlock). The failed statement has
// let its locks go, so trying again shortly succeeds once the first switch is done.
Status switch_to_wal(sqlite3* db) {
    for (int waited_ms = 0;; ++waited_ms) {
        const int rc = sqlite3_exec(db, sql::kJournalModeWal, nullptr, nullptr, nullptr);
        if (rc == SQLITE_OK) return Ok{};
        if (!is_busy(rc) || waited_ms >= kBusyTimeoutMs) return db_error(db, rc);
        sqlite3_sleep(1);
    }
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                                   nullptr);
    DbPtr db{raw};  // owned before rc is looked at: open can fail and still return a handle
    if (rc != SQLITE_OK) {
        return Error{Errc::db, "cannot open database: " + std::string(sqlite3_errstr(rc)), rc};
    }
    sqlite3_extended_result_codes(raw, 1);
    std::unique_ptr<Store> store(new Store(std::move(db)));
    // Our own connection (gvx-fcgi, the side connection): wait for locks in short steps, from
    // the first statement on (another process may be switching the file to WAL). SQLite's
    // default handler backs off to 100 ms sleeps, so a waiter can sleep long after the lock is
    // free while others take it.
    sqlite3_busy_handler(raw, wait_briefly, &store->busy_);
    checkpoint_as_wal_grows(raw, &store->checkpoints_);
    // In WAL mode NORMAL loses no integrity, only the last commits on power loss, and saves
    // an fsync per verification.
    if (sqlite3_exec(raw, sql::kSynchronousNormal, nullptr, nullptr, nullptr) != SQLITE_OK)
        return db_error(raw, sqlite3_errcode(raw));
    GVX_TRY(store->prepare());
    return store;
}

// A connection that loaded gvx.so: its changes are SQL's, made by whoever runs the program
// (the audit trail names them: "root", via sql, from "sqlite3").
Store::Store(sqlite3* borrowed) : db_(borrowed) {
    actor_ = system_actor(AuditVia::sql, program_invocation_short_name);
}
Store::Store(DbPtr owned) : owned_(std::move(owned)), db_(owned_.get()) {}
Store::~Store() { release_statements(); }

void Store::release_statements() noexcept {
    cache_.clear();
    session_stmt_.reset();
    username_stmt_.reset();
    user_stmt_.reset();
    schema_seen_ = -1;
    config_cache_.clear();
    prepared_ = false;
    if (side_) side_.reset();
}

void Store::restore_checkpoints(int pages) {
    if (owned_) checkpoint_as_wal_grows(db_, &checkpoints_);
    else sqlite3_wal_autocheckpoint(db_, pages);
}

bool Store::begin_brief_busy_waits() {
    if (owned_) return true;
    if (host_busy_timeout_ms_ < 0) {
        sqlite3_stmt* raw = nullptr;
        int timeout_ms = 0;
        if (sqlite3_prepare_v2(db_, sql::kBusyTimeout, -1, &raw, nullptr) == SQLITE_OK &&
            sqlite3_step(raw) == SQLITE_ROW)
            timeout_ms = sqlite3_column_int(raw, 0);
        sqlite3_finalize(raw);
        if (timeout_ms <= 0) return false;  // the host's own handler (or none): not ours to swap
        host_busy_timeout_ms_ = timeout_ms;
    }
    busy_.timeout = std::chrono::milliseconds(host_busy_timeout_ms_);
    sqlite3_busy_handler(db_, wait_briefly, &busy_);
    return true;
}

void Store::end_brief_busy_waits() {
    if (owned_ || host_busy_timeout_ms_ < 0) return;
    sqlite3_busy_timeout(db_, host_busy_timeout_ms_);
    host_busy_timeout_ms_ = -1;
}

std::chrono::milliseconds Store::swap_busy_timeout(std::chrono::milliseconds timeout) {
    return std::exchange(busy_.timeout, timeout);
}

Status Store::exec(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return db_error(db_, rc);
    return Ok{};
}

Query Store::query(Sql which) { return Query(cache_[static_cast<std::size_t>(which)].get()); }

Status Store::step_done(Query& q) {
    if (const int rc = q.step(); rc != SQLITE_DONE) return db_error(db_, rc);
    return Ok{};
}

// A statement that returns no rows, from the cache once it is ready (migrations run earlier).
Status Store::run(Sql which) {
    if (cache_.size() <= static_cast<std::size_t>(which)) return exec(sql_text(which));
    Query q = query(which);
    return step_done(q);
}

Status Store::prepare() {
    if (wal_pending_) {
        // WAL lets verifications read while another process writes. It can only be switched
        // outside any transaction, so inside a statement this waits for a later call.
        const char* file = sqlite3_db_filename(db_, "main");
        if (!file || !*file) {
            wal_pending_ = false;  // in-memory and temporary databases keep their own mode
        } else if (sqlite3_get_autocommit(db_) &&
                   sqlite3_txn_state(db_, nullptr) == SQLITE_TXN_NONE) {
            GVX_TRY(switch_to_wal(db_));
            wal_pending_ = false;
        }
    }
    if (prepared_) return Ok{};
    // A connection without a busy timeout fails at once when another process writes; the
    // shell's default is none. Respect one the host already set.
    {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db_, sql::kBusyTimeout, -1, &raw, nullptr);
        StmtPtr stmt{raw};
        if (rc != SQLITE_OK) return db_error(db_, rc);
        // Not on our own connections: their handler (wait_briefly) reports 0 here, and a
        // timeout would replace it.
        if (!owned_ && sqlite3_step(raw) == SQLITE_ROW && sqlite3_column_int(raw, 0) == 0)
            sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    }
    GVX_TRY(migrate());
    GVX_TRY(exec(sql::kTokensView));
    cache_.clear();
    cache_.reserve(kSqlCount);
    for (std::size_t i = 0; i < kSqlCount; ++i) {
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v3(db_, sql_text(static_cast<Sql>(i)), -1,
                                          SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
        StmtPtr stmt{raw};
        if (rc != SQLITE_OK) {
            cache_.clear();
            return db_error(db_, rc);
        }
        cache_.push_back(std::move(stmt));
    }
    prepared_ = true;
    return Ok{};
}

const char* sqlite_version() { return sqlite3_libversion(); }

}  // namespace gvx
