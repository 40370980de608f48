#include "sqlite_handles.hpp"

#include <cstdio>
#include <cstdlib>

namespace bench {

void die(std::string_view what, std::string_view detail) {
    std::fprintf(stderr, "bench: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(detail.size()), detail.data());
    std::exit(1);
}

Db open_db(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   nullptr);
    Db db{raw};  // owned before rc is looked at: open can fail and still return a handle
    if (rc != SQLITE_OK) die("cannot open " + path, sqlite3_errstr(rc));
    return db;
}

Stmt prepare(sqlite3* db, std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    Stmt stmt{raw};
    if (rc != SQLITE_OK) die(std::string("cannot prepare ").append(sql), sqlite3_errmsg(db));
    return stmt;
}

void exec(sqlite3* db, const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string detail = message ? message : "unknown error";
        sqlite3_free(message);
        die(sql, detail);
    }
}

std::int64_t query_int(sqlite3* db, const char* sql) {
    Stmt s = prepare(db, sql);
    if (sqlite3_step(s.get()) != SQLITE_ROW) die(sql, sqlite3_errmsg(db));
    return sqlite3_column_int64(s.get(), 0);
}

void set_bench_pragmas(sqlite3* db) {
    sqlite3_busy_timeout(db, 5000);  // first: processes starting together share the file
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=NORMAL");
}

void load_gvx(sqlite3* db, const std::string& extension_path) {
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, nullptr) != SQLITE_OK)
        die("cannot enable extension loading", sqlite3_errmsg(db));
    char* message = nullptr;
    if (sqlite3_load_extension(db, extension_path.c_str(), nullptr, &message) != SQLITE_OK) {
        const std::string detail = message ? message : "unknown error";
        sqlite3_free(message);
        die("cannot load " + extension_path, detail);
    }
}

void step_done(sqlite3* db, sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) die(sqlite3_sql(s), sqlite3_errmsg(db));
}

}  // namespace bench
