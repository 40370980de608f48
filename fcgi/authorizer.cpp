#include "authorizer.hpp"

#include <optional>

#include "core/git_access.hpp"
#include "credentials.hpp"

namespace gvx::fcgi {
namespace {

// A 401 asks for Basic credentials again.
Response challenge(const Context& ctx, Response r) {
    if (r.status == 401)
        r.header("WWW-Authenticate", "Basic realm=\"" + ctx.options.realm + "\", charset=\"UTF-8\"");
    return r;
}
Response challenge(const Context& ctx, std::string_view code, std::string_view message) {
    return challenge(ctx, json_error(401, code, message));
}

// A user id goes back to the server in a header: it must be printable ASCII there.
bool header_safe(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c < 0x21 || c > 0x7E) return false;
    }
    return true;
}

// Apache parsed the Basic header itself and hands over what the client typed as REMOTE_USER
// and REMOTE_PASSWD (mod_authnz_fcgi with AuthType Basic: as an AuthBasicProvider, or
// AuthnzFcgiCheckAuthnProvider). In the AuthBasicProvider mode Apache keeps the typed name as
// the user, so the name must be the token's owner. Without AuthType Basic (the check_user_id
// configurations in scripts/apache/) Apache passes neither, and the Authorization header
// (CGIPassAuth On) is read as lighttpd and nginx send it.
bool server_parsed_basic(const Request& req) {
    return !req.remote_passwd.empty() ||
           (req.apache_role == "AUTHENTICATOR" && !req.remote_user.empty());
}

// What Apache parsed from the Basic header, as Basic credentials.
BasicCredentials credentials_from_server(const Request& req) {
    BasicCredentials c;
    c.username = req.remote_user;
    c.password = SecretString(req.remote_passwd);
    return c;
}

// 200 with the owner for the server: Variable-* for FastCGI authorizers (lighttpd, Apache),
// X-Gvx-User for nginx's auth_request_set.
Response granted(const std::string& owner) {
    Response r;
    r.status = 200;
    r.header("Variable-REMOTE_USER", owner);
    r.header("Variable-GVX_USER", owner);
    r.header("X-Gvx-User", owner);
    r.body = "{}";
    r.log.outcome = "OK";
    return r;
}

// The answer to a verification: the owner for the server, or the refusal.
Response answer(const Verification& v, const Context& ctx) {
    if (v.outcome != Outcome::ok) return challenge(ctx, refused(v));
    const std::string& owner = v.record->user_id;
    if (!header_safe(owner)) {
        Response r =
            json_error(500, "INTERNAL_SERVER_ERROR", "the token's owner cannot be passed on");
        r.log.cause = "the token's owner is not printable ASCII";
        return r;
    }
    return granted(owner);
}

}  // namespace

Response authorize(const Request& req, Context& ctx) {
    const bool by_server = server_parsed_basic(req);
    const std::optional<BasicCredentials> basic =
        by_server ? credentials_from_server(req) : parse_basic(req.authorization);
    std::string_view token;
    std::string_view claimed_user;  // empty: the token's owner, whoever it is
    if (basic) {
        const TokenCredential tc = token_from_basic(*basic);
        token = tc.token;
        // Where the server keeps the typed name as the user, that name must be the owner,
        // also when the token itself was typed as the name: then it names nobody.
        if (by_server) claimed_user = basic->username;
        else if (ctx.options.strict_username) claimed_user = tc.claimed_user;
    } else if (auto bearer = parse_bearer(req.authorization)) {
        token = *bearer;
    }
    if (token.empty()) return challenge(ctx, "UNAUTHORIZED", "credentials required");
    if (by_server && claimed_user.empty()) return challenge(ctx, invalid_credentials());

    // What the request needs: the service (read or push) and the repository, from the URI
    // the client sent (SPEC §13); the token's permissions must cover it.
    const Permissions required =
        git_permission_request(git_need(ctx.options.git_root, req.path, req.query));
    auto v = ctx.store.verify(
        token, ClientInfo{req.remote_addr, req.user_agent, claimed_user, &required}, ctx.now);
    if (!v) return store_error(v.error());
    Response r = answer(*v, ctx);
    if (v->record) {  // the request log names the token and its owner, also on a refusal
        r.log.user = v->record->user_id;
        r.log.token_id = v->record->id;
    }
    return r;
}

}  // namespace gvx::fcgi
