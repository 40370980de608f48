// gvx-fcgi's log on standard error (the journal under systemd; the web server's error log
// when it spawns gvx-fcgi): a start-up line, then one line per request, e.g.
//
//   2026-11-28T08:40:12.345Z gvx-fcgi[4711]: auth GET /git/p.git/info/refs?service=git-upload-pack
//     200 outcome=OK user=alice token=7iT7ViMkPbrbd92yAvi6tDTPFOGxc5tE ms=1.3
//   2026-11-28T08:40:13.002Z gvx-fcgi[4711]: api POST /api/auth/api-key/create 500
//     outcome=INTERNAL_SERVER_ERROR user=alice token=- ms=0.4
//     cause="database error: attempt to write a readonly database"
// (each on one line).
//
// Never a token, a password or a cookie: the query is left out except Git's service
// parameter, and every field is reduced to printable ASCII without spaces.
#pragma once

#include <string>
#include <string_view>

#include "request.hpp"

namespace gvx::fcgi {

// "auth" or "api" for the kind of request; ms is how long the answer took.
std::string request_log_line(const Request& req, const Response& res, std::string_view kind,
                             double ms);

// Writes "<UTC time> gvx-fcgi[<pid>]: <text>\n" to standard error in one write, so the lines of
// processes sharing one log never interleave.
void log_line(std::string_view text);

}  // namespace gvx::fcgi
