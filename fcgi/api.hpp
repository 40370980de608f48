// The JSON token API under --api-base (SPEC §5): create, list, delete, get, update, activity.
#pragma once

#include "context.hpp"
#include "request.hpp"

namespace gvx::fcgi {

Response handle_api(const Request& req, Context& ctx);

}  // namespace gvx::fcgi
