// Git over HTTPS: the FastCGI authorizer (lighttpd "mode" => "authorizer", Apache
// mod_authnz_fcgi) and the same check as a responder for nginx auth_request (SPEC §6).
//
// The token comes from HTTP Basic: the password, or the username with an empty or
// "x-oauth-basic" password. Valid: 200, with the owner handed back to the server as
// Variable-REMOTE_USER (lighttpd, Apache) and X-Gvx-User (nginx). Anything else: 401 with
// WWW-Authenticate; rate limited: 429 with Retry-After; a valid token whose permissions do
// not cover the request (a push with a read-only token, another repository than its
// "repo:<path>"): 403 INSUFFICIENT_PERMISSIONS. The service and repository come from
// REQUEST_URI under --git-root (core/git_access.hpp).
//
// Where the server keeps the name the client typed as the user (Apache's mod_authnz_fcgi with
// AuthType Basic, which hands over REMOTE_USER and REMOTE_PASSWD), that name must be the
// token's owner (or the owner's user.username), else 401: nobody can push as another user by
// typing their name. --strict-username asks the same of the Authorization header's name.
#pragma once

#include "context.hpp"
#include "request.hpp"

namespace gvx::fcgi {

Response authorize(const Request& req, Context& ctx);

}  // namespace gvx::fcgi
