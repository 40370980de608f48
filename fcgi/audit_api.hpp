// GET /audit: the audit trail of the caller's own tokens (SPEC §18), for people only (a token
// gets 403 from the route table in api.cpp).
#pragma once

#include <string_view>

#include "context.hpp"
#include "request.hpp"

namespace gvx::fcgi {

// Entries of user_id's tokens, newest first: ?id= one token's, ?limit= 1..1000 (default 100).
Response audit_trail(std::string_view user_id, const Request& req, Context& ctx);

}  // namespace gvx::fcgi
