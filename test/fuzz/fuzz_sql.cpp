// Fuzz target: the SQL functions of gvx.so (ext/functions.cpp) with hostile arguments of every
// SQLite type, as a shell user or a program could pass them, over a database with known
// tokens and a hostile gvx_config (an admin can store any number there).
//
// Input lines: the function name; the gvx_config values ("-" keeps the default) for
// rate_limit_enabled rate_limit_time_window rate_limit_max activity_retention_ms
// activity_max_rows max_token_lifetime_ms; then one argument per line, its first character
// giving the type: N null, I integer, R real, T text, B blob (the rest is the value).
//
// Invariants: no crash or sanitizer report; the statement ends in a row or a clean SQL error;
// no error message and no verification result contains a known token; text results are
// valid UTF-8.
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/token.hpp"
#include "fuzz_common.hpp"

extern "C" int sqlite3_gvx_init(sqlite3*, char**, const sqlite3_api_routines*);

namespace {

constexpr const char* kTokens[] = {
    "gvx_AliceOk000000000000000000000000000000000000000000000000000000000",
    "gvx_AliceExpired0000000000000000000000000000000000000000000000000000",
    "gvx_AliceRefill00000000000000000000000000000000000000000000000000000",
};
constexpr const char* kConfigNames[] = {"rate_limit_enabled",    "rate_limit_time_window",
                                        "rate_limit_max",        "activity_retention_ms",
                                        "activity_max_rows",     "max_token_lifetime_ms"};
constexpr std::string_view kFunctions[] = {
    "gvx_create", "gvx_verify", "gvx_check",        "gvx_revoke",   "gvx_purge_expired",
    "gvx_cleanup", "gvx_list",  "gvx_check_format", "gvx_key_hash", "gvx_version"};

sqlite3* db = nullptr;
std::string dir;
std::string reset_sql;

void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::fprintf(stderr, "fuzz_sql setup: %s\n", err ? err : "?");
        std::abort();
    }
}

void cleanup() {
    sqlite3_close_v2(db);
    db = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (sodium_init() < 0) std::abort();
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/gvx-fuzz-sql-XXXXXX";
    if (!mkdtemp(tmpl.data())) std::abort();
    dir = tmpl;
    if (sqlite3_auto_extension(reinterpret_cast<void (*)()>(sqlite3_gvx_init)) != SQLITE_OK ||
        sqlite3_open((dir + "/fuzz.db").c_str(), &db) != SQLITE_OK)
        std::abort();
    std::atexit(cleanup);
    exec("PRAGMA synchronous = OFF; SELECT gvx_list('nobody')");  // creates the schema
    reset_sql = "DELETE FROM apikey; DELETE FROM gvx_activity; DELETE FROM gvx_rate_window; "
                "DELETE FROM gvx_config;"
                "INSERT INTO apikey (id, name, start, prefix, key, user_id, created_at, "
                "updated_at, enabled, expires_at, metadata, rate_limit_max, "
                "rate_limit_time_window, remaining, refill_interval, refill_amount, "
                "last_refill_at) VALUES "
                "('AliceOk', 'ok', 'gvx_Al', 'gvx_', '" + gvx::hash_key(kTokens[0]) +
                "', 'alice', 1, 1, 1, NULL, '\"{\\\"a\\\":1}\"', 0, NULL, NULL, NULL, NULL, "
                "NULL), "
                "('AliceExpired', 'old', 'gvx_Al', 'gvx_', '" + gvx::hash_key(kTokens[1]) +
                "', 'alice', 1, 1, 1, 1700000000000, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
                // a hostile row, as an admin's UPDATE could leave it
                "('AliceRefill', 'refill', 'gvx_Al', 'gvx_', '" + gvx::hash_key(kTokens[2]) +
                "', 'alice', -9223372036854775807, 1, 1, NULL, '[1]', NULL, "
                "9223372036854775807, 0, 1000, 5, -9223372036854775807);";
    exec(reset_sql);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    gvx::fuzz::Fields f(data, size);
    const std::string_view fn_field = f.next();
    std::string_view fn = kFunctions[fn_field.empty() ? 0 : static_cast<unsigned char>(
                                                                 fn_field[0]) % std::size(kFunctions)];
    for (std::string_view known : kFunctions) {
        if (fn_field == known) fn = known;
    }
    const int changes_before = sqlite3_total_changes(db);

    // Hostile configuration: any integer an admin could store.
    std::string config;
    {
        std::string_view values = f.next();
        for (const char* name : kConfigNames) {
            const std::size_t sp = values.find(' ');
            const std::string v(values.substr(0, sp));
            values = sp == std::string_view::npos ? std::string_view() : values.substr(sp + 1);
            if (v.empty() || v == "-") continue;
            char* end = nullptr;
            const long long n = std::strtoll(v.c_str(), &end, 10);
            config += "INSERT INTO gvx_config (name, value) VALUES ('" + std::string(name) +
                      "', " + std::to_string(n) + ");";
        }
    }
    if (!config.empty()) exec(config);

    std::vector<std::string> args;
    while (!f.rest().empty() && args.size() < 6) args.emplace_back(f.next());
    std::string sql = "SELECT " + std::string(fn) + "(";
    for (std::size_t i = 0; i < args.size(); ++i) sql += (i ? ", ?" : "?") + std::to_string(i + 1);
    sql += ")";

    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const int k = static_cast<int>(i + 1);
            const std::string& a = args[i];
            const std::string v = a.empty() ? std::string() : a.substr(1);
            switch (a.empty() ? 'N' : a[0]) {
                case 'I': sqlite3_bind_int64(stmt, k, std::strtoll(v.c_str(), nullptr, 10)); break;
                case 'R': sqlite3_bind_double(stmt, k, std::strtod(v.c_str(), nullptr)); break;
                case 'T':
                    sqlite3_bind_text(stmt, k, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
                    break;
                case 'B':
                    sqlite3_bind_blob(stmt, k, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
                    break;
                default: sqlite3_bind_null(stmt, k);
            }
        }
        const int rc = sqlite3_step(stmt);
        const int primary = rc & 0xFF;
        GVX_FUZZ_CHECK(rc == SQLITE_ROW || primary == SQLITE_ERROR || primary == SQLITE_TOOBIG ||
                       primary == SQLITE_RANGE);
        if (rc == SQLITE_ROW) {
            if (sqlite3_column_type(stmt, 0) == SQLITE_TEXT) {
                const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
                const std::string_view text(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
                GVX_FUZZ_CHECK(gvx::is_valid_utf8(text));
                if (fn == "gvx_verify" || fn == "gvx_check") {  // they echo nothing given
                    for (const char* t : kTokens) GVX_FUZZ_CHECK(!gvx::fuzz::contains(text, t));
                }
            }
        } else {
            const std::string_view msg = sqlite3_errmsg(db);
            for (const char* t : kTokens) GVX_FUZZ_CHECK(!gvx::fuzz::contains(msg, t));
        }
    }
    sqlite3_finalize(stmt);
    if (sqlite3_total_changes(db) != changes_before) exec(reset_sql);
    return 0;
}
