// Schema migrations for PostgreSQL (sql/postgres/NNN_*.sql), applied on connect.
#include <iterator>
#include <string>

#include "pg/pg_store.hpp"

namespace gvx::pg {
namespace {

struct Migration {
    int version;
    const char* sql;
};
// Generated from sql/postgres/NNN_*.sql by cmake/embed_sql.cmake.
constexpr Migration kMigrations[] = {
#include "pg_migrations.inc"
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

// The advisory lock every gvx process takes to migrate: "gvx" in ASCII, a fixed number so
// that all of them, on every machine, contend for the same lock.
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(7894648)";
constexpr const char* kVersion = "SELECT value FROM gvx_meta WHERE name = 'schema_version'";

Result<int> schema_version(Connection& c) {
    auto rows = c.exec(kVersion);
    if (!rows) return std::move(rows).error();
    return rows->empty() ? 0 : static_cast<int>(rows->int64(0, 0));
}

Status too_new(int version) {
    return Error{Errc::db, "database schema is newer than this gvx (version " +
                               std::to_string(version) + "); upgrade gvx"};
}

}  // namespace

Status migrate(Connection& c) {
    // Already current: no lock, no writes (a role without CREATE rights works from here on).
    if (auto v = schema_version(c); v && *v >= kSchemaVersion) {
        if (*v > kSchemaVersion) return too_new(*v);
        return Ok{};
    } else if (!v && c.lost()) {
        return std::move(v).error();
    }

    auto step = [&](const char* sql) -> Status {
        if (auto r = c.exec(sql); !r) return std::move(r).error();
        return Ok{};
    };
    auto apply = [&]() -> Status {
        if (auto st = step(kLock); !st) return st;
        if (auto st = step("CREATE TABLE IF NOT EXISTS gvx_meta (name text PRIMARY KEY NOT "
                           "NULL, value text)");
            !st)
            return st;
        auto v = schema_version(c);  // again, under the lock
        if (!v) return std::move(v).error();
        if (*v > kSchemaVersion) return too_new(*v);
        for (const Migration& m : kMigrations) {
            if (m.version <= *v) continue;
            if (auto st = step(m.sql); !st) return st;
        }
        const std::string set =
            "INSERT INTO gvx_meta (name, value) VALUES ('schema_version', '" +
            std::to_string(kSchemaVersion) +
            "') ON CONFLICT (name) DO UPDATE SET value = excluded.value";
        return step(set.c_str());
    };
    if (auto st = step("BEGIN"); !st) return st;
    if (auto st = apply(); !st) {
        if (!c.lost()) (void)c.exec("ROLLBACK");
        return st;
    }
    return step("COMMIT");
}

}  // namespace gvx::pg
