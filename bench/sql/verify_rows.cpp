// Rows: gvx_verify hit and miss at two population sizes, their growth, and gvx_create.
// All twelve contestants run interleaved in one measurement, so the growth ratio and every
// gvx/baseline ratio compare blocks that ran side by side.
//
// Every block starts from the same state: an empty WAL and an empty page cache (the file stays
// in the OS cache). Between blocks, untimed, the WAL is checkpointed and the cache dropped.
// Inside timed blocks a checkpoint fell on whichever block crossed the 1,000-frame mark (6 or 7
// per block of 2,000 hits, partly copying the previous block's pages), and its fsync on a
// shared disk is slow and uneven. What a checkpoint copies is the pages written; the "pages"
// row reports them: gvx and its baselines write the same number per verification.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
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
// Short blocks, many repetitions: a burst of another tenant's work spoils few blocks, and the
// median of the per-repetition ratios holds. A block of hits writes ~850 WAL frames.
constexpr std::size_t kBlockOps = 250;

// Copies every frame of the WAL into the database and lets the next writer start the WAL
// from its beginning.
void checkpoint(sqlite3* db) {
    int frames = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_RESTART, &frames, &copied);
    if (rc != SQLITE_OK || frames != copied) die("wal checkpoint", sqlite3_errmsg(db));
}

// Pages a contestant's blocks moved between the page cache and the file (and WAL).
struct Pages {
    long long read = 0, written = 0, blocks = 0;
};

// Pages read into the cache and written by the connection since the last call.
Pages take_page_counts(sqlite3* db) {
    int read = 0, written = 0, high = 0;
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_MISS, &read, &high, 1);
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_WRITE, &written, &high, 1);
    return {.read = read, .written = written};
}

// One population: its database opened once, used by both gvx and the baseline (one
// connection, so both see the same page cache).
struct Population {
    long long tokens = 0;
    Db db;
    std::unique_ptr<GvxSql> gvx;
    std::unique_ptr<RawStore> raw;
    std::unique_ptr<LeastStore> least;
    std::vector<std::string> hits, misses;
    std::map<std::string, Pages> pages;  // by contestant
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
    sqlite3_wal_autocheckpoint(p->db.get(), 0);  // checkpoints come between blocks only
    checkpoint(p->db.get());
    sqlite3_db_release_memory(p->db.get());
    take_page_counts(p->db.get());
    return p;
}

// A contestant on p's connection. After each of its blocks, untimed: its pages counted, the WAL
// checkpointed, the page cache emptied.
Contestant on(Population& p, std::string name, std::function<void(std::size_t)> run_once) {
    auto after = [&p, name] {
        sqlite3* db = p.db.get();
        const Pages block = take_page_counts(db);
        Pages& total = p.pages[name];
        total.read += block.read;
        total.written += block.written;
        ++total.blocks;
        checkpoint(db);
        sqlite3_db_release_memory(db);
        take_page_counts(db);  // whatever the checkpoint counted is nobody's
    };
    return {std::move(name), std::move(run_once), std::move(after)};
}

void add_verify_contestants(std::vector<Contestant>& out, Population& p, const std::string& size) {
    auto expect = [](bool valid, bool want) {
        if (valid != want) die("verify", "a probe gave the wrong answer");
    };
    out.push_back(on(p, "gvx hit " + size, [&p, expect](std::size_t op) {
        expect(p.gvx->verify(p.hits[op % kProbes], kIp, kUserAgent).has_value(), true);
    }));
    out.push_back(on(p, "raw hit " + size, [&p, expect](std::size_t op) {
        expect(p.raw->verify(p.hits[op % kProbes], kIp, kUserAgent, now_ms()).has_value(), true);
    }));
    out.push_back(on(p, "least hit " + size, [&p, expect](std::size_t op) {
        expect(p.least->verify(p.hits[op % kProbes], kIp, kUserAgent, now_ms()).has_value(), true);
    }));
    out.push_back(on(p, "gvx miss " + size, [&p, expect](std::size_t op) {
        expect(p.gvx->verify(p.misses[op % kProbes], kIp, kUserAgent).has_value(), false);
    }));
    out.push_back(on(p, "raw miss " + size, [&p, expect](std::size_t op) {
        expect(p.raw->verify(p.misses[op % kProbes], kIp, kUserAgent, now_ms()).has_value(), false);
    }));
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

// Pages per operation, read / written, of a contestant's blocks (warm-up included).
std::string page_text(const Pages& p) {
    const double ops = static_cast<double>(p.blocks) * static_cast<double>(kBlockOps);
    char text[64];
    std::snprintf(text, sizeof text, "%.2f / %.2f", static_cast<double>(p.read) / ops,
                  static_cast<double>(p.written) / ops);
    return text;
}

// The pages gvx and a baseline read and wrote per verification: what the checkpoints left out
// of the timed blocks would copy, and the page cache misses behind the times.
Row compare_pages(Population& p, const std::string& what, const std::string& gvx,
                  const std::string& base) {
    const Pages& g = p.pages.at(gvx);
    const Pages& b = p.pages.at(base);
    const double ratio = b.written > 0 ? static_cast<double>(g.written) / static_cast<double>(b.written) : 0;
    return Row{.what = what, .gvx = page_text(g), .baseline = page_text(b),
               .ratio = format_ratio(ratio), .target = "report", .checked = ratio};
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
    contestants.push_back(on(c, "gvx create", [&c, creator](std::size_t op) {
        c.gvx->create(creator(op), "bench create");
    }));
    contestants.push_back(on(c, "raw create", [&c, creator](std::size_t op) {
        c.raw->create("raw-" + creator(op), "bench create", now_ms());
    }));
    // As many operations in all as --reps blocks of --ops would be, in blocks of kBlockOps.
    const int reps = static_cast<int>(std::max<std::size_t>(
        static_cast<std::size_t>(o.reps), static_cast<std::size_t>(o.reps) * o.ops / kBlockOps));
    print_meta("verify_blocks", std::to_string(reps) + " repetitions of " +
                                    std::to_string(kBlockOps) + " operations per block");
    const Interleaved m(std::move(contestants), reps, kBlockOps);

    print_row(compare(m, "gvx_verify hit, " + s + " tokens", "gvx hit " + s, "raw hit " + s, "<= 1.25"));
    print_row(compare(m, "gvx_verify hit, " + l + " tokens", "gvx hit " + l, "raw hit " + l, "<= 1.25"));
    print_row(compare(m, "gvx_verify hit vs the least work, " + s + " tokens", "gvx hit " + s,
                      "least hit " + s, "<= 1.25"));
    print_row(compare(m, "gvx_verify hit vs the least work, " + l + " tokens", "gvx hit " + l,
                      "least hit " + l, "<= 1.25"));
    print_row(compare(m, "gvx_verify miss, " + s + " tokens", "gvx miss " + s, "raw miss " + s, "<= 1.25"));
    print_row(compare(m, "gvx_verify miss, " + l + " tokens", "gvx miss " + l, "raw miss " + l, "<= 1.25"));
    print_row(compare(m, "gvx_create", "gvx create", "raw create", "<= 1.25"));
    print_row(compare_pages(*large, "pages read / written per verify hit vs the least work, " + l +
                                        " tokens",
                            "gvx hit " + l, "least hit " + l));

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
