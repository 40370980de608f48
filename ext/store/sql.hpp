// Every SQL statement the SQLite store runs, in one place (docs/replication.md relies on it):
// the cached statements by name, and the few that run once or on better-auth's tables.
#pragma once

#include <cstddef>

#include "store.hpp"

namespace gvx {

// Every statement gvx runs, prepared once per connection. Values are always bound.
enum class Store::Sql : std::size_t {
    select_config,
    select_by_key,
    select_by_id_user,
    select_by_user,
    insert_token,
    update_usage,
    update_token,
    delete_token,
    disable_token,
    select_window,
    upsert_window,
    delete_window,
    insert_activity,
    bump_refusal,
    insert_refusal,
    bump_overflow,
    insert_overflow,
    select_activity,
    count_live_tokens,
    purge_tokens,
    purge_windows,
    purge_old_activity,
    count_expired,
    count_old_activity,
    select_by_id,
    end_token_at,
    begin_immediate,
    commit,
    rollback,
    savepoint,
    rollback_to_savepoint,
    release_savepoint,
    count_,  // number of statements
};


// The text of a cached statement.
const char* sql_text(Store::Sql which);
inline constexpr std::size_t kSqlCount = static_cast<std::size_t>(Store::Sql::count_);

// A row of the token SELECTs and of update_token's RETURNING, as a TokenRecord.
TokenRecord read_token(const Query& q);

namespace sql {
// Connection set-up (connection.cpp).
inline constexpr const char* kSynchronousNormal = "PRAGMA synchronous=NORMAL";
inline constexpr const char* kJournalModeWal = "PRAGMA journal_mode=WAL";
inline constexpr const char* kBusyTimeout = "PRAGMA busy_timeout";
inline constexpr const char* kWalAutocheckpoint = "PRAGMA wal_autocheckpoint";
// Migrations (migrate.cpp); the migrations themselves are sql/NNN_*.sql.
inline constexpr const char* kSchemaVersion =
    "SELECT value FROM gvx_meta WHERE name = 'schema_version'";
inline constexpr const char* kCreateMeta =
    "CREATE TABLE IF NOT EXISTS gvx_meta (name TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID";
inline constexpr const char* kSetSchemaVersion =
    "INSERT OR REPLACE INTO gvx_meta (name, value) VALUES ('schema_version', ?1)";
// better-auth's tables (better_auth.cpp), which may not exist: prepared on first use.
// Sessions written through Kysely may hold ISO-8601 text instead of milliseconds; compare both
// as milliseconds, never text against a number.
inline constexpr const char* kSessionUser =
    "SELECT user_id FROM session WHERE token = ?1 AND (CASE WHEN typeof(expires_at) IN "
    "('integer', 'real') THEN expires_at ELSE CAST(strftime('%s', expires_at) AS "
    "INTEGER) * 1000 END) > ?2";
// The typed name must be the username exactly: Apache makes the typed name the user, so "Carol"
// accepted for "carol" would be another user to git and to every hook.
inline constexpr const char* kUsername =
    "SELECT 1 FROM \"user\" WHERE id = ?1 AND username = ?2";
// The admin command's lookups (cli/lookup.cpp).
inline constexpr const char* kUsersWithTokens = "SELECT DISTINCT user_id FROM apikey ORDER BY user_id";
inline constexpr const char* kTokenOwnerByKey = "SELECT id, user_id FROM apikey WHERE key = ?1";
}  // namespace sql

}  // namespace gvx
