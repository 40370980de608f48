// Write transactions of the SQLite store.
//
// gvx writes from three kinds of caller, and the transaction has to fit each:
//  - a top-level call (gvx-fcgi, or SELECT gvx_verify(?) with no table): BEGIN IMMEDIATE takes
//    the write lock up front, waiting through busy_timeout, so the read and the write that
//    follow see one consistent state and commit once;
//  - a call inside a statement or transaction that already writes: the lock is ours, so the
//    statements simply join that transaction (inside a running statement, BEGIN/COMMIT are not
//    possible either, so the work joins that statement's implicit transaction);
//  - a call inside one that only reads (SELECT gvx_verify(t) FROM t, or BEGIN; SELECT ...):
//    SQLite cannot wait for the write lock there and answers SQLITE_BUSY at once when another
//    connection writes. Verification then moves its write to a second connection on the same
//    file, where waiting is allowed, so no usage count is ever lost.
#pragma once

#include <utility>

#include "store.hpp"
#include "store/sql.hpp"

namespace gvx {

// The transaction that fits the connection's state, opened by begin(); unless commit() is
// called, it is rolled back when it goes (a joined transaction is left to its owner).
class WriteTransaction {
   public:
    static Result<WriteTransaction> begin(Store& s) {
        sqlite3* db = s.db();
        if (sqlite3_txn_state(db, "main") == SQLITE_TXN_WRITE) return WriteTransaction(s, Kind::joined);
        const bool autocommit = sqlite3_get_autocommit(db) != 0;
        if (autocommit && sqlite3_txn_state(db, nullptr) == SQLITE_TXN_NONE) {
            GVX_TRY(s.run(Store::Sql::begin_immediate));
            s.config_cache_.own_transaction_began(db);
            return WriteTransaction(s, Kind::top_level);
        }
        if (!autocommit) {
            GVX_TRY(s.run(Store::Sql::savepoint));
            return WriteTransaction(s, Kind::savepoint);
        }
        // Autocommit inside a running statement: no transaction of our own can be opened
        // here, and the work joins the statement's own (it commits when the statement ends).
        return WriteTransaction(s, Kind::joined);
    }

    WriteTransaction(WriteTransaction&& o) noexcept
        : store_(o.store_), kind_(std::exchange(o.kind_, Kind::joined)) {}
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;
    WriteTransaction& operator=(WriteTransaction&&) = delete;

    Status commit() {
        const Kind kind = std::exchange(kind_, Kind::joined);
        if (kind == Kind::top_level) {
            if (auto st = store_->run(Store::Sql::commit); !st) {
                (void)store_->run(Store::Sql::rollback);
                store_->config_cache_.own_transaction_abandoned();
                return st;
            }
            store_->config_cache_.own_transaction_committed(store_->db());
        } else if (kind == Kind::savepoint) {
            (void)store_->run(Store::Sql::release_savepoint);
        }
        return Ok{};
    }

    ~WriteTransaction() {
        if (kind_ == Kind::top_level) {
            (void)store_->run(Store::Sql::rollback);
            store_->config_cache_.own_transaction_abandoned();
        } else if (kind_ == Kind::savepoint) {
            (void)store_->run(Store::Sql::rollback_to_savepoint);
            (void)store_->run(Store::Sql::release_savepoint);
        }
    }

   private:
    enum class Kind { joined, top_level, savepoint };
    WriteTransaction(Store& s, Kind k) : store_(&s), kind_(k) {}
    Store* store_;
    Kind kind_;
};

template <class T, class Body>
Result<T> Store::write_here(Body&& body) {
    GVX_TRY_VALUE(WriteTransaction tx, WriteTransaction::begin(*this));
    Result<T> out = body();
    if (out) GVX_TRY(tx.commit());
    return out;
}

template <class T, class Body>
Result<T> Store::write(Body&& body, bool may_use_side_connection) {
    Result<T> out = write_here<T>([&] { return body(*this); });
    if (out || out.error().code != Errc::busy || !may_use_side_connection) return out;
    if (sqlite3_txn_state(db_, "main") == SQLITE_TXN_WRITE) return out;  // the lock is ours
    const char* file = sqlite3_db_filename(db_, "main");
    if (!file || !*file) return out;  // in-memory: no second connection can see it
    if (!side_) {
        GVX_TRY_VALUE(side_, Store::open(file));
    }
    Store& side = *side_;
    return side.write_here<T>([&] { return body(side); });
}

}  // namespace gvx
