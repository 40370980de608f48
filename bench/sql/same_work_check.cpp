#include "same_work_check.hpp"

#include <string>

#include "core/token.hpp"

namespace bench {
namespace {

constexpr std::string_view kIp = "127.0.0.1";
constexpr std::string_view kUserAgent = "git/2.39.5";

// One row of text (NULL as "NULL") from a query, the fields joined by '|'.
std::string row_text(sqlite3* db, const std::string& sql) {
    Stmt s = prepare(db, sql);
    if (sqlite3_step(s.get()) != SQLITE_ROW) die(sql, "no row");
    std::string out;
    for (int i = 0; i < sqlite3_column_count(s.get()); ++i) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), i));
        out += p ? p : "NULL";
        out += '|';
    }
    return out;
}

std::int64_t usage_of(sqlite3* db, std::string_view token) {
    const std::string sql =
        "SELECT coalesce(sum(request_count), 0) FROM apikey WHERE key = '" +
        gvx::hash_key(token) + "'";  // the hash is [A-Za-z0-9_-]: safe to inline here
    return query_int(db, sql.c_str());
}

constexpr const char* kLastActivity =
    "SELECT key_id, key_start, outcome, ip, user_agent FROM gvx_activity ORDER BY id DESC LIMIT 1";

}  // namespace

void check_same_verify(sqlite3* db, GvxSql& gvx, RawStore& raw, std::string_view token,
                       bool expect_valid) {
    const std::int64_t usage0 = usage_of(db, token);
    // Refusals are counted in rows (sql/002): what each side records is one more in the sum.
    constexpr const char* kRecorded = "SELECT coalesce(sum(count), 0) FROM gvx_activity";
    const std::int64_t rows0 = query_int(db, kRecorded);
    const auto by_gvx = gvx.verify(token, kIp, kUserAgent);
    const std::string activity_gvx = row_text(db, kLastActivity);
    const std::int64_t usage1 = usage_of(db, token);
    const auto by_raw = raw.verify(token, kIp, kUserAgent, now_ms());
    const std::string activity_raw = row_text(db, kLastActivity);
    const std::int64_t usage2 = usage_of(db, token);
    const std::int64_t rows2 = query_int(db, kRecorded);
    const std::int64_t step = expect_valid ? 1 : 0;
    if (by_gvx != by_raw || by_gvx.has_value() != expect_valid)
        die("same-work check", "gvx and the baseline disagree on a verification");
    if (usage1 - usage0 != step || usage2 - usage1 != step)
        die("same-work check", "the usage counters changed differently");
    if (rows2 - rows0 != 2 || activity_gvx != activity_raw)
        die("same-work check", "the activity rows differ: " + activity_gvx + " vs " + activity_raw);
}

void check_least_verify(sqlite3* db, GvxSql& gvx, LeastStore& least, std::string_view token) {
    constexpr const char* kRows = "SELECT count(*) FROM bench_least_activity";
    const std::int64_t usage0 = usage_of(db, token);
    const std::int64_t rows0 = query_int(db, kRows);
    const auto by_gvx = gvx.verify(token, kIp, kUserAgent);
    const auto by_least = least.verify(token, kIp, kUserAgent, now_ms());
    if (!by_gvx || by_gvx != by_least)
        die("least-work check", "gvx and the least-work baseline disagree on a hit");
    if (usage_of(db, token) - usage0 != 2 || query_int(db, kRows) - rows0 != 1)
        die("least-work check", "the least-work baseline did not count the use and log it");
}

void check_same_create(sqlite3* db, GvxSql& gvx, RawStore& raw) {
    constexpr const char* kNewest =
        "SELECT name, prefix, user_id, enabled, rate_limit_enabled, rate_limit_time_window, "
        "rate_limit_max, request_count, remaining, expires_at, metadata, length(id), "
        "length(key), length(start), created_at = updated_at FROM apikey ORDER BY rowid DESC "
        "LIMIT 1";
    constexpr const char* kNewestAudit =
        "SELECT action, key_name, owner, actor, via, ip, user_agent, detail, "
        "key_id = (SELECT id FROM apikey ORDER BY rowid DESC LIMIT 1) FROM gvx_audit "
        "ORDER BY id DESC LIMIT 1";
    constexpr const char* kAuditEntries = "SELECT count(*) FROM gvx_audit";
    const std::int64_t entries0 = query_int(db, kAuditEntries);
    gvx.create("check-user", "same work check");
    const std::string by_gvx = row_text(db, kNewest);
    const std::string audit_gvx = row_text(db, kNewestAudit);
    raw.create("check-user", "same work check", now_ms());
    const std::string by_raw = row_text(db, kNewest);
    const std::string audit_raw = row_text(db, kNewestAudit);
    if (by_gvx != by_raw) die("same-work check", "created rows differ: " + by_gvx + " vs " + by_raw);
    if (query_int(db, kAuditEntries) - entries0 != 2 || audit_gvx != audit_raw)
        die("same-work check", "the audit entries differ: " + audit_gvx + " vs " + audit_raw);
}

}  // namespace bench
