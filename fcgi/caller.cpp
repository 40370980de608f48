#include "caller.hpp"

#include <algorithm>

#include "credentials.hpp"

namespace gvx::fcgi {
namespace {

constexpr std::string_view kSecureCookie = "__Secure-better-auth.session_token";
constexpr std::string_view kPlainCookie = "better-auth.session_token";

bool reads_cookie(std::string_view name, SessionCookie choice) {
    if (choice == SessionCookie::secure) return name == kSecureCookie;
    if (choice == SessionCookie::plain) return name == kPlainCookie;
    return true;
}

Response unauthorized(std::string_view message) {
    return json_error(401, "UNAUTHORIZED", message);
}

// scheme://host[:port] of a URL, for comparing a Referer with the trusted origins.
std::string_view origin_of(std::string_view url) {
    const std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return {};
    const std::size_t path = url.find('/', scheme_end + 3);
    return url.substr(0, path);
}

bool is_state_changing(std::string_view method) {
    return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// CSRF defence for cookie-authenticated changes: the browser's Origin (or, failing that, the
// Referer's origin) must be one the operator trusts.
bool origin_trusted(const Request& req, const Options& o) {
    std::string_view origin = req.origin;
    if (origin.empty()) origin = origin_of(req.referer);
    if (origin.empty()) return false;
    return std::find(o.trusted_origins.begin(), o.trusted_origins.end(), origin) !=
           o.trusted_origins.end();
}

std::variant<Caller, Response> from_token(std::string_view token, const Request& req,
                                          Context& ctx) {
    auto v = ctx.store.verify(token, ClientInfo{req.remote_addr, req.user_agent, {}}, ctx.now);
    if (!v) return store_error(v.error());
    if (v->outcome != Outcome::ok) return refused(*v);
    return Caller{v->record->user_id, Caller::Via::token, std::move(v->record)};
}

}  // namespace

std::variant<Caller, Response> identify_caller(const Request& req, Context& ctx) {
    if (ctx.options.trust_remote_user && !req.remote_user.empty())
        return Caller{req.remote_user, Caller::Via::remote_user};

    // better-auth (as Gitflare configures it) takes no API key in place of a session.
    if (ctx.options.wire != Wire::better_auth) {
        if (auto bearer = parse_bearer(req.authorization)) return from_token(*bearer, req, ctx);
        if (!req.api_key_header.empty()) return from_token(req.api_key_header, req, ctx);
    }

    if (!ctx.session_secret.empty() && !req.cookie.empty()) {
        for (std::string_view name : {kSecureCookie, kPlainCookie}) {
            if (!reads_cookie(name, ctx.options.session_cookie)) continue;
            auto value = find_cookie(req.cookie, name);
            if (!value) continue;
            auto session_token = verify_signed_cookie(*value, ctx.session_secret);
            if (!session_token) return unauthorized("invalid session cookie");
            auto user = ctx.store.session_user(session_token->view(), ctx.now);
            if (!user) return store_error(user.error());
            if (!*user) return unauthorized("session expired or unknown");
            if (is_state_changing(req.method) && !origin_trusted(req, ctx.options))
                return json_error(403, "FORBIDDEN",
                                  "cross-site request refused: Origin is not a trusted origin");
            return Caller{**user, Caller::Via::cookie};
        }
    }
    return unauthorized("sign in or send a token to use this API");
}

}  // namespace gvx::fcgi
