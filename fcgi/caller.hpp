// Who is calling the API: REMOTE_USER from the web server, a gvx token (Bearer or x-api-key),
// or a better-auth session cookie; and whether a state-changing request may go ahead.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "context.hpp"
#include "request.hpp"

namespace gvx::fcgi {

struct Caller {
    enum class Via { remote_user, token, cookie };
    std::string user_id;
    Via via;
    std::optional<TokenRecord> token;  // Via::token: the token itself, as just verified
};

// The caller, or the error response (401, 403, 429, 5xx) to send instead.
std::variant<Caller, Response> identify_caller(const Request& req, Context& ctx);

}  // namespace gvx::fcgi
