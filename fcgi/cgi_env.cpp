#include "cgi_env.hpp"

#include <optional>
#include <string>
#include <string_view>

#include "core/limits.hpp"

namespace gvx::fcgi {

// The parameters are read in one pass over the environment: FCGX_GetParam scans all of it for
// each name, and twenty such scans cost more than the rest of the request handling outside
// the database.
Request read_request_head(const char* const* envp) {
    Request r;
    std::string request_uri, script_name, path_info, query_string, redirect_authorization;
    std::optional<std::string> content_length;
    struct Wanted {
        std::string_view name;
        std::string* into;
        bool seen = false;
    };
    Wanted wanted[] = {
        {"FCGI_ROLE", &r.role},
        {"FCGI_APACHE_ROLE", &r.apache_role},
        {"GVX_MODE", &r.mode},
        {"REQUEST_METHOD", &r.method},
        {"REQUEST_URI", &request_uri},
        {"SCRIPT_NAME", &script_name},
        {"PATH_INFO", &path_info},
        {"QUERY_STRING", &query_string},
        {"CONTENT_TYPE", &r.content_type},
        {"HTTP_AUTHORIZATION", &r.authorization},
        {"REDIRECT_HTTP_AUTHORIZATION", &redirect_authorization},
        {"HTTP_COOKIE", &r.cookie},
        {"HTTP_ORIGIN", &r.origin},
        {"HTTP_REFERER", &r.referer},
        {"REMOTE_USER", &r.remote_user},
        {"REMOTE_PASSWD", &r.remote_passwd},
        {"REMOTE_ADDR", &r.remote_addr},
        {"HTTP_USER_AGENT", &r.user_agent},
        {"HTTP_X_API_KEY", &r.api_key_header},
    };
    for (const char* const* entry = envp; entry && *entry; ++entry) {
        const std::string_view e(*entry);
        const std::size_t eq = e.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = e.substr(0, eq);
        const std::string_view value = e.substr(eq + 1);
        if (name == "CONTENT_LENGTH") {
            if (!content_length) content_length.emplace(value);
            continue;
        }
        for (Wanted& w : wanted) {
            if (w.seen || name != w.name) continue;
            w.into->assign(value);
            w.seen = true;
            break;
        }
    }
    if (request_uri.empty()) request_uri = script_name + path_info;
    const std::size_t q = request_uri.find('?');
    r.path = request_uri.substr(0, q);
    r.query = q == std::string::npos ? query_string : request_uri.substr(q + 1);
    // An empty CONTENT_LENGTH (nginx's $content_length without a body) means none was sent.
    if (content_length && !content_length->empty()) r.content_length = std::move(content_length);
    if (r.authorization.empty()) r.authorization = std::move(redirect_authorization);
    return r;
}

void read_request_body(Request& r, const BodyReader& read_body) {
    if (r.body_read) return;
    // Never read without a length, and never more than the cap (the handler answers 411/413).
    if (r.content_length) {
        if (auto n = parse_length(*r.content_length); n && *n <= kMaxBodyBytes) {
            r.body.resize(*n);
            std::size_t got = 0;
            while (got < *n) {
                const std::size_t more = read_body(r.body.data() + got, *n - got);
                if (more == 0) break;
                got += more;
            }
            r.body.resize(got);
            r.body_read = true;
        }
    }
}

Request read_request(const char* const* envp, const BodyReader& read_body) {
    Request r = read_request_head(envp);
    read_request_body(r, read_body);
    return r;
}

}  // namespace gvx::fcgi
