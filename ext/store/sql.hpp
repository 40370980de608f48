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
    upsert_state_usage,
    upsert_state_disabled,
    update_token,
    delete_token,
    disable_token,
    delete_state,
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
    purge_states,
    purge_old_activity,
    count_expired,
    count_old_activity,
    select_by_id,
    end_token_at,
    insert_audit,
    select_audit_by_owner,
    select_audit_by_key,
    select_audit_all,
    purge_old_audit,
    count_old_audit,
    schema_version,
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
// select_by_key's column after the token's: the row's rowid.
inline constexpr int kKeyRowidColumn = 20;

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
// The token owner's standing where better-auth's user table exists: 1 banned (its admin
// plugin's banned, until ban_expires if set), 0 a user in good standing, no row: no such user.
// The second form is for a user table without the admin plugin's columns.
inline constexpr const char* kUserBanned =
    "SELECT coalesce(banned, 0) != 0 AND (ban_expires IS NULL OR (CASE WHEN typeof(ban_expires) "
    "IN ('integer', 'real') THEN ban_expires ELSE CAST(strftime('%s', ban_expires) AS INTEGER) "
    "* 1000 END) > ?2) FROM \"user\" WHERE id = ?1";
inline constexpr const char* kUserExists = "SELECT 0 FROM \"user\" WHERE id = ?1 AND ?2 = ?2";
// gvx's indexes on apikey, as sql/001_init.sql makes them: made again when a rebuild of apikey
// (drizzle's create-copy-drop-rename) dropped them with the old table.
inline constexpr const char* kApikeyExists =
    "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'apikey'";
inline constexpr const char* kApikeyIndexes =
    "CREATE INDEX IF NOT EXISTS gvx_apikey_key ON apikey(key);"
    "CREATE INDEX IF NOT EXISTS gvx_apikey_user ON apikey(user_id, created_at);"
    "CREATE INDEX IF NOT EXISTS gvx_apikey_expires ON apikey(expires_at) "
    "WHERE expires_at IS NOT NULL;";
// A user's tokens without their hashes, as gvx sees them: a TEMP view of each connection that
// loads gvx, since a view in the file would break SQLite's ALTER TABLE RENAME of apikey.
inline constexpr const char* kTokensView =
    "CREATE TEMP VIEW IF NOT EXISTS gvx_tokens AS SELECT a.id AS id, a.name AS name, "
    "a.start AS start, a.prefix AS prefix, a.user_id AS user_id, "
    "CASE WHEN s.disabled THEN 0 ELSE a.enabled END AS enabled, a.created_at AS created_at, "
    "a.updated_at AS updated_at, a.expires_at AS expires_at, CASE WHEN s.last_request IS NULL "
    "OR s.last_request <= a.last_request THEN a.last_request ELSE s.last_request END AS "
    "last_request, max(coalesce(a.request_count, 0), coalesce(s.request_count, 0)) AS "
    "request_count, a.remaining AS remaining, a.rate_limit_enabled AS rate_limit_enabled, "
    "a.rate_limit_time_window AS rate_limit_time_window, a.rate_limit_max AS rate_limit_max, "
    "a.metadata AS metadata, a.permissions AS permissions FROM main.apikey a "
    "LEFT JOIN main.gvx_key_state s ON s.key_id = a.id";
// The typed name must be the username exactly: Apache makes the typed name the user, so "Carol"
// accepted for "carol" would be another user to git and to every hook.
inline constexpr const char* kUsername =
    "SELECT 1 FROM \"user\" WHERE id = ?1 AND username = ?2";
// The admin command's lookups (cli/lookup.cpp).
inline constexpr const char* kUsersWithTokens = "SELECT DISTINCT user_id FROM apikey ORDER BY user_id";
inline constexpr const char* kTokenOwnerByKey = "SELECT id, user_id FROM apikey WHERE key = ?1";
}  // namespace sql

}  // namespace gvx
