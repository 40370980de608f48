// gvx-fcgi's counters for Prometheus (SPEC §18): verifications by outcome, a histogram of how
// long requests took by kind, and the database's busy waits (store/busy_waits.hpp). Kept in
// this file alone, lock-free (relaxed atomics), so request threads never wait on them.
//
// Served only with --metrics-path (off by default), as Prometheus' text format 0.0.4; never a
// user, token id or anything a client sent. The counters are this process's: scrape each
// gvx-fcgi process that answers requests (README, "Metrics").
#pragma once

#include <string>
#include <string_view>

#include "request.hpp"

namespace gvx::fcgi::metrics {

// After a request was answered: kind is "auth" or "api"; an authorization also counts one
// verification under its outcome (the request log's outcome: OK, KEY_EXPIRED, ...).
void record_request(std::string_view kind, const Response& res, double seconds);

// The exposition text: every series, also those still at zero.
std::string exposition();

// The answer to a request for the metrics path: the text for GET, else 405.
Response respond(const Request& req);

}  // namespace gvx::fcgi::metrics
