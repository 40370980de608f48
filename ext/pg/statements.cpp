#include "pg/statements.hpp"

#include <iterator>
#include <string>

#include "core/token.hpp"

namespace gvx::pg {
namespace {

#define GVX_PG_TOKEN_COLUMNS                                                              \
    "id, name, start, prefix, user_id, enabled, created_at, updated_at, expires_at, "    \
    "last_request, request_count, metadata, rate_limit_enabled, rate_limit_time_window, " \
    "rate_limit_max, remaining, refill_interval, refill_amount, last_refill_at, permissions"

#define GVX_PG_AUDIT_COLUMNS \
    "id, at, action, key_id, key_name, owner, actor, via, ip, user_agent, detail"

constexpr const char* kSql[] = {
    // select_config
    "SELECT name, value FROM gvx_config",
    // select_by_key_locked: the row lock orders concurrent verifications of one token and
    // a revocation of it. The settings come along (name=value lines), also when no token has
    // this key (a refusal's cap is one of them): one row always, the token's columns NULL
    // when there is none.
    "SELECT k.*, c.settings FROM (SELECT string_agg(name || '=' || coalesce(value, ''), "
    "chr(10)) AS settings FROM gvx_config) c LEFT JOIN LATERAL (SELECT " GVX_PG_TOKEN_COLUMNS
    " FROM apikey WHERE key = $1 LIMIT 1 FOR UPDATE) k ON true",
    // select_by_id_user
    "SELECT " GVX_PG_TOKEN_COLUMNS " FROM apikey WHERE id = $1 AND user_id = $2",
    // select_by_user
    "SELECT " GVX_PG_TOKEN_COLUMNS " FROM apikey WHERE user_id = $1 ORDER BY created_at, id",
    // insert_token
    "INSERT INTO apikey (id, name, start, prefix, key, user_id, enabled, rate_limit_enabled, "
    "rate_limit_time_window, rate_limit_max, request_count, expires_at, created_at, updated_at, "
    "metadata, permissions, remaining, refill_interval, refill_amount) VALUES ($1, $2, $3, $4, "
    "$5, $6, 1, $7, $8, $9, 0, $10, $11, $11, $12, $13, $14, $15, $16)",
    // update_usage
    "UPDATE apikey SET request_count = coalesce(request_count, 0) + 1, last_request = $2, "
    "remaining = $3, last_refill_at = $4 WHERE id = $1",
    // update_token: $3 name or NULL to keep; $4 enabled or NULL; $5 = 1 to set expires_at to $6
    "UPDATE apikey SET name = coalesce($3::text, name), "
    "enabled = coalesce($4::integer, enabled), "
    "expires_at = CASE WHEN $5::integer = 1 THEN $6::bigint ELSE expires_at END, "
    "updated_at = $7, metadata = CASE WHEN $8::integer = 1 THEN $9::text ELSE metadata END, "
    "permissions = CASE WHEN $10::integer = 1 THEN $11::text ELSE permissions END "
    "WHERE id = $1 AND user_id = $2 RETURNING " GVX_PG_TOKEN_COLUMNS,
    // delete_token: the deleted row, for the audit trail
    "DELETE FROM apikey WHERE id = $1 AND ($2::text IS NULL OR user_id = $2::text) "
    "RETURNING " GVX_PG_TOKEN_COLUMNS,
    // select_window
    "SELECT window_start, count FROM gvx_rate_window WHERE key_id = $1",
    // upsert_window
    "INSERT INTO gvx_rate_window (key_id, window_start, count) VALUES ($1, $2, $3) "
    "ON CONFLICT (key_id) DO UPDATE SET window_start = excluded.window_start, "
    "count = excluded.count",
    // delete_window
    "DELETE FROM gvx_rate_window WHERE key_id = $1",
    // insert_activity
    "INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "VALUES ($1, $2, $3, $4, $5, $6)",
    // record_refusal (sql/postgres/002_activity_counts.sql): adds one refusal to the row of the
    // same token, start, outcome, address and user agent begun since $7; else a new row while
    // the token ($2; NULL: no token) has fewer than $8 refusal rows; else to its overflow row
    // of that outcome (ip and key_start ''); else makes that row. $1 now, $3 the start ('' for
    // a credential without a token's shape), $4 the outcome, $5 the address, $6 the user
    // agent. Every refusal adds exactly 1 to one row's count. coalesce(key_id, '') and
    // outcome <> 'OK' pick the partial index gvx_activity_refusal (token ids are never '').
    "WITH bumped AS (UPDATE gvx_activity SET count = count + 1, last_at = $1 WHERE id = "
    "(SELECT id FROM gvx_activity WHERE coalesce(key_id, '') = coalesce($2::text, '') AND "
    "outcome = $4 AND ip = $5 AND key_start = $3 AND at >= $7 AND user_agent = $6 AND "
    "outcome <> 'OK' ORDER BY at DESC LIMIT 1) RETURNING 1), "
    "fresh AS (INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM bumped) AND "
    "(SELECT count(*) FROM gvx_activity WHERE coalesce(key_id, '') = coalesce($2::text, '') "
    "AND outcome <> 'OK') < $8 RETURNING 1), "
    "folded AS (UPDATE gvx_activity SET count = count + 1, last_at = $1 WHERE id = "
    "(SELECT id FROM gvx_activity WHERE coalesce(key_id, '') = coalesce($2::text, '') AND "
    "outcome = $4 AND ip = '' AND key_start = '' AND outcome <> 'OK' ORDER BY at DESC LIMIT 1) "
    "AND NOT EXISTS (SELECT 1 FROM bumped) AND NOT EXISTS (SELECT 1 FROM fresh) RETURNING 1) "
    "INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "SELECT $1, $2, '', $4, '', '' WHERE NOT EXISTS (SELECT 1 FROM bumped) AND "
    "NOT EXISTS (SELECT 1 FROM fresh) AND NOT EXISTS (SELECT 1 FROM folded)",
    // select_activity
    "SELECT id, at, key_id, key_start, outcome, ip, user_agent, count, last_at "
    "FROM gvx_activity WHERE key_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    // purge_tokens: rows a verification holds are skipped, not waited for (the next batch
    // or the next run takes them).
    "DELETE FROM apikey WHERE id IN (SELECT id FROM apikey WHERE expires_at IS NOT NULL "
    "AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    // purge_windows: windows of tokens that no longer exist
    "DELETE FROM gvx_rate_window w WHERE NOT EXISTS (SELECT 1 FROM apikey k "
    "WHERE k.id = w.key_id)",
    // purge_old_activity
    "DELETE FROM gvx_activity WHERE id IN (SELECT id FROM gvx_activity WHERE at < $1 "
    "ORDER BY at LIMIT $2)",
    // count_expired
    "SELECT count(*) FROM apikey WHERE expires_at IS NOT NULL AND expires_at <= $1",
    // count_old_activity
    "SELECT count(*) FROM gvx_activity WHERE at < $1",
    // select_by_id_locked: $2 NULL = any user's. Rotation holds the old token's row, so two
    // rotations of one token, or a rotation and its verification, take turns.
    "SELECT " GVX_PG_TOKEN_COLUMNS " FROM apikey WHERE id = $1 AND "
    "($2::text IS NULL OR user_id = $2::text) FOR UPDATE",
    // end_token_at: a rotated token's grace ends at $2 (never later than it would have)
    "UPDATE apikey SET expires_at = least(coalesce(expires_at, $2), $2), updated_at = $3 "
    "WHERE id = $1",
    // lock_user_tokens: one user's creations take turns (max_tokens_per_user), on every
    // machine, until commit. Two-key advisory locks never meet migrate.cpp's one-key lock.
    "SELECT pg_advisory_xact_lock(7894649, hashtext($1))",
    // count_live_tokens: a user's tokens that still verify by date (max_tokens_per_user).
    // A statement after lock_user_tokens: its snapshot sees what the lock's last holder
    // committed.
    "SELECT count(*) FROM apikey WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2)",
    // insert_audit (sql/postgres/003_audit.sql)
    "INSERT INTO gvx_audit (at, action, key_id, key_name, owner, actor, via, ip, user_agent, "
    "detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    // select_audit_by_owner: $2 NULL = every token of the owner's
    "SELECT " GVX_PG_AUDIT_COLUMNS " FROM gvx_audit WHERE owner = $1 AND "
    "($2::text IS NULL OR key_id = $2::text) ORDER BY at DESC, id DESC LIMIT $3",
    // select_audit_by_key
    "SELECT " GVX_PG_AUDIT_COLUMNS " FROM gvx_audit WHERE key_id = $1 "
    "ORDER BY at DESC, id DESC LIMIT $2",
    // select_audit_all
    "SELECT " GVX_PG_AUDIT_COLUMNS " FROM gvx_audit ORDER BY at DESC, id DESC LIMIT $1",
    // purge_old_audit
    "DELETE FROM gvx_audit WHERE id IN (SELECT id FROM gvx_audit WHERE at < $1 ORDER BY at "
    "LIMIT $2)",
    // count_old_audit
    "SELECT count(*) FROM gvx_audit WHERE at < $1",
    // Transaction control, prepared too: one round trip each, no parsing.
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
};
static_assert(std::size(kSql) == static_cast<std::size_t>(Sql::count_));

const char* const kNames[] = {"gvx_0",  "gvx_1",  "gvx_2",  "gvx_3",  "gvx_4",  "gvx_5",
                              "gvx_6",  "gvx_7",  "gvx_8",  "gvx_9",  "gvx_10", "gvx_11",
                              "gvx_12", "gvx_13", "gvx_14", "gvx_15", "gvx_16", "gvx_17",
                              "gvx_18", "gvx_19", "gvx_20", "gvx_21", "gvx_22", "gvx_23",
                              "gvx_24", "gvx_25", "gvx_26", "gvx_27", "gvx_28", "gvx_29",
                              "gvx_30", "gvx_31"};
static_assert(std::size(kNames) == std::size(kSql));

}  // namespace

const char* const kSessionByMs =
    "SELECT user_id FROM session WHERE token = $1 AND expires_at > $2::bigint";
const char* const kSessionByTimestamp =
    "SELECT user_id FROM session WHERE token = $1 AND "
    "expires_at > to_timestamp($2::bigint / 1000.0)";
// better-auth's username plugin stores usernames lowercased; people type "Carol".
const char* const kUsername =
    "SELECT 1 FROM \"user\" WHERE id = $1 AND (username = $2 OR username = lower($2))";

bool storable(std::string_view s) {
    return s.find('\0') == std::string_view::npos && is_valid_utf8(s);
}

std::vector<Statement> statements() {
    std::vector<Statement> out;
    for (std::size_t i = 0; i < std::size(kSql); ++i) out.push_back({kNames[i], kSql[i]});
    return out;
}

TokenRecord read_token(const Rows& q, int i) {
    TokenRecord t;
    t.id = q.text(i, 0);
    t.name = q.opt_text(i, 1);
    t.start = q.opt_text(i, 2);
    t.prefix = q.opt_text(i, 3);
    t.user_id = q.text(i, 4);
    t.enabled = q.is_null(i, 5) || q.int64(i, 5) != 0;
    t.created_at = q.int64(i, 6);
    t.updated_at = q.int64(i, 7);
    t.expires_at = q.opt_int64(i, 8);
    t.last_request = q.opt_int64(i, 9);
    t.request_count = q.is_null(i, 10) ? 0 : q.int64(i, 10);
    t.metadata = q.opt_text(i, 11);
    if (!q.is_null(i, 12)) t.rate_limit_enabled = q.int64(i, 12) != 0;
    t.rate_limit_time_window = q.opt_int64(i, 13);
    t.rate_limit_max = q.opt_int64(i, 14);
    t.remaining = q.opt_int64(i, 15);
    t.refill_interval = q.opt_int64(i, 16);
    t.refill_amount = q.opt_int64(i, 17);
    t.last_refill_at = q.opt_int64(i, 18);
    t.permissions = q.opt_text(i, 19);
    return t;
}

}  // namespace gvx::pg
