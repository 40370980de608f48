// Rows: gvx_verify hit and miss at two population sizes, their growth, and gvx_create.
// All ten contestants run interleaved in one measurement, so the growth ratio and every
// gvx/baseline ratio compare blocks that ran side by side.
#include <random>
#include <vector>

#include "bench_db.hpp"
#include "bench_tokens.hpp"
#include "gvx_sql.hpp"
#include "interleave.hpp"
#include "least_store.hpp"
#include "raw_store.hpp"
#include "rows.hpp"
#include "same_work_check.hpp"
#include "sql_rows.hpp"

namespace bench {
namespace {

constexpr std::string_view kIp = "127.0.0.1";
constexpr std::string_view kUserAgent = "git/2.39.5";
constexpr std::size_t kProbes = 8192;

// One population: its database opened once, used by both gvx and the baseline (one
// connection, so both see the same page cache).
struct Population {
    long long tokens = 0;
    Db db;
    std::unique_ptr<GvxSql> gvx;
    std::unique_ptr<RawStore> raw;
    std::unique_ptr<LeastStore> least;
    std::vector<std::string> hits, misses;
};

std::unique_ptr<Population> open_population(const Options& o, const std::string& cached,
                                            const std::string& name) {
    auto p = std::make_unique<Population>();
    p->db = open_bench_db(fresh_copy(cached, o.scratch, name), o.extension);
    p->tokens = query_int(p->db.get(), "SELECT count(*) FROM apikey");
    p->gvx = std::make_unique<GvxSql>(p->db.get());
    p->raw = std::make_unique<RawStore>(p->db.get());
    p->least = std::make_unique<LeastStore>(p->db.get());
    std::mt19937_64 pick(42);  // the same probes in every run
    std::uniform_int_distribution<std::uint64_t> any(0, static_cast<std::uint64_t>(p->tokens - 1));
    for (std::size_t i = 0; i < kProbes; ++i) {
        p->hits.push_back(token_of(Family::live, any(pick)));
        p->misses.push_back(token_of(Family::unknown, i));
    }
    check_same_verify(p->db.get(), *p->gvx, *p->raw, p->hits.front(), true);
    check_same_verify(p->db.get(), *p->gvx, *p->raw, p->misses.front(), false);
    check_least_verify(p->db.get(), *p->gvx, *p->least, p->hits.front());
    return p;
}

void add_verify_contestants(std::vector<Contestant>& out, Population& p, const std::string& size) {
    auto expect = [](bool valid, bool want) {
        if (valid != want) die("verify", "a probe gave the wrong answer");
    };
    out.push_back({"gvx hit " + size, [&p, expect](std::size_t op) {
                       expect(p.gvx->verify(p.hits[op % kProbes], kIp, kUserAgent).has_value(), true);
                   }});
    out.push_back({"raw hit " + size, [&p, expect](std::size_t op) {
                       expect(p.raw->verify(p.hits[op % kProbes], kIp, kUserAgent, now_ms())
                                  .has_value(),
                              true);
                   }});
    out.push_back({"least hit " + size, [&p, expect](std::size_t op) {
                       expect(p.least->verify(p.hits[op % kProbes], kIp, kUserAgent, now_ms())
                                  .has_value(),
                              true);
                   }});
    out.push_back({"gvx miss " + size, [&p, expect](std::size_t op) {
                       expect(p.gvx->verify(p.misses[op % kProbes], kIp, kUserAgent).has_value(),
                              false);
                   }});
    out.push_back({"raw miss " + size, [&p, expect](std::size_t op) {
                       expect(p.raw->verify(p.misses[op % kProbes], kIp, kUserAgent, now_ms())
                                  .has_value(),
                              false);
                   }});
}

Row compare(const Interleaved& m, const std::string& what, const std::string& gvx,
            const std::string& raw, const std::string& target) {
    const double ratio = m.median_ratio(gvx, raw);
    return Row{.what = what,
               .gvx = format_micros(m.median_ns_per_op(gvx)),
               .baseline = format_micros(m.median_ns_per_op(raw)),
               .ratio = format_ratio(ratio),
               .target = target,
               .checked = ratio};
}

}  // namespace

void run_verify_rows(const Options& o) {
    auto small = open_population(o, o.small_db, "verify-small.db");
    auto large = open_population(o, o.large_db, "verify-large.db");
    check_same_create(small->db.get(), *small->gvx, *small->raw);
    const std::string s = format_count(small->tokens);
    const std::string l = format_count(large->tokens);

    std::vector<Contestant> contestants;
    add_verify_contestants(contestants, *small, s);
    add_verify_contestants(contestants, *large, l);
    Population& c = *small;
    // A new user every few hundred tokens: under gvx's cap on live tokens per user.
    auto creator = [](std::size_t op) { return "create-user-" + std::to_string(op / 500); };
    contestants.push_back({"gvx create", [&c, creator](std::size_t op) {
                               c.gvx->create(creator(op), "bench create");
                           }});
    contestants.push_back({"raw create", [&c, creator](std::size_t op) {
                               c.raw->create("raw-" + creator(op), "bench create", now_ms());
                           }});
    const Interleaved m(std::move(contestants), o.reps, o.ops);

    print_row(compare(m, "gvx_verify hit, " + s + " tokens", "gvx hit " + s, "raw hit " + s, "<= 1.25"));
    print_row(compare(m, "gvx_verify hit, " + l + " tokens", "gvx hit " + l, "raw hit " + l, "<= 1.25"));
    print_row(compare(m, "gvx_verify hit vs the least work, " + s + " tokens", "gvx hit " + s,
                      "least hit " + s, "<= 1.25"));
    print_row(compare(m, "gvx_verify hit vs the least work, " + l + " tokens", "gvx hit " + l,
                      "least hit " + l, "<= 1.25"));
    print_row(compare(m, "gvx_verify miss, " + s + " tokens", "gvx miss " + s, "raw miss " + s, "<= 1.25"));
    print_row(compare(m, "gvx_verify miss, " + l + " tokens", "gvx miss " + l, "raw miss " + l, "<= 1.25"));
    print_row(compare(m, "gvx_create", "gvx create", "raw create", "<= 1.25"));

    const double growth = m.median_ratio("gvx hit " + l, "gvx hit " + s);
    const double raw_growth = m.median_ratio("raw hit " + l, "raw hit " + s);
    print_row(Row{.what = "growth " + s + " -> " + l + " (verify hit ns/op)",
                  .gvx = format_ratio(growth),
                  .baseline = format_ratio(raw_growth),
                  .ratio = format_ratio(growth / raw_growth),
                  .target = "<= 1.5",
                  .checked = growth});
}

}  // namespace bench
