// Rows: the cron cleanup of many expired tokens while verifications keep arriving at a steady
// pace. gvx: scripts/gvx-cleanup itself, in its own process (or, without --cleanup, SELECT
// gvx_purge_expired() on a connection of ours), while a thread verifies as gvx-fcgi does
// (gvx::Store::open, Store::verify). The baseline loops over the same batch statements, 500
// rows at a time without pauses, while verifying with the same statements on a plain
// connection. Reported: the purge's wall time, and the verification p99 while it runs against
// the p99 of the same pace without it.
#include <atomic>
#include <thread>
#include <vector>

#include "bench_db.hpp"
#include "bench_tokens.hpp"
#include "cleanup_command.hpp"
#include "clock.hpp"
#include "gvx_sql.hpp"
#include "raw_store.hpp"
#include "rows.hpp"
#include "sql_rows.hpp"
#include "stats.hpp"
#include "store.hpp"

namespace bench {
namespace {

constexpr std::string_view kIp = "127.0.0.1";
constexpr std::string_view kUserAgent = "git/2.39.5";
constexpr std::int64_t kPurgeBatch = 500;             // what gvx_purge_expired uses
constexpr std::int64_t kVerifyIntervalNs = 500'000;   // 2,000 verifications per second
constexpr std::size_t kMaxSamplesDuringPurge = 400'000;  // bounds the loop if a purge hangs

struct PurgeRun {
    double purge_ns = 0;
    std::int64_t purged = 0;
    std::int64_t expected = 0;
    std::int64_t activity_rows = 0;
    std::vector<double> quiet_ns, during_ns;
};

// Calls verify_once at a steady pace until stop() says so; returns each call's latency.
template <class Verify, class Stop>
std::vector<double> paced_latencies(Verify&& verify_once, Stop&& stop) {
    std::vector<double> out;
    std::int64_t next = now_ns();
    while (!stop(out.size())) {
        const std::int64_t wait = next - now_ns();
        if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
        const std::int64_t start = now_ns();
        verify_once(out.size());
        const std::int64_t end = now_ns();
        out.push_back(static_cast<double>(end - start));
        next = std::max(next + kVerifyIntervalNs, end);  // no backlog after a slow call
    }
    return out;
}

PurgeRun run_cleanup(const Options& o, bool use_gvx, std::size_t quiet_ops) {
    const std::string path =
        fresh_copy(o.expired_db, o.scratch, use_gvx ? "purge-gvx.db" : "purge-raw.db");
    PurgeRun run;
    std::int64_t live = 0;
    {
        Db db = open_bench_db(path, "");
        live = query_int(db.get(), "SELECT count(*) FROM apikey WHERE expires_at IS NULL");
        run.expected = query_int(db.get(), "SELECT count(*) FROM apikey WHERE expires_at IS NOT NULL");
        run.activity_rows = query_int(db.get(), "SELECT count(*) FROM gvx_activity");
    }
    if (live == 0) die("cleanup", "the database has no live tokens to verify");

    // gvx verifies on a connection of its own, opened and tuned by gvx as in gvx-fcgi.
    std::unique_ptr<gvx::Store> gvx_store;
    Db raw_db;
    std::unique_ptr<RawStore> raw;
    if (use_gvx) {
        auto opened = gvx::Store::open(path);
        if (!opened) die("gvx::Store::open", opened.error().message);
        gvx_store = std::move(*opened);
    } else {
        raw_db = open_bench_db(path, "");
        raw = std::make_unique<RawStore>(raw_db.get());
    }
    auto verify_once = [&](std::size_t op) {
        const std::string token = token_of(Family::live, op % static_cast<std::size_t>(live));
        bool ok = false;
        if (use_gvx) {
            auto v = gvx_store->verify(token, gvx::ClientInfo{.ip = kIp, .user_agent = kUserAgent},
                                       now_ms());
            if (!v) die("gvx::Store::verify", v.error().message);
            ok = v->outcome == gvx::Outcome::ok;
        } else {
            ok = raw->verify(token, kIp, kUserAgent, now_ms()).has_value();
        }
        if (!ok) die("cleanup", "a live token did not verify");
    };

    run.quiet_ns = paced_latencies(verify_once, [&](std::size_t n) { return n >= quiet_ops; });

    std::atomic<bool> purging{true};
    std::thread purger([&] {
        const std::int64_t start = now_ns();
        if (use_gvx && !o.cleanup_script.empty()) {
            run.purged = run_gvx_cleanup(o.cleanup_script, o.extension, path);
        } else if (use_gvx) {
            Db db = open_bench_db(path, o.extension);
            GvxSql purge_gvx(db.get());
            run.purged = purge_gvx.purge_expired();
        } else {
            Db db = open_bench_db(path, "");
            RawStore purge_raw(db.get());
            for (;;) {  // the statements of gvx's purge_all (ext/functions.cpp), no pauses
                const RawPurge r = purge_raw.purge_batch(now_ms(), kPurgeBatch);
                run.purged += r.tokens;
                if (r.tokens < kPurgeBatch && r.activity < kPurgeBatch) break;
            }
        }
        run.purge_ns = static_cast<double>(now_ns() - start);
        purging = false;
    });
    run.during_ns = paced_latencies(verify_once, [&](std::size_t n) {
        return !purging || n >= kMaxSamplesDuringPurge;
    });
    purger.join();
    if (run.purged != run.expected) die("cleanup", "the purge did not delete every expired token");
    return run;
}

std::string p99_text(const PurgeRun& r) {
    const double during = quantile(r.during_ns, 0.99);
    const double quiet = quantile(r.quiet_ns, 0.99);
    return format_ratio(during / quiet) + " (" + format_micros(during) + " / " +
           format_micros(quiet) + ")";
}

}  // namespace

void run_purge_rows(const Options& o) {
    const std::size_t quiet_ops = std::max<std::size_t>(1000, o.ops);
    const PurgeRun g = run_cleanup(o, true, quiet_ops);
    const PurgeRun r = run_cleanup(o, false, quiet_ops);
    const double time_ratio = g.purge_ns / r.purge_ns;
    print_row(Row{.what = "cleanup: purge " + format_count(g.expected) + " expired tokens (" +
                          format_count(g.activity_rows) + " activity rows), 2k verify/s meanwhile",
                  .gvx = format_seconds(g.purge_ns),
                  .baseline = format_seconds(r.purge_ns),
                  .ratio = format_ratio(time_ratio),
                  .target = "report",
                  .checked = time_ratio});
    const double p99_ratio = quantile(g.during_ns, 0.99) / quantile(g.quiet_ns, 0.99);
    print_row(Row{.what = "verify p99 during cleanup / without",
                  .gvx = p99_text(g),
                  .baseline = p99_text(r),
                  .ratio = "",
                  .target = "<= 5",
                  .checked = p99_ratio});
}

}  // namespace bench
