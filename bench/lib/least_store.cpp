#include "least_store.hpp"

#include "core/token.hpp"

namespace bench {
namespace {

// The activity log with gvx_activity's columns and the one index /activity needs.
constexpr const char* kCreateActivity =
    "CREATE TABLE IF NOT EXISTS bench_least_activity (id INTEGER PRIMARY KEY, at INTEGER NOT "
    "NULL, key_id TEXT, key_start TEXT NOT NULL, outcome TEXT NOT NULL, ip TEXT NOT NULL, "
    "user_agent TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS bench_least_activity_key ON bench_least_activity(key_id, at);";
// What the decision needs: enabled, expiry, what is left.
constexpr const char* kSelect =
    "SELECT rowid, id, user_id, enabled, expires_at, remaining FROM apikey WHERE key = ?1";
constexpr const char* kUpdate =
    "UPDATE apikey SET request_count = coalesce(request_count, 0) + 1, last_request = ?2, "
    "remaining = remaining - 1 WHERE rowid = ?1";
constexpr const char* kInsert =
    "INSERT INTO bench_least_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "VALUES (?1, ?2, ?3, 'OK', ?4, ?5)";

}  // namespace

LeastStore::LeastStore(sqlite3* db) : db_(db) {
    exec(db, kCreateActivity);
    begin_ = prepare(db, "BEGIN IMMEDIATE");
    commit_ = prepare(db, "COMMIT");
    select_ = prepare(db, kSelect);
    update_ = prepare(db, kUpdate);
    insert_ = prepare(db, kInsert);
}

std::optional<std::string> LeastStore::verify(std::string_view token, std::string_view ip,
                                              std::string_view user_agent, std::int64_t now) {
    const std::string key = gvx::hash_key(token);
    step_done(db_, begin_.get());
    sqlite3_stmt* s = select_.get();
    bind_text(s, 1, key);
    std::optional<std::string> owner;
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const bool enabled = sqlite3_column_type(s, 3) == SQLITE_NULL || sqlite3_column_int(s, 3);
        const bool expired = sqlite3_column_type(s, 4) != SQLITE_NULL &&
                             sqlite3_column_int64(s, 4) <= now;
        const bool used_up = sqlite3_column_type(s, 5) != SQLITE_NULL &&
                             sqlite3_column_int64(s, 5) <= 0;
        if (enabled && !expired && !used_up) {
            owner.emplace(reinterpret_cast<const char*>(sqlite3_column_text(s, 2)));
            sqlite3_stmt* u = update_.get();
            sqlite3_bind_int64(u, 1, sqlite3_column_int64(s, 0));
            sqlite3_bind_int64(u, 2, now);
            step_done(db_, u);
            sqlite3_stmt* a = insert_.get();
            const std::string start = gvx::token_start(token);
            sqlite3_bind_int64(a, 1, now);
            sqlite3_bind_text(a, 2, reinterpret_cast<const char*>(sqlite3_column_text(s, 1)),
                              sqlite3_column_bytes(s, 1), SQLITE_STATIC);
            bind_text(a, 3, start);
            bind_text(a, 4, ip);
            bind_text(a, 5, user_agent);
            step_done(db_, a);
        }
    } else if (rc != SQLITE_DONE) {
        die(kSelect, sqlite3_errmsg(db_));
    }
    sqlite3_reset(s);
    step_done(db_, commit_.get());
    return owner;
}

}  // namespace bench
