// The JSON token API under --api-base (SPEC §5): create, list, delete, get, update, activity.
#pragma once

#include "cgi_env.hpp"
#include "context.hpp"
#include "request.hpp"

namespace gvx::fcgi {

// The body (req.body) must have been read, or be read by read_body once the caller is known:
// a request from nobody is answered without waiting for its body.
Response handle_api(Request& req, Context& ctx, const BodyReader& read_body);
// For a request whose body was read already (tests, the fuzzer).
Response handle_api(const Request& req, Context& ctx);

}  // namespace gvx::fcgi
