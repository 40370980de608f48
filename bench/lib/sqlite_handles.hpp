// RAII for the benchmark's own SQLite handles, and the few calls every bench program repeats.
// Failures end the program: a benchmark that silently measured an error would print a lie.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace bench {

struct DbClose {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbClose>;

struct StmtFinalize {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

// Prints "bench: <what>: <detail>" to stderr and exits 1.
[[noreturn]] void die(std::string_view what, std::string_view detail);

Db open_db(const std::string& path);
Stmt prepare(sqlite3* db, std::string_view sql);
void exec(sqlite3* db, const char* sql);
// The integer in the first column of the first row of sql (a count, a pragma).
std::int64_t query_int(sqlite3* db, const char* sql);

// The pragmas both gvx and the baselines are measured with: WAL, synchronous=NORMAL and the
// busy timeout gvx itself sets on connections that have none.
void set_bench_pragmas(sqlite3* db);

// Registers gvx's SQL functions on db by loading the real extension (gvx.so).
void load_gvx(sqlite3* db, const std::string& extension_path);

// Binds text that lives until the statement is reset (no copy, as a careful program would).
// An empty view may have no data pointer, which SQLite would bind as NULL: bind '' instead.
inline void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
    sqlite3_bind_text(s, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC);
}

// Steps a statement that must finish without rows, then resets it.
void step_done(sqlite3* db, sqlite3_stmt* s);

}  // namespace bench
