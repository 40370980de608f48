// `gvx-fcgi --wire better-auth`: the token API in better-auth 1.4.9's HTTP shapes, for clients
// written against better-auth's API-key plugin (README "Wire shapes"). What differs from gvx's
// documented shapes, as better-auth's own handler answers (checked by the gitflare.wire test):
//   - a token is better-auth's 20 fields in its order (create adds "key" after "prefix"):
//     dates are ISO-8601 strings with milliseconds, permissions and metadata are objects or null;
//   - errors are {"code", "message"} with better-auth's codes and messages (API_KEY_NOT_FOUND,
//     UNAUTHORIZED_OR_INVALID_SESSION, VALIDATION_ERROR "[body.name] ...", ...), and some of its
//     answers have no body at all (401 for list/get/delete without a session; 404 for an
//     unknown endpoint or a wrong method, which better-auth does not tell apart);
//   - better-auth's own request rules come first: expiresIn from 1 to 365 days, prefix length,
//     properties only a server may set, "no values to update".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "core/record.hpp"
#include "core/result.hpp"
#include "json/json.hpp"
#include "request.hpp"

namespace gvx::fcgi::better_auth {

// 2024-01-31T09:26:40.123Z, as JavaScript's Date.prototype.toISOString() writes ms.
std::string iso8601(std::int64_t ms);

// One token in better-auth's shape, its columns as stored; with key, the create response.
void write_token(JsonWriter& w, const TokenRecord& t, std::optional<std::string_view> key = {});
std::string token_json(const TokenRecord& t, std::optional<std::string_view> key = {});

// better-auth's answer to a request for an unknown endpoint or with the wrong method.
Response no_route();
// gvx's refusal of the caller (401 no session, 403 untrusted origin) as better-auth answers it,
// which for 401 differs by endpoint.
Response caller_refused(std::string_view endpoint, const Response& gvx_answer);
// gvx's refusal of the body (not JSON, not an object, wrong media type) as better-auth words it.
Response body_refused(const Request& req, const Response& gvx_answer);
// A token that is not the caller's, or does not exist.
Response not_found();
// The query parameter id missing.
Response missing_query_id();
// better-auth's own checks of a create, update or delete body by the caller, before gvx's: the
// first refusal.
std::optional<Response> check_body(std::string_view endpoint, const rapidjson::Value& body,
                                   std::string_view caller_id);
// The checks better-auth makes of an update once it found the token: lengths, expiresIn,
// metadata, and that there is something to change.
std::optional<Response> check_update_values(const rapidjson::Value& body);
// A refusal from gvx's validation or store, with better-auth's code where it has one.
Response store_error(const Error& e, const Response& gvx_answer);

}  // namespace gvx::fcgi::better_auth
