#include "backend.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>

#include "cleanup.hpp"
#include "pg/pg_store.hpp"
#include "store.hpp"

namespace gvx::fcgi {
namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// libpq's own parser: what it refuses, a connection could never use.
Status check_conninfo(const std::string& db) {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(db.c_str(), &error);
    if (parsed) {
        PQconninfoFree(parsed);
        return Ok{};
    }
    std::string why = error ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return invalid("--db: not a valid PostgreSQL connection string: " + why);
}

void print_report(const Options& o, const PurgeReport& r, std::int64_t ms) {
    if (o.dry_run)
        std::printf("gvx-cleanup: %s: would remove %lld expired tokens and %lld activity rows "
                    "(dry run)\n",
                    describe_db(o.db_path).c_str(), static_cast<long long>(r.tokens),
                    static_cast<long long>(r.activity));
    else
        std::printf("gvx-cleanup: %s: removed %lld expired tokens and %lld activity rows in "
                    "%lld ms\n",
                    describe_db(o.db_path).c_str(), static_cast<long long>(r.tokens),
                    static_cast<long long>(r.activity), static_cast<long long>(ms));
    // As gvx-cleanup says it for SQLite: a line of its own, only when there is something.
    if (r.audit > 0)
        std::printf("gvx-cleanup: %s: %s %lld audit entries past audit_retention_ms\n",
                    describe_db(o.db_path).c_str(), o.dry_run ? "would remove" : "removed",
                    static_cast<long long>(r.audit));
}

}  // namespace

std::string describe_db(const std::string& db) {
    return pg::is_conninfo(db) ? std::string("PostgreSQL") : db;
}

Result<std::unique_ptr<TokenStore>> open_backend(const std::string& db) {
    if (!pg::is_conninfo(db)) {
        auto store = Store::open(db);
        if (!store) return std::move(store).error();
        return std::unique_ptr<TokenStore>(std::move(*store));
    }
    GVX_TRY(check_conninfo(db));
    auto store = std::make_unique<pg::PgStore>(db);
    if (auto st = store->prepare(); !st) {
        if (st.error().code != Errc::busy) return std::move(st).error();
        std::fprintf(stderr, "gvx-fcgi: warning: %s; answering 503 until it can be reached\n",
                     st.error().message.c_str());
    }
    return std::unique_ptr<TokenStore>(std::move(store));
}

int run_purge(const Options& o) {
    const std::int64_t now = now_ms();
    const auto started = std::chrono::steady_clock::now();
    Result<PurgeReport> r = PurgeReport{};
    if (pg::is_conninfo(o.db_path)) {
        if (auto st = check_conninfo(o.db_path); !st) {
            std::fprintf(stderr, "gvx-cleanup: %s\n", st.error().message.c_str());
            return 2;
        }
        pg::PgStore store(o.db_path);
        r = o.dry_run ? store.purge_preview(now) : pg::purge_paced(store, now, o.pace);
    } else {
        auto store = Store::open(o.db_path);
        if (!store) r = std::move(store).error();
        else r = o.dry_run ? (*store)->purge_preview(now) : purge_paced(**store, now, o.pace);
    }
    if (!r) {
        std::fprintf(stderr, "gvx-cleanup: %s: %s\n", describe_db(o.db_path).c_str(),
                     r.error().message.c_str());
        return 1;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    print_report(o, *r, ms);
    return 0;
}

const char* sqlite_version() { return gvx::sqlite_version(); }

}  // namespace gvx::fcgi
