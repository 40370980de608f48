// From what the store said to what the client gets: one table for errors (400, 404, 503,
// 500) and one for verification outcomes (401, 429), so every handler answers alike.
#pragma once

#include <string_view>

#include "request.hpp"
#include "token_store.hpp"

namespace gvx::fcgi {

// 400 INVALID_PARAMETER with the store's message (fields named as the JSON API names them),
// 404 NOT_FOUND, 503 SERVICE_UNAVAILABLE with Retry-After, or a bare 500; a 5xx keeps the
// error's message for the request log only.
Response store_error(const Error& e);

// A 400 INVALID_PARAMETER naming the problem.
Response invalid_field(std::string_view message);

// A refused verification: 429 RATE_LIMITED with Retry-After (whole seconds, rounded up), or
// the one 401 (invalid_credentials) for every token that does not verify: unknown, expired,
// disabled, used up, revoked, another owner's name. Telling them apart would tell the holder
// of an old leaked token that it was real; the reason stays in the owner's activity.
Response refused(const Verification& v);
Response invalid_credentials();

// The HTTP status of an outcome: 200, 401, 403 or 429.
int outcome_status(Outcome o);

}  // namespace gvx::fcgi
