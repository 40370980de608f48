// gvx-bench-populate --out FILE --live N [--expired M] [--activity A]
//
// Writes a benchmark database: gvx's own schema (made by gvx::Store, so it is exactly what gvx
// creates), then N live and M long-expired tokens and A activity rows, inserted with raw SQL in
// one transaction. 1M gvx_create() calls would take minutes; this takes seconds. bench/run
// caches the result.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bench_tokens.hpp"
#include "core/token.hpp"
#include "sqlite_handles.hpp"
#include "store.hpp"

namespace {

struct Options {
    std::string out;
    std::int64_t live = 0;
    std::int64_t expired = 0;
    std::int64_t activity = 0;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--out") o.out = argv[i + 1];
        else if (flag == "--live") o.live = std::atoll(argv[i + 1]);
        else if (flag == "--expired") o.expired = std::atoll(argv[i + 1]);
        else if (flag == "--activity") o.activity = std::atoll(argv[i + 1]);
        else bench::die("unknown option", flag);
    }
    if (o.out.empty() || o.live < 0 || o.expired < 0 || o.activity < 0)
        bench::die("usage", "gvx-bench-populate --out FILE --live N [--expired M] [--activity A]");
    return o;
}

// The same INSERT as gvx's Store::create (ext/store/sql.cpp), with the values a created token has.
constexpr const char* kInsert =
    "INSERT INTO apikey (id, name, start, prefix, key, user_id, enabled, rate_limit_enabled, "
    "rate_limit_time_window, rate_limit_max, request_count, expires_at, created_at, updated_at, "
    "metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 1, NULL, NULL, 0, ?7, ?8, ?8, NULL)";

void insert_family(sqlite3* db, sqlite3_stmt* insert, bench::Family family, std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) {
        const auto n = static_cast<std::uint64_t>(i);
        const std::string token = bench::token_of(family, n);
        const std::string id = bench::id_of(family, n);
        const std::string user = bench::user_of(family, n);
        const std::string key = gvx::hash_key(token);
        const std::string name = "bench token " + std::to_string(i);
        const std::int64_t created = bench::kEpochMs + i;
        bench::bind_text(insert, 1, id);
        bench::bind_text(insert, 2, name);
        bench::bind_text(insert, 3, std::string_view(token).substr(0, gvx::kStartLength));
        bench::bind_text(insert, 4, gvx::kDefaultPrefix);
        bench::bind_text(insert, 5, key);
        bench::bind_text(insert, 6, user);
        if (family == bench::Family::expired) sqlite3_bind_int64(insert, 7, created + 60'000);
        else sqlite3_bind_null(insert, 7);
        sqlite3_bind_int64(insert, 8, created);
        bench::step_done(db, insert);
    }
}

// The same INSERT as gvx's verification (ext/store/sql.cpp).
constexpr const char* kInsertActivity =
    "INSERT INTO gvx_activity (at, key_id, key_start, outcome, ip, user_agent) "
    "VALUES (?1, ?2, ?3, 'OK', '203.0.113.7', 'git/2.39.5')";

// A log as a busy server keeps it: rows for live tokens, dated in the future (2100) so that
// retention never removes them however old the cached database gets; cleanup then finds the
// log as large as it is and removes none of it (activity goes by age only).
void insert_activity(sqlite3* db, std::int64_t count, std::int64_t live) {
    bench::Stmt insert = bench::prepare(db, kInsertActivity);
    constexpr std::int64_t kYear2100Ms = 4'102'444'800'000;
    for (std::int64_t i = 0; i < count; ++i) {
        const auto n = static_cast<std::uint64_t>(live > 0 ? i % live : i);
        const std::string id = bench::id_of(bench::Family::live, n);
        const std::string start = bench::token_of(bench::Family::live, n).substr(0, 6);
        sqlite3_bind_int64(insert.get(), 1, kYear2100Ms + i);
        bench::bind_text(insert.get(), 2, id);
        bench::bind_text(insert.get(), 3, start);
        bench::step_done(db, insert.get());
    }
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    std::remove(o.out.c_str());
    {
        auto store = gvx::Store::open(o.out);  // creates gvx's schema, in WAL mode
        if (!store) bench::die("gvx::Store::open", store.error().message);
    }
    bench::Db db = bench::open_db(o.out);
    // Bulk load without a WAL copy of every page; the file is switched back to WAL at the end.
    bench::exec(db.get(), "PRAGMA journal_mode=DELETE");
    bench::exec(db.get(), "PRAGMA synchronous=OFF");
    bench::exec(db.get(), "PRAGMA cache_size=-524288");  // 512 MiB: index pages stay in memory
    bench::exec(db.get(), "BEGIN");
    {
        bench::Stmt insert = bench::prepare(db.get(), kInsert);
        insert_family(db.get(), insert.get(), bench::Family::live, o.live);
        insert_family(db.get(), insert.get(), bench::Family::expired, o.expired);
    }
    insert_activity(db.get(), o.activity, o.live);
    bench::exec(db.get(), "COMMIT");
    bench::exec(db.get(), "PRAGMA journal_mode=WAL");
    std::printf("%s: %lld live, %lld expired tokens, %lld activity rows\n", o.out.c_str(),
                static_cast<long long>(o.live), static_cast<long long>(o.expired),
                static_cast<long long>(o.activity));
    return 0;
}
