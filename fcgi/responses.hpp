// From what the store said to what the client gets: one table for errors (400, 404, 503,
// 500) and one for verification outcomes (401, 429), so every handler answers alike.
#pragma once

#include <string_view>

#include "request.hpp"
#include "token_store.hpp"

namespace gvx::fcgi {

// 400 INVALID_PARAMETER with the store's message (fields named as the JSON API names them),
// 404 NOT_FOUND, 503 SERVICE_UNAVAILABLE with Retry-After, or a bare 500.
Response store_error(const Error& e);

// A 400 INVALID_PARAMETER naming the problem.
Response invalid_field(std::string_view message);

// A refused verification: 429 RATE_LIMITED with Retry-After (whole seconds, rounded up), or
// 401 with the given code ("UNAUTHORIZED" for the API; the outcome's own code for the
// authorizer, which adds its WWW-Authenticate challenge).
Response refused(const Verification& v, std::string_view code_for_401);

// The HTTP status of an outcome: 200, 401 or 429.
int outcome_status(Outcome o);

}  // namespace gvx::fcgi
