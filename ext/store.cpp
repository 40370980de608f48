#include "store.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "core/token.hpp"

namespace gvx {
namespace {

struct Migration {
    int version;
    const char* sql;
};
// Generated from sql/NNN_*.sql by cmake/embed_sql.cmake.
constexpr Migration kMigrations[] = {
#include "migrations.inc"
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

constexpr int kBusyTimeoutMs = 5000;

// Busy handler for connections gvx owns: retry every millisecond for kBusyTimeoutMs.
int wait_briefly(void*, int attempts) {
    if (attempts >= kBusyTimeoutMs) return 0;
    sqlite3_sleep(1);
    return 1;
}
constexpr std::size_t kMaxUserIdBytes = 255;
constexpr std::size_t kMinNameChars = 3;
constexpr std::size_t kMaxNameChars = 50;
constexpr std::size_t kMaxIpBytes = 64;
constexpr std::size_t kMaxUserAgentBytes = 256;
constexpr std::size_t kMaxMetadataBytes = 16 * 1024;
// Durations (gvx_config, a token's rate-limit window) beyond this count as this: far past any
// token's life, and small enough that now + duration cannot overflow, whatever integer an
// admin stored.
constexpr std::int64_t kMaxDurationMs = 100LL * 365 * 86'400'000;

#define GVX_TOKEN_COLUMNS                                                                 \
    "id, name, start, prefix, user_id, enabled, created_at, updated_at, expires_at, "    \
    "last_request, request_count, metadata, rate_limit_enabled, rate_limit_time_window, " \
    "rate_limit_max, remaining, refill_interval, refill_amount, last_refill_at"

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
    return t;
}

// Client-supplied text for the activity log: at most max bytes of printable ASCII; anything
// else becomes '?', so a log reader never sees raw control bytes or broken UTF-8.
std::string printable(std::string_view s, std::size_t max) {
    std::string out(s.substr(0, max));
    for (char& c : out) {
        if (c < 0x20 || c > 0x7E) c = '?';
    }
    return out;
}

// a - b, saturating instead of overflowing: now_ms comes from the caller, and
// gvx_purge_expired(now_ms) accepts any INTEGER, so now - retention must not be UB.
std::int64_t sub_sat(std::int64_t a, std::int64_t b) {
    using Limits = std::numeric_limits<std::int64_t>;
    std::int64_t r = 0;
    if (!__builtin_sub_overflow(a, b, &r)) return r;
    return b > 0 ? Limits::min() : Limits::max();
}

Status check_text(std::string_view what, std::string_view v, std::size_t max_bytes) {
    if (v.size() > max_bytes)
        return invalid(std::string(what) + " is too long (at most " + std::to_string(max_bytes) +
                       " bytes)");
    if (v.find('\0') != std::string_view::npos)
        return invalid(std::string(what) + " must not contain NUL bytes");
    if (!is_valid_utf8(v)) return invalid(std::string(what) + " must be valid UTF-8");
    return Ok{};
}

}  // namespace

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
    select_window,
    upsert_window,
    delete_window,
    insert_activity,
    select_activity,
    purge_tokens,
    purge_windows,
    purge_old_activity,
    purge_excess_activity,
    count_expired,
    count_old_activity,
    count_excess_activity,
    begin_immediate,
    commit,
    rollback,
    savepoint,
    rollback_to_savepoint,
    release_savepoint,
    count_,  // number of statements
};

namespace {
constexpr const char* kSql[] = {
    // select_config
    "SELECT name, value FROM gvx_config",
    // select_by_key
    "SELECT " GVX_TOKEN_COLUMNS " FROM apikey WHERE key = ?1 LIMIT 1",
    // select_by_id_user
    "SELECT " GVX_TOKEN_COLUMNS " FROM apikey WHERE id = ?1 AND user_id = ?2",
    // select_by_user
    "SELECT " GVX_TOKEN_COLUMNS " FROM apikey WHERE user_id = ?1 ORDER BY created_at, rowid",
    // insert_token
    "INSERT INTO apikey (id, name, start, prefix, key, user_id, enabled, rate_limit_enabled, "
    "rate_limit_time_window, rate_limit_max, request_count, expires_at, created_at, updated_at, "
    "metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, 0, ?10, ?11, ?11, ?12)",
    // update_usage
    "UPDATE apikey SET request_count = coalesce(request_count, 0) + 1, last_request = ?2, "
    "remaining = ?3, last_refill_at = ?4 WHERE id = ?1",
    // update_token: ?3 name or NULL to keep; ?4 enabled or NULL; ?5 = 1 to set expires_at to ?6
    "UPDATE apikey SET name = coalesce(?3, name), enabled = coalesce(?4, enabled), "
    "expires_at = CASE WHEN ?5 THEN ?6 ELSE expires_at END, updated_at = ?7 "
    "WHERE id = ?1 AND user_id = ?2 RETURNING " GVX_TOKEN_COLUMNS,
    // delete_token
    "DELETE FROM apikey WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)",
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
    // select_activity
    "SELECT id, at, key_id, key_start, outcome, ip, user_agent FROM gvx_activity "
    "WHERE key_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
    // purge_tokens
    "DELETE FROM apikey WHERE rowid IN (SELECT rowid FROM apikey WHERE expires_at IS NOT NULL "
    "AND expires_at <= ?1 LIMIT ?2)",
    // purge_windows: windows of tokens that no longer exist
    "DELETE FROM gvx_rate_window WHERE key_id NOT IN (SELECT id FROM apikey)",
    // purge_old_activity
    "DELETE FROM gvx_activity WHERE id IN (SELECT id FROM gvx_activity WHERE at < ?1 "
    "ORDER BY at LIMIT ?2)",
    // purge_excess_activity: only the newest activity_max_rows ids stay. Ids only grow, so
    // max(id) bounds the count without counting (count(*) per batch was O(rows)).
    "DELETE FROM gvx_activity WHERE id IN (SELECT id FROM gvx_activity WHERE id <= "
    "(SELECT max(id) FROM gvx_activity) - ?1 ORDER BY id LIMIT ?2)",
    // count_expired
    "SELECT count(*) FROM apikey WHERE expires_at IS NOT NULL AND expires_at <= ?1",
    // count_old_activity
    "SELECT count(*) FROM gvx_activity WHERE at < ?1",
    // count_excess_activity: what purge_excess_activity would take beyond the old rows
    "SELECT count(*) FROM gvx_activity WHERE id <= (SELECT max(id) FROM gvx_activity) - ?1 "
    "AND at >= ?2",
    // Transaction control, prepared once too: parsing them on every verification costs more
    // than the SELECT does.
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT gvx_write",
    "ROLLBACK TO gvx_write",
    "RELEASE gvx_write",
};
static_assert(std::size(kSql) == static_cast<std::size_t>(Store::Sql::count_));
}  // namespace

std::string_view outcome_code(Outcome o) {
    switch (o) {
        case Outcome::ok: return "OK";
        case Outcome::invalid_key: return "INVALID_API_KEY";
        case Outcome::expired: return "KEY_EXPIRED";
        case Outcome::disabled: return "KEY_DISABLED";
        case Outcome::usage_exceeded: return "USAGE_EXCEEDED";
        case Outcome::rate_limited: return "RATE_LIMITED";
        case Outcome::user_mismatch: return "USER_MISMATCH";
    }
    return "INVALID_API_KEY";
}

std::string_view outcome_message(Outcome o) {
    switch (o) {
        case Outcome::ok: return "token is valid";
        case Outcome::invalid_key: return "invalid token";
        case Outcome::expired: return "token has expired";
        case Outcome::disabled: return "token is disabled";
        case Outcome::usage_exceeded: return "token has no remaining uses";
        case Outcome::rate_limited: return "rate limit exceeded";
        case Outcome::user_mismatch: return "the user name does not match the token's owner";
    }
    return "invalid token";
}

// ---------------------------------------------------------------------------------------------
// Connections and statements

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
    // Our own connection (gvx-fcgi, the side connection): wait for locks in short, even steps.
    // SQLite's default handler backs off to 100 ms sleeps, so a waiter can sleep long after the
    // lock is free while others take it; at 1 ms steps verification latency stays flat.
    sqlite3_busy_handler(raw, wait_briefly, nullptr);
    // In WAL mode NORMAL loses no integrity, only the last commits on power loss, and saves
    // an fsync per verification.
    if (sqlite3_exec(raw, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr) != SQLITE_OK)
        return db_error(raw, sqlite3_errcode(raw));
    std::unique_ptr<Store> store(new Store(std::move(db)));
    if (auto st = store->prepare(); !st) return std::move(st).error();
    return store;
}

Store::Store(sqlite3* borrowed) : db_(borrowed) {}
Store::Store(DbPtr owned) : owned_(std::move(owned)), db_(owned_.get()) {}
Store::~Store() { release_statements(); }

void Store::release_statements() noexcept {
    cache_.clear();
    session_stmt_.reset();
    username_stmt_.reset();
    prepared_ = false;
    if (side_) side_.reset();
}

Status Store::exec(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return db_error(db_, rc);
    return Ok{};
}

Query Store::query(Sql which) { return Query(cache_[static_cast<std::size_t>(which)].get()); }

// A statement that returns no rows, from the cache once it is ready (migrations run earlier).
Status Store::run(Sql which) {
    const auto i = static_cast<std::size_t>(which);
    if (cache_.size() <= i) return exec(kSql[i]);
    Query q = query(which);
    if (const int rc = q.step(); rc != SQLITE_DONE) return db_error(db_, rc);
    return Ok{};
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
            if (auto st = exec("PRAGMA journal_mode=WAL"); !st) return st;
            wal_pending_ = false;
        }
    }
    if (prepared_) return Ok{};
    // A connection without a busy timeout fails at once when another process writes; the
    // shell's default is none. Respect one the host already set.
    {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db_, "PRAGMA busy_timeout", -1, &raw, nullptr);
        StmtPtr stmt{raw};
        if (rc != SQLITE_OK) return db_error(db_, rc);
        if (sqlite3_step(raw) == SQLITE_ROW && sqlite3_column_int(raw, 0) == 0)
            sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    }
    if (auto st = migrate(); !st) return st;
    cache_.clear();
    cache_.reserve(std::size(kSql));
    for (const char* sql : kSql) {
        sqlite3_stmt* raw = nullptr;
        const int rc =
            sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
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

// Applies every migration newer than the database's gvx_meta.schema_version, in one write
// transaction, so concurrent first uses by several processes apply each exactly once.
Status Store::migrate() {
    auto current_version = [this]() -> Result<int> {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(
            db_, "SELECT value FROM gvx_meta WHERE name = 'schema_version'", -1, &raw, nullptr);
        StmtPtr stmt{raw};
        if (rc != SQLITE_OK) return 0;  // no gvx_meta yet: a database gvx has never touched
        rc = sqlite3_step(raw);
        if (rc == SQLITE_ROW) return sqlite3_column_int(raw, 0);
        if (rc == SQLITE_DONE) return 0;
        return db_error(db_, rc);
    };
    auto before = current_version();
    if (!before) return std::move(before).error();
    if (*before > kSchemaVersion)
        return Error{Errc::db, "database schema is newer than this gvx (version " +
                                   std::to_string(*before) + "); upgrade gvx"};
    if (*before == kSchemaVersion) return Ok{};

    return write_here<Ok>([&]() -> Status {
        auto v = current_version();  // again, under the write lock
        if (!v) return std::move(v).error();
        if (auto st = exec("CREATE TABLE IF NOT EXISTS gvx_meta (name TEXT PRIMARY KEY NOT "
                           "NULL, value) WITHOUT ROWID");
            !st)
            return st;
        for (const Migration& m : kMigrations) {
            if (m.version <= *v) continue;
            if (auto st = exec(m.sql); !st) return st;
        }
        const std::string set = "INSERT OR REPLACE INTO gvx_meta (name, value) VALUES "
                                "('schema_version', " + std::to_string(kSchemaVersion) + ")";
        return exec(set.c_str());
    });
}

// ---------------------------------------------------------------------------------------------
// Write transactions
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

template <class T, class Body>
Result<T> Store::write_here(Body&& body) {
    const bool autocommit = sqlite3_get_autocommit(db_) != 0;
    if (sqlite3_txn_state(db_, "main") == SQLITE_TXN_WRITE) return body();
    if (autocommit && sqlite3_txn_state(db_, nullptr) == SQLITE_TXN_NONE) {
        if (auto st = run(Sql::begin_immediate); !st) return std::move(st).error();
        Result<T> out = body();
        if (out) {
            if (auto st = run(Sql::commit); !st) {
                (void)run(Sql::rollback);
                return std::move(st).error();
            }
            return out;
        }
        (void)run(Sql::rollback);
        return out;
    }
    if (!autocommit) {
        if (auto st = run(Sql::savepoint); !st) return std::move(st).error();
        Result<T> out = body();
        if (!out) (void)run(Sql::rollback_to_savepoint);
        (void)run(Sql::release_savepoint);
        return out;
    }
    // Autocommit inside a running statement: no transaction of our own can be opened here, and
    // the work joins the statement's own (it commits when the statement ends).
    return body();
}

template <class T, class Body>
Result<T> Store::write(Body&& body, bool may_use_side_connection) {
    Result<T> out = write_here<T>([&] { return body(*this); });
    if (out || out.error().code != Errc::busy || !may_use_side_connection) return out;
    if (sqlite3_txn_state(db_, "main") == SQLITE_TXN_WRITE) return out;  // the lock is ours
    const char* file = sqlite3_db_filename(db_, "main");
    if (!file || !*file) return out;  // in-memory: no second connection can see it
    if (!side_) {
        auto side = Store::open(file);
        if (!side) return std::move(side).error();
        side_ = std::move(*side);
    }
    Store& side = *side_;
    return side.write_here<T>([&] { return body(side); });
}

// ---------------------------------------------------------------------------------------------
// Operations

Result<Config> Store::config() {
    Config c;
    Query q = query(Sql::select_config);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        const std::string name = q.text(0);
        const std::int64_t v = q.int64(1);
        if (name == "rate_limit_enabled") c.rate_limit_enabled = v != 0;
        else if (name == "rate_limit_time_window" && v > 0)
            c.rate_limit_time_window = std::min(v, kMaxDurationMs);
        else if (name == "rate_limit_max" && v >= 0) c.rate_limit_max = v;
        else if (name == "activity_retention_ms" && v > 0)
            c.activity_retention = std::min(v, kMaxDurationMs);
        else if (name == "activity_max_rows" && v > 0) c.activity_max_rows = v;
        else if (name == "cleanup_hold_us" && v > 0) c.cleanup_hold_us = v;
        else if (name == "cleanup_pause_ratio" && v >= 0) c.cleanup_pause_ratio = v;
        else if (name == "max_token_lifetime_ms" && v >= 0)
            c.max_token_lifetime = std::min(v, kMaxDurationMs);
    }
    if (rc != SQLITE_DONE) return db_error(db_, rc);
    return c;
}

Result<CreatedToken> Store::create(const NewToken& t, std::int64_t now) {
    if (t.user_id.empty()) return invalid("user_id must not be empty");
    if (auto st = check_text("user_id", t.user_id, kMaxUserIdBytes); !st)
        return std::move(st).error();
    if (auto st = check_text("name", t.name, kMaxNameChars * 4); !st)
        return std::move(st).error();
    const std::size_t chars = count_code_points(t.name);
    if (chars < kMinNameChars || chars > kMaxNameChars)
        return invalid("name must be 3 to 50 characters (got " + std::to_string(chars) + ")");
    if (!is_valid_prefix(t.prefix)) return invalid("prefix must match ^[A-Za-z0-9_-]{1,32}$");
    if (t.expires_at && *t.expires_at <= now)
        return invalid("expires_at must be in the future (milliseconds since the epoch)");
    if (t.metadata && t.metadata->size() > kMaxMetadataBytes)
        return invalid("metadata is too long (at most 16384 bytes of JSON)");
    if (t.rate_limit_time_window && *t.rate_limit_time_window <= 0)
        return invalid("rate_limit_time_window must be a positive number of milliseconds");
    if (t.rate_limit_max && *t.rate_limit_max < 0)
        return invalid("rate_limit_max must not be negative");
    if (auto st = prepare(); !st) return std::move(st).error();

    return write<CreatedToken>(
        [&](Store& s) -> Result<CreatedToken> {
            auto cfg = s.config();
            if (!cfg) return std::move(cfg).error();
            std::optional<std::int64_t> expires = t.expires_at;
            if (cfg->max_token_lifetime > 0) {
                const std::int64_t latest = now + cfg->max_token_lifetime;
                if (!expires) expires = latest;  // the longest allowed, rather than never
                else if (*expires > latest)
                    return invalid("expires_at is beyond the maximum token lifetime of " +
                                   std::to_string(cfg->max_token_lifetime / 86'400'000) +
                                   " days");
            }
            auto token = generate_token(t.prefix);
            if (!token) return std::move(token).error();
            CreatedToken out{.record = {}, .key = std::move(*token)};
            TokenRecord& r = out.record;
            r.id = random_id();
            r.name = std::string(t.name);
            r.start = std::string(out.key.view().substr(0, kStartLength));
            r.prefix = std::string(t.prefix);
            r.user_id = std::string(t.user_id);
            r.enabled = true;
            r.created_at = r.updated_at = now;
            r.expires_at = expires;
            r.metadata = t.metadata;
            r.rate_limit_enabled = t.rate_limit_enabled.value_or(true);
            r.rate_limit_time_window = t.rate_limit_time_window;
            r.rate_limit_max = t.rate_limit_max;

            Query q = s.query(Sql::insert_token);
            q.bind(1, std::string_view(r.id))
                .bind(2, std::string_view(*r.name))
                .bind(3, std::string_view(*r.start))
                .bind(4, std::string_view(*r.prefix))
                .bind(5, std::string_view(hash_key(out.key.view())))
                .bind(6, std::string_view(r.user_id))
                .bind(7, std::int64_t{*r.rate_limit_enabled ? 1 : 0})
                .bind(8, r.rate_limit_time_window)
                .bind(9, r.rate_limit_max)
                .bind(10, r.expires_at)
                .bind(11, now)
                .bind(12, r.metadata);
            if (const int rc = q.step(); rc != SQLITE_DONE) return db_error(s.db_, rc);
            return out;
        },
        /*may_use_side_connection=*/false);
}

Result<Verification> Store::verify(std::string_view token, const ClientInfo& client,
                                   std::int64_t now) {
    if (auto st = prepare(); !st) return std::move(st).error();
    return write<Verification>(
        [&](Store& s) { return s.verify_locked(token, client, now); },
        /*may_use_side_connection=*/true);
}

// Runs under the write lock: the outcome, the usage counters and the activity row are one
// atomic step, so concurrent verifications are counted exactly and rate limits admit exactly
// rate_limit_max per window.
Result<Verification> Store::verify_locked(std::string_view token, const ClientInfo& client,
                                          std::int64_t now) {
    Verification v;
    if (token.size() <= kMaxTokenLength) {
        Query q = query(Sql::select_by_key);
        q.bind(1, std::string_view(hash_key(token)));
        const int rc = q.step();
        if (rc == SQLITE_ROW) v.record = read_token(q);
        else if (rc != SQLITE_DONE) return db_error(db_, rc);
    }

    std::optional<std::int64_t> remaining;
    std::optional<std::int64_t> last_refill_at;
    if (!v.record) {
        v.outcome = Outcome::invalid_key;
    } else if (!v.record->enabled) {
        v.outcome = Outcome::disabled;
    } else if (v.record->expires_at && *v.record->expires_at <= now) {
        v.outcome = Outcome::expired;
    } else {
        v.outcome = Outcome::ok;
        TokenRecord& r = *v.record;
        // better-auth's usage limit: `remaining` uses, refilled every refill_interval ms.
        remaining = r.remaining;
        last_refill_at = r.last_refill_at;
        if (remaining && r.refill_interval && r.refill_amount &&
            sub_sat(now, r.last_refill_at.value_or(r.created_at)) >= *r.refill_interval) {
            remaining = r.refill_amount;
            last_refill_at = now;
        }
        if (remaining && *remaining <= 0) v.outcome = Outcome::usage_exceeded;
    }
    if (v.outcome == Outcome::ok && !client.claimed_user.empty()) {
        auto named = names_user(v.record->user_id, client.claimed_user);
        if (!named) return std::move(named).error();
        if (!*named) v.outcome = Outcome::user_mismatch;
    }

    if (v.outcome == Outcome::ok) {
        auto cfg = config();
        if (!cfg) return std::move(cfg).error();
        TokenRecord& r = *v.record;
        if (cfg->rate_limit_enabled && r.rate_limit_enabled.value_or(true)) {
            const std::int64_t window = std::min(
                r.rate_limit_time_window.value_or(cfg->rate_limit_time_window), kMaxDurationMs);
            const std::int64_t max = r.rate_limit_max.value_or(cfg->rate_limit_max);
            std::int64_t start = now;
            std::int64_t count = 0;
            {
                Query q = query(Sql::select_window);
                q.bind(1, std::string_view(r.id));
                const int rc = q.step();
                if (rc == SQLITE_ROW && now - q.int64(0) < window && now >= q.int64(0)) {
                    start = q.int64(0);  // still inside the current fixed window
                    count = q.int64(1);
                } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                    return db_error(db_, rc);
                }
            }
            if (count >= max) {
                v.outcome = Outcome::rate_limited;
                v.retry_after_ms = std::max<std::int64_t>(start + window - now, 1);
            } else {
                Query q = query(Sql::upsert_window);
                q.bind(1, std::string_view(r.id)).bind(2, start).bind(3, count + 1);
                if (const int rc = q.step(); rc != SQLITE_DONE) return db_error(db_, rc);
            }
        }
    }

    if (v.outcome == Outcome::ok) {
        TokenRecord& r = *v.record;
        if (remaining) *remaining -= 1;
        Query q = query(Sql::update_usage);
        q.bind(1, std::string_view(r.id)).bind(2, now).bind(3, remaining).bind(4, last_refill_at);
        if (const int rc = q.step(); rc != SQLITE_DONE) return db_error(db_, rc);
        r.request_count += 1;
        r.last_request = now;
        r.remaining = remaining;
        r.last_refill_at = last_refill_at;
    }

    Query q = query(Sql::insert_activity);
    q.bind(1, now)
        .bind(2, v.record ? std::optional<std::string>(v.record->id) : std::nullopt)
        .bind(3, std::string_view(token_start(token)))
        .bind(4, outcome_code(v.outcome))
        .bind(5, std::string_view(printable(client.ip, kMaxIpBytes)))
        .bind(6, std::string_view(printable(client.user_agent, kMaxUserAgentBytes)));
    if (const int rc = q.step(); rc != SQLITE_DONE) return db_error(db_, rc);
    return v;
}

Result<bool> Store::revoke(std::string_view id, std::optional<std::string_view> user_id) {
    if (auto st = prepare(); !st) return std::move(st).error();
    return write<bool>(
        [&](Store& s) -> Result<bool> {
            Query q = s.query(Sql::delete_token);
            q.bind(1, id).bind(2, user_id);
            if (const int rc = q.step(); rc != SQLITE_DONE) return db_error(s.db_, rc);
            const bool deleted = sqlite3_changes(s.db_) > 0;
            if (deleted) {
                Query w = s.query(Sql::delete_window);
                w.bind(1, id);
                if (const int rc = w.step(); rc != SQLITE_DONE) return db_error(s.db_, rc);
            }
            return deleted;
        },
        /*may_use_side_connection=*/false);
}

Result<std::vector<TokenRecord>> Store::list(std::string_view user_id) {
    std::vector<TokenRecord> out;
    if (auto st = each_token(user_id, [&](const TokenRecord& t) { out.push_back(t); }); !st)
        return std::move(st).error();
    return out;
}

Status Store::each_token(std::string_view user_id,
                         const std::function<void(const TokenRecord&)>& visit) {
    if (auto st = prepare(); !st) return std::move(st).error();
    Query q = query(Sql::select_by_user);
    q.bind(1, user_id);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) visit(read_token(q));
    if (rc != SQLITE_DONE) return db_error(db_, rc);
    return Ok{};
}

Result<std::optional<TokenRecord>> Store::get(std::string_view id, std::string_view user_id) {
    if (auto st = prepare(); !st) return std::move(st).error();
    Query q = query(Sql::select_by_id_user);
    q.bind(1, id).bind(2, user_id);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return std::optional<TokenRecord>(read_token(q));
    if (rc == SQLITE_DONE) return std::optional<TokenRecord>();
    return db_error(db_, rc);
}

Result<std::optional<TokenRecord>> Store::update(std::string_view id, std::string_view user_id,
                                                 const TokenChanges& c, std::int64_t now) {
    if (c.name) {
        if (auto st = check_text("name", *c.name, kMaxNameChars * 4); !st)
            return std::move(st).error();
        const std::size_t chars = count_code_points(*c.name);
        if (chars < kMinNameChars || chars > kMaxNameChars)
            return invalid("name must be 3 to 50 characters (got " + std::to_string(chars) +
                           ")");
    }
    if (c.set_expires_at && c.expires_at && *c.expires_at <= now)
        return invalid("expires_at must be in the future (milliseconds since the epoch)");
    if (auto st = prepare(); !st) return std::move(st).error();
    return write<std::optional<TokenRecord>>(
        [&](Store& s) -> Result<std::optional<TokenRecord>> {
            if (c.set_expires_at) {
                auto cfg = s.config();
                if (!cfg) return std::move(cfg).error();
                if (cfg->max_token_lifetime > 0 &&
                    (!c.expires_at || *c.expires_at > now + cfg->max_token_lifetime))
                    return invalid("expires_at is beyond the maximum token lifetime");
            }
            Query q = s.query(Sql::update_token);
            q.bind(1, id).bind(2, user_id).bind(3, c.name);
            q.bind(4, c.enabled ? std::optional<std::int64_t>(*c.enabled ? 1 : 0)
                                : std::nullopt);
            q.bind(5, std::int64_t{c.set_expires_at ? 1 : 0}).bind(6, c.expires_at).bind(7, now);
            const int rc = q.step();
            if (rc == SQLITE_ROW) {
                TokenRecord r = read_token(q);
                if (const int rc2 = q.step(); rc2 != SQLITE_DONE) return db_error(s.db_, rc2);
                return std::optional<TokenRecord>(std::move(r));
            }
            if (rc == SQLITE_DONE) return std::optional<TokenRecord>();
            return db_error(s.db_, rc);
        },
        /*may_use_side_connection=*/false);
}

Result<std::vector<ActivityRecord>> Store::activity(std::string_view id,
                                                    std::string_view user_id,
                                                    std::int64_t limit) {
    auto owner = get(id, user_id);  // only the owner may read a token's activity
    if (!owner) return std::move(owner).error();
    if (!*owner) return Error{Errc::not_found, "no such token"};
    std::vector<ActivityRecord> out;
    Query q = query(Sql::select_activity);
    q.bind(1, id).bind(2, limit);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        out.push_back(ActivityRecord{.id = q.int64(0),
                                     .at = q.int64(1),
                                     .key_id = q.opt_text(2),
                                     .key_start = q.text(3),
                                     .outcome = q.text(4),
                                     .ip = q.text(5),
                                     .user_agent = q.text(6)});
    }
    if (rc != SQLITE_DONE) return db_error(db_, rc);
    return out;
}

Result<PurgeReport> Store::purge_batch(std::int64_t now, std::int64_t batch) {
    if (auto st = prepare(); !st) return std::move(st).error();
    return write<PurgeReport>(
        [&](Store& s) -> Result<PurgeReport> {
            auto cfg = s.config();
            if (!cfg) return std::move(cfg).error();
            PurgeReport r;
            auto run = [&](Sql which, std::int64_t a, std::int64_t b) -> Result<std::int64_t> {
                Query q = s.query(which);
                q.bind(1, a).bind(2, b);
                if (const int rc = q.step(); rc != SQLITE_DONE) return db_error(s.db_, rc);
                return std::int64_t{sqlite3_changes(s.db_)};
            };
            auto tokens = run(Sql::purge_tokens, now, batch);
            if (!tokens) return std::move(tokens).error();
            r.tokens = *tokens;
            if (r.tokens > 0) {
                Query q = s.query(Sql::purge_windows);
                if (const int rc = q.step(); rc != SQLITE_DONE) return db_error(s.db_, rc);
            }
            auto old = run(Sql::purge_old_activity, sub_sat(now, cfg->activity_retention), batch);
            if (!old) return std::move(old).error();
            r.activity = *old;
            if (r.activity < batch) {
                auto excess = run(Sql::purge_excess_activity, cfg->activity_max_rows,
                                  batch - r.activity);
                if (!excess) return std::move(excess).error();
                r.activity += *excess;
            }
            return r;
        },
        /*may_use_side_connection=*/false);
}

Result<PurgeReport> Store::purge_preview(std::int64_t now) {
    if (auto st = prepare(); !st) return std::move(st).error();
    auto cfg = config();
    if (!cfg) return std::move(cfg).error();
    const std::int64_t oldest_kept = sub_sat(now, cfg->activity_retention);
    auto count = [&](Sql which, std::int64_t a, std::int64_t b) -> Result<std::int64_t> {
        Query q = query(which);
        q.bind(1, a).bind(2, b);  // a statement ignores the values it has no place for
        if (const int rc = q.step(); rc != SQLITE_ROW) return db_error(db_, rc);
        return q.int64(0);
    };
    auto tokens = count(Sql::count_expired, now, 0);
    if (!tokens) return std::move(tokens).error();
    auto old = count(Sql::count_old_activity, oldest_kept, 0);
    if (!old) return std::move(old).error();
    auto excess = count(Sql::count_excess_activity, cfg->activity_max_rows, oldest_kept);
    if (!excess) return std::move(excess).error();
    return PurgeReport{.tokens = *tokens, .activity = *old + *excess};
}

Result<std::optional<std::string>> Store::session_user(std::string_view session_token,
                                                       std::int64_t now) {
    if (!session_stmt_) {
        // Sessions written through Kysely may hold ISO-8601 text instead of milliseconds;
        // compare both as milliseconds, never text against a number.
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v3(
            db_,
            "SELECT user_id FROM session WHERE token = ?1 AND (CASE WHEN typeof(expires_at) IN "
            "('integer', 'real') THEN expires_at ELSE CAST(strftime('%s', expires_at) AS "
            "INTEGER) * 1000 END) > ?2",
            -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
        session_stmt_.reset(raw);
        if (rc != SQLITE_OK) {
            session_stmt_.reset();
            return Error{Errc::db, "no better-auth session table in this database", rc};
        }
    }
    Query q(session_stmt_.get());
    q.bind(1, session_token).bind(2, now);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(q.text(0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return db_error(db_, rc);
}

Result<bool> Store::names_user(std::string_view user_id, std::string_view name) {
    if (name == user_id) return true;
    if (!username_stmt_) {
        // Tried on every call until it works: the table may be created after gvx starts. Only
        // Apache's authenticator mode asks, so the cost of a failed prepare is paid rarely.
        // better-auth's username plugin stores usernames lowercased; people type "Carol".
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v3(db_,
                               "SELECT 1 FROM \"user\" WHERE id = ?1 AND (username = ?2 OR "
                               "username = lower(?2))",
                               -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) == SQLITE_OK)
            username_stmt_.reset(raw);
        else
            sqlite3_finalize(raw);  // no user table or no username column: ids only
    }
    if (!username_stmt_) return false;
    Query q(username_stmt_.get());
    q.bind(1, user_id).bind(2, name);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return db_error(db_, rc);
}

}  // namespace gvx
