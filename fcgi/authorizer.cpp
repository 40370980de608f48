#include "authorizer.hpp"

#include <optional>

#include "credentials.hpp"

namespace gvx::fcgi {
namespace {

Response challenge(const Context& ctx, std::string_view code, std::string_view message) {
    Response r = json_error(401, code, message);
    r.header("WWW-Authenticate", "Basic realm=\"" + ctx.options.realm + "\", charset=\"UTF-8\"");
    return r;
}

// A user id goes back to the server in a header: it must be printable ASCII there.
bool header_safe(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c < 0x21 || c > 0x7E) return false;
    }
    return true;
}

}  // namespace

Response authorize(const Request& req, Context& ctx) {
    // mod_authnz_fcgi's authenticator mode hands over what the client typed, and Apache then
    // takes the typed name as the user: the name must be the token's owner.
    const bool apache_authn = req.apache_role == "AUTHENTICATOR";
    std::optional<BasicCredentials> basic;
    if (apache_authn) {
        BasicCredentials c;
        c.username = req.remote_user;
        c.password = SecretString(req.remote_passwd);
        basic = std::move(c);
    } else {
        basic = parse_basic(req.authorization);
    }
    std::string_view token;
    std::string_view claimed_user;
    if (basic) {
        const TokenCredential tc = token_from_basic(*basic);
        token = tc.token;
        if (apache_authn || ctx.options.strict_username) claimed_user = tc.claimed_user;
        if (apache_authn && tc.claimed_user.empty()) claimed_user = basic->username;
    } else if (auto bearer = parse_bearer(req.authorization)) {
        token = *bearer;
    }
    if (token.empty()) return challenge(ctx, "UNAUTHORIZED", "credentials required");

    auto v = ctx.store.verify(
        token, ClientInfo{req.remote_addr, req.user_agent, claimed_user}, ctx.now);
    if (!v) return store_error(v.error());
    switch (v->outcome) {
        case Outcome::ok: break;
        case Outcome::rate_limited: {
            Response r = json_error(429, "RATE_LIMITED", outcome_message(v->outcome));
            r.header("Retry-After", std::to_string((v->retry_after_ms + 999) / 1000));
            return r;
        }
        default: return challenge(ctx, outcome_code(v->outcome), outcome_message(v->outcome));
    }
    const std::string& owner = v->record->user_id;
    if (!header_safe(owner))
        return json_error(500, "INTERNAL_SERVER_ERROR", "the token's owner cannot be passed on");
    Response r;
    r.status = 200;
    r.header("Variable-REMOTE_USER", owner);
    r.header("Variable-GVX_USER", owner);
    r.header("X-Gvx-User", owner);
    r.body = "{}";
    return r;
}

}  // namespace gvx::fcgi
