// gvx-bench-pg --uri URI --tokens N [--reps R] [--ops K]
//
// The PostgreSQL verification rows of `make bench`: gvx's PostgreSQL store (PgStore::verify)
// against RawPg (bench/pg/raw_pg.hpp), interleaved on one server, hits and misses. Fills an
// empty database with the benchmark's live tokens first (the same ones gvx-bench-tokens prints
// for the authorizer rows). Prints "meta" and "row" lines for bench/table.py.
#include <libpq-fe.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench_tokens.hpp"
#include "core/token.hpp"
#include "interleave.hpp"
#include "pg/pg_store.hpp"
#include "raw_pg.hpp"
#include "rows.hpp"

namespace {

constexpr std::string_view kIp = "127.0.0.1";
constexpr std::string_view kUserAgent = "git/2.39.5";
constexpr std::size_t kProbes = 8192;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "gvx-bench-pg: %s\n", what.c_str());
    std::exit(1);
}

void exec(PGconn* c, const char* sql) {
    PGresult* r = PQexec(c, sql);
    const auto st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_COPY_IN)
        die(std::string(sql) + ": " + PQerrorMessage(c));
}

long long count_tokens(PGconn* c) {
    PGresult* r = PQexec(c, "SELECT count(*) FROM apikey");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) die(PQerrorMessage(c));
    const long long n = std::atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

// The live tokens 0..n-1 of the benchmark population, as gvx creates them, by COPY.
void populate(const std::string& uri, long long n) {
    PGconn* c = PQconnectdb(uri.c_str());
    if (PQstatus(c) != CONNECTION_OK) die(PQerrorMessage(c));
    if (count_tokens(c) == 0) {
        exec(c, "COPY apikey (id, name, start, prefix, key, user_id, enabled, "
                "rate_limit_enabled, request_count, created_at, updated_at) FROM STDIN");
        std::string buf;
        for (long long i = 0; i < n; ++i) {
            const auto u = static_cast<std::uint64_t>(i);
            const std::string token = bench::token_of(bench::Family::live, u);
            const long long at = bench::kEpochMs + i;
            buf += bench::id_of(bench::Family::live, u) + "\tbench token\t" + token.substr(0, 6) +
                   "\tgvx_\t" + gvx::hash_key(token) + "\t" +
                   bench::user_of(bench::Family::live, u) + "\t1\t1\t0\t" + std::to_string(at) +
                   "\t" + std::to_string(at) + "\n";
            if (buf.size() > (1 << 20) || i + 1 == n) {
                if (PQputCopyData(c, buf.data(), static_cast<int>(buf.size())) != 1)
                    die(PQerrorMessage(c));
                buf.clear();
            }
        }
        if (PQputCopyEnd(c, nullptr) != 1) die(PQerrorMessage(c));
        PGresult* r = PQgetResult(c);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) die(PQerrorMessage(c));
        PQclear(r);
        exec(c, "ANALYZE apikey");
    }
    if (count_tokens(c) != n) die("the database holds another population; use a fresh one");
    PQfinish(c);
}

}  // namespace

int main(int argc, char** argv) {
    std::string uri;
    long long tokens = 100'000;
    int reps = 9;
    std::size_t ops = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--uri") uri = argv[i + 1];
        else if (flag == "--tokens") tokens = std::atoll(argv[i + 1]);
        else if (flag == "--reps") reps = std::atoi(argv[i + 1]);
        else if (flag == "--ops") ops = static_cast<std::size_t>(std::atoll(argv[i + 1]));
    }
    if (uri.empty() || tokens <= 0) die("usage: gvx-bench-pg --uri URI --tokens N");
    if (sodium_init() < 0) die("libsodium failed to start");

    gvx::pg::PgStore gvx_store(uri);
    if (auto st = gvx_store.prepare(); !st) die(st.error().message);  // migrates
    populate(uri, tokens);
    bench::RawPg raw(uri);
    bench::print_meta("postgresql", PQserverVersion(raw.conn()) >= 150000 ? "15" : "older");

    std::mt19937_64 pick(42);
    std::uniform_int_distribution<std::uint64_t> any(0, static_cast<std::uint64_t>(tokens - 1));
    std::vector<std::string> hits, misses;
    for (std::size_t i = 0; i < kProbes; ++i) {
        hits.push_back(bench::token_of(bench::Family::live, any(pick)));
        misses.push_back(bench::token_of(bench::Family::unknown, i));
    }
    auto gvx_verify = [&](const std::string& t, bool want) {
        auto v = gvx_store.verify(t, gvx::ClientInfo{.ip = kIp, .user_agent = kUserAgent},
                                  bench::wall_ms());
        if (!v) die("gvx verify: " + v.error().message);
        if ((v->outcome == gvx::Outcome::ok) != want) die("gvx verify: wrong answer");
    };
    auto raw_verify = [&](const std::string& t, bool want) {
        if (raw.verify(t, kIp, kUserAgent, bench::wall_ms()).has_value() != want)
            die("raw verify: wrong answer");
    };
    bench::Interleaved m(
        {{"gvx hit", [&](std::size_t op) { gvx_verify(hits[op % kProbes], true); }},
         {"raw hit", [&](std::size_t op) { raw_verify(hits[op % kProbes], true); }},
         {"gvx miss", [&](std::size_t op) { gvx_verify(misses[op % kProbes], false); }},
         {"raw miss", [&](std::size_t op) { raw_verify(misses[op % kProbes], false); }}},
        reps, ops);
    const std::string size = bench::format_count(tokens);
    for (const auto& [what, gvx, base] :
         {std::tuple<std::string, std::string, std::string>{
              "PostgreSQL: verify hit, " + size + " tokens (usage + activity, synchronous commit)",
              "gvx hit", "raw hit"},
          {"PostgreSQL: verify miss (unknown token)", "gvx miss", "raw miss"}}) {
        const double ratio = m.median_ratio(gvx, base);
        bench::print_row(bench::Row{.what = what,
                                    .gvx = bench::format_micros(m.median_ns_per_op(gvx)),
                                    .baseline = bench::format_micros(m.median_ns_per_op(base)),
                                    .ratio = bench::format_ratio(ratio),
                                    .target = "<= 1.25",
                                    .checked = ratio});
    }
    return 0;
}
