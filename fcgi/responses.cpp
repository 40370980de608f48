#include "responses.hpp"

#include <string>

#include "core/limits.hpp"

namespace gvx::fcgi {
namespace {

struct ErrorHttp {
    Errc code;
    int status;
    std::string_view error_code;
    std::string_view message;      // empty: the error's own message (safe to show)
    std::string_view retry_after;  // empty: no Retry-After header
};
constexpr ErrorHttp kErrors[] = {
    {Errc::invalid_argument, 400, "INVALID_PARAMETER", "", ""},
    {Errc::not_found, 404, "NOT_FOUND", "no such token", ""},
    {Errc::too_many_tokens, 400, "TOO_MANY_TOKENS", "", ""},
    {Errc::unknown_user, 403, "USER_NOT_FOUND", "", ""},
    {Errc::busy, 503, "SERVICE_UNAVAILABLE", "the database is busy or unreachable; retry", "1"},
    {Errc::db, 500, "INTERNAL_SERVER_ERROR", "internal error", ""},
    {Errc::crypto, 500, "INTERNAL_SERVER_ERROR", "internal error", ""},
};

struct OutcomeHttp {
    Outcome outcome;
    int status;
};
constexpr OutcomeHttp kOutcomes[] = {
    {Outcome::ok, 200},
    {Outcome::invalid_key, 401},
    {Outcome::expired, 401},
    {Outcome::disabled, 401},
    {Outcome::usage_exceeded, 401},
    {Outcome::user_mismatch, 401},
    {Outcome::user_banned, 401},
    {Outcome::user_missing, 401},
    {Outcome::rate_limited, 429},
    {Outcome::insufficient_permissions, 403},  // authenticated, not allowed
};

// The store names fields as SQL does; the API's clients know them as JSON does.
struct FieldName {
    std::string_view sql;
    std::string_view json;
};
constexpr FieldName kFieldNames[] = {{"expires_at", "expiresAt"}};

std::string api_message(const Error& e) {
    for (const FieldName& f : kFieldNames) {
        if (e.field == f.sql && e.message.starts_with(f.sql))
            return std::string(f.json) + e.message.substr(f.sql.size());
    }
    return e.message;
}

}  // namespace

Response invalid_field(std::string_view message) {
    return json_error(400, "INVALID_PARAMETER", message);
}

Response store_error(const Error& e) {
    for (const ErrorHttp& m : kErrors) {
        if (m.code != e.code) continue;
        Response r = json_error(m.status, m.error_code, m.message.empty() ? api_message(e)
                                                                          : std::string(m.message));
        if (!m.retry_after.empty()) r.header("Retry-After", std::string(m.retry_after));
        if (m.status >= 500) r.log.cause = e.message;
        return r;
    }
    Response r = json_error(500, "INTERNAL_SERVER_ERROR", "internal error");
    r.log.cause = e.message;
    return r;
}

int outcome_status(Outcome o) {
    for (const OutcomeHttp& m : kOutcomes) {
        if (m.outcome == o) return m.status;
    }
    return 401;
}

Response refused(const Verification& v) {
    const int status = outcome_status(v.outcome);
    if (status == 429) {
        Response r = json_error(429, outcome_code(v.outcome), outcome_message(v.outcome));
        r.header("Retry-After", std::to_string(retry_after_seconds(v.retry_after_ms)));
        return r;
    }
    if (status == 401) {
        Response r = invalid_credentials();
        r.log.outcome = outcome_code(v.outcome);  // the operator's log keeps the reason
        return r;
    }
    return json_error(status, outcome_code(v.outcome), outcome_message(v.outcome));
}

Response invalid_credentials() {
    return json_error(401, "UNAUTHORIZED", "invalid credentials");
}

}  // namespace gvx::fcgi
