// Schema migrations: sql/NNN_*.sql, compiled in, applied forward only.
#include <string>

#include "store.hpp"
#include "store/sql.hpp"
#include "store/write.hpp"

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

Result<int> current_version(sqlite3* db) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, sql::kSchemaVersion, -1, &raw, nullptr);
    StmtPtr stmt{raw};
    if (rc != SQLITE_OK) return 0;  // no gvx_meta yet: a database gvx has never touched
    rc = sqlite3_step(raw);
    if (rc == SQLITE_ROW) return sqlite3_column_int(raw, 0);
    if (rc == SQLITE_DONE) return 0;
    return db_error(db, rc);
}

}  // namespace

// Applies every migration newer than the database's gvx_meta.schema_version, in one write
// transaction, so concurrent first uses by several processes apply each exactly once.
Status Store::migrate() {
    GVX_TRY_VALUE(const int before, current_version(db_));
    if (before > kSchemaVersion)
        return Error{Errc::db, "database schema is newer than this gvx (version " +
                                   std::to_string(before) + "); upgrade gvx"};
    if (before == kSchemaVersion) return Ok{};

    return write_here<Ok>([&]() -> Status {
        GVX_TRY_VALUE(const int v, current_version(db_));  // again, under the write lock
        GVX_TRY(exec(sql::kCreateMeta));
        for (const Migration& m : kMigrations) {
            if (m.version <= v) continue;
            GVX_TRY(exec(m.sql));
        }
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v2(db_, sql::kSetSchemaVersion, -1, &raw, nullptr);
        StmtPtr stmt{raw};
        if (rc != SQLITE_OK) return db_error(db_, rc);
        Query q(raw);
        q.bind(1, std::int64_t{kSchemaVersion});
        return step_done(q);
    });
}

}  // namespace gvx
