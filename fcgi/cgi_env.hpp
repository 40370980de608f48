// The CGI environment a web server hands a FastCGI program, read into a Request: a pure
// function over the environment and a body reader, so tests and the fuzzer run exactly what
// gvx-fcgi runs (main.cpp passes libfcgi's envp and FCGX_GetStr).
#pragma once

#include <cstddef>
#include <functional>

#include "request.hpp"

namespace gvx::fcgi {

// Reads up to n bytes of the body into `into`; returns how many it read (fewer at the end).
using BodyReader = std::function<std::size_t(char* into, std::size_t n)>;

// envp: NAME=value entries, ending with nullptr. The first value of a name counts (as with
// FCGX_GetParam). The path comes from REQUEST_URI, or else SCRIPT_NAME + PATH_INFO; the query
// from REQUEST_URI's '?', or else QUERY_STRING. Authorization falls back to Apache's
// REDIRECT_HTTP_AUTHORIZATION; an empty CONTENT_LENGTH counts as none. The body is read only
// with a valid CONTENT_LENGTH of at most kMaxBodyBytes (the API answers 411/413 otherwise).
Request read_request(const char* const* envp, const BodyReader& read_body);

// The same in two steps, so that gvx-fcgi knows the caller before it reads a body: one slow
// or stalled anonymous body must not hold the process (SPEC §14). read_request_body does
// nothing when the body was read already.
Request read_request_head(const char* const* envp);
void read_request_body(Request& r, const BodyReader& read_body);

}  // namespace gvx::fcgi
