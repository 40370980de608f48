#include "store/sql.hpp"

namespace gvx {
namespace {

// A token as gvx sees it: apikey, with what gvx recorded in gvx_key_state where better-auth's
// whole-row writes may have undone it (sql/004_gitflare.sql): a disable made through gvx, and
// the highest request_count and last_request gvx wrote.
#define GVX_TOKEN_COLUMNS                                                                      \
    "a.id, a.name, a.start, a.prefix, a.user_id, "                                            \
    "CASE WHEN s.disabled THEN 0 ELSE a.enabled END, a.created_at, a.updated_at, a.expires_at, " \
    "CASE WHEN s.last_request IS NULL OR s.last_request <= a.last_request THEN a.last_request " \
    "ELSE s.last_request END, "                                                                \
    "max(coalesce(a.request_count, 0), coalesce(s.request_count, 0)), a.metadata, "           \
    "a.rate_limit_enabled, a.rate_limit_time_window, a.rate_limit_max, a.remaining, "        \
    "a.refill_interval, a.refill_amount, a.last_refill_at, a.permissions"
#define GVX_AUDIT_COLUMNS                                                                       \
    "id, at, action, key_id, key_name, owner, actor, via, ip, user_agent, detail"
#define GVX_TOKEN_FROM " FROM apikey a LEFT JOIN gvx_key_state s ON s.key_id = a.id "

constexpr const char* kSql[] = {
    // select_config
    "SELECT name, value FROM gvx_config",
    // select_by_key: and the row's rowid (column kKeyRowidColumn), for update_usage
    "SELECT " GVX_TOKEN_COLUMNS ", a.rowid" GVX_TOKEN_FROM "WHERE a.key = ?1 LIMIT 1",
    // select_by_id_user
    "SELECT " GVX_TOKEN_COLUMNS GVX_TOKEN_FROM "WHERE a.id = ?1 AND a.user_id = ?2",
    // select_by_user
    "SELECT " GVX_TOKEN_COLUMNS GVX_TOKEN_FROM
    "WHERE a.user_id = ?1 ORDER BY a.created_at, a.rowid",
    // insert_token
    "INSERT INTO apikey (id, name, start, prefix, key, user_id, enabled, rate_limit_enabled, "
    "rate_limit_time_window, rate_limit_max, request_count, expires_at, created_at, updated_at, "
    "metadata, permissions, remaining, refill_interval, refill_amount) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, 0, ?10, ?11, ?11, ?12, ?13, ?14, ?15, ?16)",
    // update_usage: ?5 is the count after this use (gvx's view of it, plus one). The row is
    // found by ?6, the rowid select_by_key read in this transaction: its page is in the cache
    // already, where the id index would cost one more page read.
    "UPDATE apikey SET request_count = ?5, last_request = ?2, remaining = ?3, "
    "last_refill_at = ?4 WHERE rowid = ?6 AND id = ?1",
    // upsert_state_usage: what gvx counted, kept where better-auth does not write
    "INSERT INTO gvx_key_state (key_id, request_count, last_request) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (key_id) DO UPDATE SET request_count = max(request_count, "
    "excluded.request_count), last_request = max(coalesce(last_request, 0), "
    "excluded.last_request)",
    // upsert_state_disabled: a disable (1) or enable (0) made through gvx
    "INSERT INTO gvx_key_state (key_id, disabled) VALUES (?1, ?2) "
    "ON CONFLICT (key_id) DO UPDATE SET disabled = excluded.disabled",
    // update_token: ?3 name or NULL to keep; ?4 enabled or NULL; ?5 = 1 to set expires_at to ?6;
    // ?8 = 1 to set metadata to ?9 (as stored_metadata() writes it); ?10 = 1 to set
    // permissions to ?11
    "UPDATE apikey SET name = coalesce(?3, name), enabled = coalesce(?4, enabled), "
    "expires_at = CASE WHEN ?5 THEN ?6 ELSE expires_at END, updated_at = ?7, "
    "metadata = CASE WHEN ?8 THEN ?9 ELSE metadata END, "
    "permissions = CASE WHEN ?10 THEN ?11 ELSE permissions END WHERE id = ?1 AND user_id = ?2",
    // delete_token
    "DELETE FROM apikey WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)",
    // disable_token (push protection found it live in a push)
    "UPDATE apikey SET enabled = 0, updated_at = ?2 WHERE id = ?1",
    // delete_state
    "DELETE FROM gvx_key_state WHERE key_id = ?1",
    // select_window
    "SELECT window_start, count FROM gvx_rate_window WHERE key_id = ?1",
    // upsert_window
    "INSERT INTO gvx_rate_window (key_id, window_start, count) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (key_id) DO UPDATE SET window_start = excluded.window_start, "
    "count = excluded.count",
    // delete_window
    "DELETE FROM gvx_rate_window WHERE key_id = ?1",
    // insert_activity
    "INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    // Refusals are counted (sql/003_activity_counts.sql). Each binds ?1 now, ?2 the token id
    // or NULL, ?3 the token start ('' unless the credential had a token's shape), ?4 the
    // outcome, ?5 the client address, ?6 its user agent; `outcome <> 'OK'` picks the partial
    // index gvx_activity_refusal.
    // bump_refusal: the row of the same token, start, outcome, address and user agent begun
    // since ?7
    "UPDATE gvx_activity SET count = count + 1, last_at = ?1 WHERE id = "
    "(SELECT id FROM gvx_activity WHERE key_id IS ?2 AND outcome = ?4 AND ip = ?5 AND "
    "key_start = ?3 AND at >= ?7 AND user_agent = ?6 AND outcome <> 'OK' "
    "ORDER BY at DESC LIMIT 1)",
    // insert_refusal: a new row while the token (or NULL: no token) has fewer than ?7
    "INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE (SELECT count(*) FROM gvx_activity "
    "WHERE key_id IS ?2 AND outcome <> 'OK') < ?7",
    // bump_overflow: past the cap, the one row per token and outcome without address or start
    "UPDATE gvx_activity SET count = count + 1, last_at = ?1 WHERE id = "
    "(SELECT id FROM gvx_activity WHERE key_id IS ?2 AND outcome = ?4 AND ip = '' AND "
    "key_start = '' AND outcome <> 'OK' ORDER BY at DESC LIMIT 1)",
    // insert_overflow
    "INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "VALUES (?1, ?2, '', ?4, '', '')",
    // select_activity
    "SELECT id, at, key_id, key_start, outcome, ip, user_agent, count, last_at "
    "FROM gvx_activity WHERE key_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
    // count_live_tokens: a user's tokens that still verify by date (max_tokens_per_user)
    "SELECT count(*) FROM apikey WHERE user_id = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
    // purge_tokens
    "DELETE FROM apikey WHERE rowid IN (SELECT rowid FROM apikey WHERE expires_at IS NOT NULL "
    "AND expires_at <= ?1 LIMIT ?2)",
    // purge_windows: windows of tokens that no longer exist
    "DELETE FROM gvx_rate_window WHERE key_id NOT IN (SELECT id FROM apikey)",
    // purge_states: gvx's records of tokens that no longer exist (better-auth deletes rows too)
    "DELETE FROM gvx_key_state WHERE key_id NOT IN (SELECT id FROM apikey)",
    // purge_old_activity: of the ?2 oldest rows written (sql/005: rowid order is time order),
    // those before the first one that is kept (at >= ?1). A batch reads at most 2 * ?2 rows
    // however large the log is.
    "DELETE FROM gvx_activity WHERE id IN (SELECT id FROM gvx_activity ORDER BY id LIMIT ?2) "
    "AND id < coalesce((SELECT min(id) FROM (SELECT id, at FROM gvx_activity ORDER BY id "
    "LIMIT ?2) WHERE at >= ?1), 9223372036854775807)",
    // count_expired
    "SELECT count(*) FROM apikey WHERE expires_at IS NOT NULL AND expires_at <= ?1",
    // count_old_activity: what purge_old_activity's batches remove, the rows from the oldest
    // written up to the first that is kept
    "SELECT count(*) FROM gvx_activity WHERE id < coalesce((SELECT id FROM gvx_activity "
    "WHERE at >= ?1 ORDER BY id LIMIT 1), 9223372036854775807)",
    // select_by_id: ?2 NULL = any user's (gvx_rotate in SQL)
    "SELECT " GVX_TOKEN_COLUMNS GVX_TOKEN_FROM "WHERE a.id = ?1 AND (?2 IS NULL OR a.user_id = ?2)",
    // end_token_at: a rotated token's grace ends at ?2 (never later than it would have)
    "UPDATE apikey SET expires_at = min(coalesce(expires_at, ?2), ?2), updated_at = ?3 "
    "WHERE id = ?1",
    // insert_audit (sql/006_audit.sql)
    "INSERT INTO gvx_audit (at, action, key_id, key_name, owner, actor, via, ip, user_agent, "
    "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    // select_audit_by_owner: ?2 NULL = every token of the owner's
    "SELECT " GVX_AUDIT_COLUMNS " FROM gvx_audit WHERE owner = ?1 AND (?2 IS NULL OR key_id = ?2) "
    "ORDER BY at DESC, id DESC LIMIT ?3",
    // select_audit_by_key
    "SELECT " GVX_AUDIT_COLUMNS " FROM gvx_audit WHERE key_id = ?1 ORDER BY at DESC, id DESC "
    "LIMIT ?2",
    // select_audit_all
    "SELECT " GVX_AUDIT_COLUMNS " FROM gvx_audit ORDER BY at DESC, id DESC LIMIT ?1",
    // purge_old_audit
    "DELETE FROM gvx_audit WHERE id IN (SELECT id FROM gvx_audit WHERE at < ?1 ORDER BY at "
    "LIMIT ?2)",
    // count_old_audit
    "SELECT count(*) FROM gvx_audit WHERE at < ?1",
    // schema_version: changes with every schema change, such as drizzle's rebuild of apikey
    "PRAGMA main.schema_version",
    // Transaction control, prepared once too: parsing them on every verification costs more
    // than the SELECT does.
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT gvx_write",
    "ROLLBACK TO gvx_write",
    "RELEASE gvx_write",
};
static_assert(std::size(kSql) == kSqlCount);

}  // namespace

const char* sql_text(Store::Sql which) { return kSql[static_cast<std::size_t>(which)]; }

TokenRecord read_token(const Query& q) {
    TokenRecord t;
    t.id = q.text(0);
    t.name = q.opt_text(1);
    t.start = q.opt_text(2);
    t.prefix = q.opt_text(3);
    t.user_id = q.text(4);
    t.enabled = q.is_null(5) || q.int64(5) != 0;
    t.created_at = q.int64(6);
    t.updated_at = q.int64(7);
    t.expires_at = q.opt_int64(8);
    t.last_request = q.opt_int64(9);
    t.request_count = q.is_null(10) ? 0 : q.int64(10);
    t.metadata = q.opt_text(11);
    if (!q.is_null(12)) t.rate_limit_enabled = q.int64(12) != 0;
    t.rate_limit_time_window = q.opt_int64(13);
    t.rate_limit_max = q.opt_int64(14);
    t.remaining = q.opt_int64(15);
    t.refill_interval = q.opt_int64(16);
    t.refill_amount = q.opt_int64(17);
    t.last_refill_at = q.opt_int64(18);
    t.permissions = q.opt_text(19);
    return t;
}

}  // namespace gvx
