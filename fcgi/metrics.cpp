#include "metrics.hpp"

#include <atomic>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "store/busy_waits.hpp"

namespace gvx::fcgi::metrics {
namespace {

using Counter = std::atomic<std::uint64_t>;

// Every outcome a verification can have (core/policy.cpp's codes), then anything else (a 5xx:
// the database busy or failing) as ERROR; each series exists from the start, at 0.
constexpr std::array<std::string_view, 11> kOutcomes = {
    "OK",           "INVALID_API_KEY",          "KEY_EXPIRED", "KEY_DISABLED",
    "USAGE_EXCEEDED", "RATE_LIMITED",           "USER_MISMATCH", "INSUFFICIENT_PERMISSIONS",
    "USER_BANNED",  "INVALID_USER_ID_FROM_API_KEY", "ERROR"};

// Upper bounds in seconds: a verification is ~0.05 ms of work, a request through a web server
// about a millisecond; a busy database waits up to seconds.
constexpr std::array<double, 13> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1.0,   2.5,   5.0};
constexpr std::array<std::string_view, 2> kKinds = {"auth", "api"};

struct Histogram {
    std::array<Counter, kBuckets.size()> buckets{};  // not cumulative: one per request
    Counter count{0};
    Counter sum_us{0};
};

std::array<Counter, kOutcomes.size()> g_verifications{};
std::array<Histogram, kKinds.size()> g_durations{};
std::array<Counter, 6> g_status_classes{};  // 1xx..5xx by first digit; [0] unused
const std::int64_t g_started_s = std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();

std::size_t outcome_index(std::string_view outcome) {
    for (std::size_t i = 0; i + 1 < kOutcomes.size(); ++i) {
        if (kOutcomes[i] == outcome) return i;
    }
    return kOutcomes.size() - 1;  // ERROR
}

void add(Counter& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
std::uint64_t get(const Counter& c) { return c.load(std::memory_order_relaxed); }

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

void header(std::string& out, std::string_view name, std::string_view type,
            std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace

void record_request(std::string_view kind, const Response& res, double seconds) {
    const std::size_t k = kind == "auth" ? 0 : 1;
    Histogram& h = g_durations[k];
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            add(h.buckets[i]);
            break;
        }
    }
    add(h.count);
    add(h.sum_us, seconds > 0 ? static_cast<std::uint64_t>(seconds * 1e6) : 0);
    if (res.status >= 100 && res.status < 600) add(g_status_classes[res.status / 100]);
    if (k == 0) {
        const bool server_trouble = res.status >= 500;
        add(g_verifications[server_trouble ? kOutcomes.size() - 1 : outcome_index(res.log.outcome)]);
    }
}

std::string exposition() {
    std::string out;
    out.reserve(4096);
    header(out, "gvx_verifications_total", "counter",
           "Token verifications by the Git authorizer, by outcome (ERROR: the database failed).");
    for (std::size_t i = 0; i < kOutcomes.size(); ++i) {
        out.append("gvx_verifications_total{outcome=\"").append(kOutcomes[i]).append("\"} ");
        out.append(std::to_string(get(g_verifications[i]))).append("\n");
    }
    header(out, "gvx_request_duration_seconds", "histogram",
           "Time from a request's arrival to its answer, by kind (auth: Git authorizations, "
           "api: the token API).");
    for (std::size_t k = 0; k < kKinds.size(); ++k) {
        const Histogram& h = g_durations[k];
        std::uint64_t cumulative = 0;
        const std::string label = std::string("kind=\"") + std::string(kKinds[k]) + "\"";
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += get(h.buckets[i]);
            out.append("gvx_request_duration_seconds_bucket{").append(label);
            out.append(",le=\"").append(number(kBuckets[i])).append("\"} ");
            out.append(std::to_string(cumulative)).append("\n");
        }
        const std::uint64_t count = get(h.count);
        out.append("gvx_request_duration_seconds_bucket{").append(label);
        out.append(",le=\"+Inf\"} ").append(std::to_string(count)).append("\n");
        out.append("gvx_request_duration_seconds_sum{").append(label).append("} ");
        out.append(number(static_cast<double>(get(h.sum_us)) / 1e6)).append("\n");
        out.append("gvx_request_duration_seconds_count{").append(label).append("} ");
        out.append(std::to_string(count)).append("\n");
    }
    header(out, "gvx_responses_total", "counter", "Responses by status class.");
    for (int c = 1; c <= 5; ++c) {
        out.append("gvx_responses_total{code=\"").append(std::to_string(c)).append("xx\"} ");
        out.append(std::to_string(get(g_status_classes[c]))).append("\n");
    }
    const BusyWaitCounts busy = busy_wait_counts();
    header(out, "gvx_database_busy_waits_total", "counter",
           "Statements that waited for another connection's lock on the SQLite database.");
    out.append("gvx_database_busy_waits_total ").append(std::to_string(busy.waits)).append("\n");
    header(out, "gvx_database_busy_wait_seconds_total", "counter",
           "Time spent waiting for those locks.");
    out.append("gvx_database_busy_wait_seconds_total ")
        .append(number(static_cast<double>(busy.waited_us) / 1e6))
        .append("\n");
    header(out, "gvx_database_busy_timeouts_total", "counter",
           "Waits that ended without the lock (the request got 503).");
    out.append("gvx_database_busy_timeouts_total ")
        .append(std::to_string(busy.gave_up))
        .append("\n");
    header(out, "gvx_process_start_time_seconds", "gauge",
           "When this gvx-fcgi process started, in seconds since the epoch.");
    out.append("gvx_process_start_time_seconds ").append(std::to_string(g_started_s)).append("\n");
    return out;
}

Response respond(const Request& req) {
    if (req.method != "GET") {
        Response r = json_error(405, "METHOD_NOT_ALLOWED", "use GET");
        r.header("Allow", "GET");
        r.log.outcome = "METHOD_NOT_ALLOWED";
        return r;
    }
    Response r;
    r.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = exposition();
    r.log.outcome = "OK";
    return r;
}

}  // namespace gvx::fcgi::metrics
