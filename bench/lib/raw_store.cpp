#include "raw_store.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <errno.h>  // program_invocation_short_name (GNU)

#include <chrono>
#include <cstring>

#include "core/audit.hpp"
#include "core/permissions.hpp"
#include "core/token.hpp"
#include "json/json.hpp"

namespace bench {
namespace {

// Copied from ext/store/sql.cpp (kSql) on purpose: the baseline must run the very same SQL.
// gvx-bench-sql checks at start-up that both sides leave the database in the same state.
#define TOKEN_COLUMNS                                                                          \
    "a.id, a.name, a.start, a.prefix, a.user_id, "                                            \
    "CASE WHEN s.disabled THEN 0 ELSE a.enabled END, a.created_at, a.updated_at, a.expires_at, " \
    "CASE WHEN s.last_request IS NULL OR s.last_request <= a.last_request THEN a.last_request " \
    "ELSE s.last_request END, "                                                                \
    "max(coalesce(a.request_count, 0), coalesce(s.request_count, 0)), a.metadata, "           \
    "a.rate_limit_enabled, a.rate_limit_time_window, a.rate_limit_max, a.remaining, "        \
    "a.refill_interval, a.refill_amount, a.last_refill_at, a.permissions"
#define TOKEN_FROM " FROM apikey a LEFT JOIN gvx_key_state s ON s.key_id = a.id "

constexpr const char* kSelectConfig = "SELECT name, value FROM gvx_config";
constexpr const char* kSelectByKey =
    "SELECT " TOKEN_COLUMNS ", a.rowid" TOKEN_FROM "WHERE a.key = ?1 LIMIT 1";
constexpr const char* kSelectByUser =
    "SELECT " TOKEN_COLUMNS TOKEN_FROM "WHERE a.user_id = ?1 ORDER BY a.created_at, a.rowid";
constexpr const char* kInsertToken =
    "INSERT INTO apikey (id, name, start, prefix, key, user_id, enabled, rate_limit_enabled, "
    "rate_limit_time_window, rate_limit_max, request_count, expires_at, created_at, updated_at, "
    "metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, 0, ?10, ?11, ?11, ?12)";
// gvx records each change in its audit trail, in the change's transaction (sql/006).
constexpr const char* kInsertAudit =
    "INSERT INTO gvx_audit (at, action, key_id, key_name, owner, actor, via, ip, user_agent, "
    "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kCountLiveTokens =
    "SELECT count(*) FROM apikey WHERE user_id = ?1 AND (expires_at IS NULL OR expires_at > ?2)";
constexpr const char* kUpdateUsage =
    "UPDATE apikey SET request_count = ?5, last_request = ?2, remaining = ?3, "
    "last_refill_at = ?4 WHERE rowid = ?6 AND id = ?1";
constexpr const char* kUpsertStateUsage =
    "INSERT INTO gvx_key_state (key_id, request_count, last_request) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (key_id) DO UPDATE SET request_count = max(request_count, "
    "excluded.request_count), last_request = max(coalesce(last_request, 0), "
    "excluded.last_request)";
// gvx checks the schema version in each write (a changed schema: restore its indexes).
constexpr const char* kSchemaVersion = "PRAGMA main.schema_version";
constexpr const char* kInsertActivity =
    "INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kPurgeTokens =
    "DELETE FROM apikey WHERE rowid IN (SELECT rowid FROM apikey WHERE expires_at IS NOT NULL "
    "AND expires_at <= ?1 LIMIT ?2)";
constexpr const char* kPurgeWindows =
    "DELETE FROM gvx_rate_window WHERE key_id NOT IN (SELECT id FROM apikey)";
constexpr const char* kPurgeStates =
    "DELETE FROM gvx_key_state WHERE key_id NOT IN (SELECT id FROM apikey)";
constexpr const char* kPurgeOldActivity =
    "DELETE FROM gvx_activity WHERE id IN (SELECT id FROM gvx_activity ORDER BY id LIMIT ?2) "
    "AND id < coalesce((SELECT min(id) FROM (SELECT id, at FROM gvx_activity ORDER BY id "
    "LIMIT ?2) WHERE at >= ?1), 9223372036854775807)";
// A refusal is counted in a row (sql/002): the same four statements gvx runs, in its order.
constexpr const char* kBumpRefusal =
    "UPDATE gvx_activity SET count = count + 1, last_at = ?1 WHERE id = "
    "(SELECT id FROM gvx_activity WHERE key_id IS ?2 AND outcome = ?4 AND ip = ?5 AND "
    "key_start = ?3 AND at >= ?7 AND user_agent = ?6 AND outcome <> 'OK' "
    "ORDER BY at DESC LIMIT 1)";
constexpr const char* kInsertRefusal =
    "INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE (SELECT count(*) FROM gvx_activity "
    "WHERE key_id IS ?2 AND outcome <> 'OK') < ?7";
constexpr const char* kBumpOverflow =
    "UPDATE gvx_activity SET count = count + 1, last_at = ?1 WHERE id = "
    "(SELECT id FROM gvx_activity WHERE key_id IS ?2 AND outcome = ?4 AND ip = '' AND "
    "key_start = '' AND outcome <> 'OK' ORDER BY at DESC LIMIT 1)";
constexpr const char* kInsertOverflow =
    "INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "VALUES (?1, ?2, '', ?4, '', '')";

enum Column {
    kId, kName, kStart, kPrefix, kUserId, kEnabled, kCreatedAt, kUpdatedAt, kExpiresAt,
    kLastRequest, kRequestCount, kMetadata, kRateLimitEnabled, kRateLimitTimeWindow,
    kRateLimitMax, kRemaining, kRefillInterval, kRefillAmount, kLastRefillAt,
    kPermissions, kRowid,  // kRowid: select_by_key only
};

bool is_null(sqlite3_stmt* s, int col) { return sqlite3_column_type(s, col) == SQLITE_NULL; }

std::string_view column_text(sqlite3_stmt* s, int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col)))
             : std::string_view();
}

void bind_optional(sqlite3_stmt* s, int i, bool present, std::int64_t v) {
    if (present) sqlite3_bind_int64(s, i, v);
    else sqlite3_bind_null(s, i);
}

using KeptConfig = RawStore::KeptConfig;

unsigned int data_version(sqlite3* db) {
    unsigned int v = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_DATA_VERSION, &v) != SQLITE_OK)
        die("SQLITE_FCNTL_DATA_VERSION", sqlite3_errmsg(db));
    return v;
}

// Rolls back unless committed: every early exit leaves no transaction behind. Like gvx
// (ext/store/config_cache.hpp), it keeps gvx_config while the file's data version is the one
// its last commit left.
class WriteTransaction {
   public:
    WriteTransaction(sqlite3* db, sqlite3_stmt* begin, sqlite3_stmt* commit, KeptConfig& kept)
        : db_(db), commit_(commit), kept_(kept) {
        step_done(db_, begin);
        if (kept_.config && data_version(db_) != kept_.version) kept_.config.reset();
    }
    void commit() {
        step_done(db_, commit_);
        committed_ = true;
        kept_.version = data_version(db_);
    }
    ~WriteTransaction() {
        if (committed_) return;
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        kept_.config.reset();
    }
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;

   private:
    sqlite3* db_;
    sqlite3_stmt* commit_;
    KeptConfig& kept_;
    bool committed_ = false;
};

}  // namespace

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

RawStore::RawStore(sqlite3* db)
    : db_(db),
      begin_(prepare(db, "BEGIN IMMEDIATE")),
      commit_(prepare(db, "COMMIT")),
      select_config_(prepare(db, kSelectConfig)),
      select_by_key_(prepare(db, kSelectByKey)),
      select_by_user_(prepare(db, kSelectByUser)),
      update_usage_(prepare(db, kUpdateUsage)),
      upsert_state_usage_(prepare(db, kUpsertStateUsage)),
      schema_version_(prepare(db, kSchemaVersion)),
      insert_activity_(prepare(db, kInsertActivity)),
      insert_token_(prepare(db, kInsertToken)),
      insert_audit_(prepare(db, kInsertAudit)),
      count_live_tokens_(prepare(db, kCountLiveTokens)),
      purge_tokens_(prepare(db, kPurgeTokens)),
      purge_windows_(prepare(db, kPurgeWindows)),
      purge_states_(prepare(db, kPurgeStates)),
      purge_old_activity_(prepare(db, kPurgeOldActivity)),
      bump_refusal_(prepare(db, kBumpRefusal)),
      insert_refusal_(prepare(db, kInsertRefusal)),
      bump_overflow_(prepare(db, kBumpOverflow)),
      insert_overflow_(prepare(db, kInsertOverflow)),
      has_user_table_(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                                    "AND name = 'user'") > 0),
      actor_(gvx::system_actor(gvx::AuditVia::sql, program_invocation_short_name)),
      created_detail_(R"({"prefix":")" + std::string(gvx::kDefaultPrefix) +
                      R"(","expiresAt":null,"permissions":null})") {}

void RawStore::read_schema_version() {
    sqlite3_stmt* s = schema_version_.get();
    if (sqlite3_step(s) != SQLITE_ROW) die(kSchemaVersion, sqlite3_errmsg(db_));
    sqlite3_reset(s);
}

RawStore::ConfigRead RawStore::read_config() {
    if (kept_.config) return *kept_.config;
    ConfigRead c;
    sqlite3_stmt* s = select_config_.get();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const std::string_view name = column_text(s, 0);
        const std::int64_t v = sqlite3_column_int64(s, 1);
        if (name == "rate_limit_enabled") c.rate_limit_enabled = v != 0;
        else if (name == "activity_retention_ms" && v > 0) c.activity_retention = v;
        else if (name == "activity_unknown_max_rows" && v >= 0) c.activity_unknown_max_rows = v;
        else if (name == "activity_refusals_per_token" && v >= 0)
            c.activity_refusals_per_token = v;
        else if (name == "max_tokens_per_user" && v >= 0) c.max_tokens_per_user = v;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) die(kSelectConfig, sqlite3_errmsg(db_));
    // The bench databases have no gvx_config rows; the baseline does not do rate limiting.
    if (c.rate_limit_enabled) die("RawStore", "rate limiting is not part of the baseline");
    kept_.config = c;
    return c;
}

void RawStore::insert_activity(std::int64_t now, const char* key_id, int key_id_bytes,
                               std::string_view token, std::string_view outcome,
                               std::string_view ip, std::string_view user_agent) {
    sqlite3_stmt* s = insert_activity_.get();
    const std::string start = gvx::token_start(token);
    sqlite3_bind_int64(s, 1, now);
    if (key_id) sqlite3_bind_text(s, 2, key_id, key_id_bytes, SQLITE_STATIC);
    else sqlite3_bind_null(s, 2);
    bind_text(s, 3, start);
    bind_text(s, 4, outcome);
    bind_text(s, 5, ip);
    bind_text(s, 6, user_agent);
    step_done(db_, s);
}

void RawStore::record_refusal(std::int64_t now, const char* key_id, int key_id_bytes,
                              std::string_view token, std::string_view outcome,
                              std::string_view ip, std::string_view user_agent) {
    const std::string start = key_id ? gvx::token_start(token) : gvx::credential_start(token);
    auto run = [&](sqlite3_stmt* s, bool with_limit, std::int64_t seventh) {
        sqlite3_bind_int64(s, 1, now);
        if (key_id) sqlite3_bind_text(s, 2, key_id, key_id_bytes, SQLITE_STATIC);
        else sqlite3_bind_null(s, 2);
        bind_text(s, 3, start);
        bind_text(s, 4, outcome);
        bind_text(s, 5, ip);
        bind_text(s, 6, user_agent);
        if (with_limit) sqlite3_bind_int64(s, 7, seventh);
        step_done(db_, s);
        return sqlite3_changes(db_) > 0;
    };
    if (run(bump_refusal_.get(), true, now - 60'000)) return;
    const ConfigRead c = read_config();
    const std::int64_t cap = key_id ? c.activity_refusals_per_token : c.activity_unknown_max_rows;
    if (run(insert_refusal_.get(), true, cap)) return;
    if (run(bump_overflow_.get(), false, 0)) return;
    run(insert_overflow_.get(), false, 0);
}

std::optional<std::string> RawStore::verify(std::string_view token, std::string_view ip,
                                            std::string_view user_agent, std::int64_t now) {
    const std::string key = gvx::hash_key(token);
    WriteTransaction txn(db_, begin_.get(), commit_.get(), kept_);
    read_schema_version();
    sqlite3_stmt* s = select_by_key_.get();
    bind_text(s, 1, key);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) die(kSelectByKey, sqlite3_errmsg(db_));
        record_refusal(now, nullptr, 0, token, "INVALID_API_KEY", ip, user_agent);
        txn.commit();
        return std::nullopt;
    }
    // The statement stays on its row until reset, so its id text can be bound below.
    const char* outcome = "OK";
    const bool enabled = is_null(s, kEnabled) || sqlite3_column_int64(s, kEnabled) != 0;
    const bool has_expiry = !is_null(s, kExpiresAt);
    bool has_remaining = !is_null(s, kRemaining);
    std::int64_t remaining = sqlite3_column_int64(s, kRemaining);
    bool has_refill_at = !is_null(s, kLastRefillAt);
    std::int64_t last_refill_at = sqlite3_column_int64(s, kLastRefillAt);
    if (!enabled) {
        outcome = "KEY_DISABLED";
    } else if (has_expiry && sqlite3_column_int64(s, kExpiresAt) <= now) {
        outcome = "KEY_EXPIRED";
    } else if (has_remaining) {
        const std::int64_t since = has_refill_at ? last_refill_at
                                                 : sqlite3_column_int64(s, kCreatedAt);
        if (sqlite3_column_int64(s, kRefillInterval) != 0 &&
            sqlite3_column_int64(s, kRefillAmount) != 0 &&
            now - since > sqlite3_column_int64(s, kRefillInterval)) {
            remaining = sqlite3_column_int64(s, kRefillAmount);
            has_refill_at = true;
            last_refill_at = now;
        }
        if (remaining == 0) outcome = "USAGE_EXCEEDED";
    }
    std::optional<std::string> owner;
    const auto* id = reinterpret_cast<const char*>(sqlite3_column_text(s, kId));
    const int id_bytes = sqlite3_column_bytes(s, kId);
    if (std::strcmp(outcome, "OK") == 0) {
        read_config();
        owner.emplace(column_text(s, kUserId));
        sqlite3_stmt* u = update_usage_.get();
        sqlite3_bind_text(u, 1, id, id_bytes, SQLITE_STATIC);
        sqlite3_bind_int64(u, 2, now);
        bind_optional(u, 3, has_remaining, remaining - 1);
        bind_optional(u, 4, has_refill_at, last_refill_at);
        const std::int64_t count = sqlite3_column_int64(s, kRequestCount) + 1;
        sqlite3_bind_int64(u, 5, count);
        sqlite3_bind_int64(u, 6, sqlite3_column_int64(s, kRowid));
        step_done(db_, u);
        if (has_user_table_) {  // gvx's copy of the count where better-auth may write
            sqlite3_stmt* st = upsert_state_usage_.get();
            sqlite3_bind_text(st, 1, id, id_bytes, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, count);
            sqlite3_bind_int64(st, 3, now);
            step_done(db_, st);
        }
    }
    if (owner) insert_activity(now, id, id_bytes, token, outcome, ip, user_agent);
    else record_refusal(now, id, id_bytes, token, outcome, ip, user_agent);
    sqlite3_reset(s);
    txn.commit();
    return owner;
}

std::string RawStore::create(std::string_view user_id, std::string_view name, std::int64_t now) {
    WriteTransaction txn(db_, begin_.get(), commit_.get(), kept_);
    read_schema_version();
    const ConfigRead cfg = read_config();
    if (cfg.max_tokens_per_user > 0) {  // the cap on a user's live tokens
        sqlite3_stmt* c = count_live_tokens_.get();
        bind_text(c, 1, user_id);
        sqlite3_bind_int64(c, 2, now);
        if (sqlite3_step(c) != SQLITE_ROW) die(kCountLiveTokens, sqlite3_errmsg(db_));
        const bool full = sqlite3_column_int64(c, 0) >= cfg.max_tokens_per_user;
        sqlite3_reset(c);
        if (full) die("RawStore::create", "the user has as many tokens as the cap allows");
    }
    auto token = gvx::generate_token(gvx::kDefaultPrefix);
    if (!token) die("generate_token", token.error().message);
    const std::string token_text(token->view());
    const std::string id = gvx::random_id();
    const std::string key = gvx::hash_key(token_text);
    sqlite3_stmt* s = insert_token_.get();
    bind_text(s, 1, id);
    bind_text(s, 2, name);
    bind_text(s, 3, std::string_view(token_text).substr(0, gvx::kStartLength));
    bind_text(s, 4, gvx::kDefaultPrefix);
    bind_text(s, 5, key);
    bind_text(s, 6, user_id);
    sqlite3_bind_int64(s, 7, 1);
    sqlite3_bind_null(s, 8);
    sqlite3_bind_null(s, 9);
    sqlite3_bind_null(s, 10);
    sqlite3_bind_int64(s, 11, now);
    bind_text(s, 12, "null");  // no metadata, as better-auth 1.4 stores it
    step_done(db_, s);
    sqlite3_stmt* a = insert_audit_.get();  // by whoever runs the program, via SQL, as gvx.so's
    sqlite3_bind_int64(a, 1, now);
    bind_text(a, 2, "create");
    bind_text(a, 3, id);
    bind_text(a, 4, name);
    bind_text(a, 5, user_id);
    bind_text(a, 6, actor_.user);
    bind_text(a, 7, "sql");
    bind_text(a, 8, "");
    bind_text(a, 9, actor_.user_agent);
    bind_text(a, 10, created_detail_);
    step_done(db_, a);
    txn.commit();
    return token_text;
}

std::string RawStore::list_json(std::string_view user_id) {
    using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
    rapidjson::StringBuffer buf;
    Writer w(buf);
    sqlite3_stmt* s = select_by_user_.get();
    bind_text(s, 1, user_id);
    auto key = [&](const char* k) { w.Key(k, static_cast<rapidjson::SizeType>(std::strlen(k))); };
    auto text = [&](int col) {
        if (is_null(s, col)) return w.Null();
        const std::string_view v = column_text(s, col);
        return w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    };
    auto integer = [&](int col) {
        if (is_null(s, col)) return w.Null();
        return w.Int64(sqlite3_column_int64(s, col));
    };
    w.StartArray();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        w.StartObject();
        key("id");
        text(kId);
        key("name");
        text(kName);
        key("start");
        text(kStart);
        key("prefix");
        text(kPrefix);
        key("userId");
        text(kUserId);
        key("enabled");
        w.Bool(is_null(s, kEnabled) || sqlite3_column_int64(s, kEnabled) != 0);
        key("createdAt");
        integer(kCreatedAt);
        key("updatedAt");
        integer(kUpdatedAt);
        key("expiresAt");
        integer(kExpiresAt);
        key("lastRequest");
        integer(kLastRequest);
        key("requestCount");
        w.Int64(sqlite3_column_int64(s, kRequestCount));
        key("metadata");
        const auto meta = is_null(s, kMetadata)
                              ? std::nullopt
                              : gvx::decode_metadata(column_text(s, kMetadata));
        if (meta) w.RawValue(meta->data(), meta->size(), rapidjson::kObjectType);
        else w.Null();
        key("permissions");  // NULL: null; otherwise as gvx reads the stored column
        const gvx::StoredPermissions stored = gvx::read_stored_permissions(
            is_null(s, kPermissions) ? std::nullopt
                                     : std::optional<std::string_view>(column_text(s, kPermissions)));
        if (stored.is_null) {
            w.Null();
        } else {
            const std::string p = gvx::permissions_json(stored.permissions);
            w.RawValue(p.data(), p.size(), rapidjson::kObjectType);
        }
        if (!is_null(s, kRateLimitEnabled)) {
            key("rateLimitEnabled");
            w.Bool(sqlite3_column_int64(s, kRateLimitEnabled) != 0);
        }
        if (!is_null(s, kRateLimitTimeWindow)) {
            key("rateLimitTimeWindow");
            integer(kRateLimitTimeWindow);
        }
        if (!is_null(s, kRateLimitMax)) {
            key("rateLimitMax");
            integer(kRateLimitMax);
        }
        if (!is_null(s, kRemaining)) {
            key("remaining");
            integer(kRemaining);
        }
        w.EndObject();
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) die(kSelectByUser, sqlite3_errmsg(db_));
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

RawPurge RawStore::purge_batch(std::int64_t now, std::int64_t batch) {
    WriteTransaction txn(db_, begin_.get(), commit_.get(), kept_);
    const ConfigRead cfg = read_config();
    auto run = [&](sqlite3_stmt* s, std::int64_t a, std::int64_t b) -> std::int64_t {
        sqlite3_bind_int64(s, 1, a);
        sqlite3_bind_int64(s, 2, b);
        step_done(db_, s);
        return sqlite3_changes(db_);
    };
    RawPurge r;
    r.tokens = run(purge_tokens_.get(), now, batch);
    if (r.tokens > 0) {
        step_done(db_, purge_windows_.get());
        step_done(db_, purge_states_.get());
    }
    r.activity = run(purge_old_activity_.get(), now - cfg.activity_retention, batch);
    txn.commit();
    return r;
}

}  // namespace bench
