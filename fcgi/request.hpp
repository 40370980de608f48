// One HTTP request as the web server hands it to a FastCGI program, and the response to it.
// Built once per request from the FastCGI parameters; handlers are pure Request -> Response.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gvx::fcgi {

struct Request {
    std::string role;         // FCGI_ROLE: RESPONDER or AUTHORIZER
    std::string apache_role;  // FCGI_APACHE_ROLE (mod_authnz_fcgi): AUTHENTICATOR, ...
    std::string mode;         // GVX_MODE: "authorize" makes a responder answer as authorizer
    std::string method;
    std::string path;   // the URI path, without the query
    std::string query;  // after '?', undecoded
    std::string content_type;
    std::optional<std::string> content_length;  // as sent; absent when the server sent none
    std::string authorization;                  // HTTP_AUTHORIZATION (or Apache's REDIRECT_)
    std::string cookie;
    std::string origin;
    std::string referer;
    std::string remote_user;    // REMOTE_USER set by the web server's authentication
    std::string remote_passwd;  // REMOTE_PASSWD (mod_authnz_fcgi authenticator mode)
    std::string remote_addr;
    std::string user_agent;
    std::string api_key_header;  // HTTP_X_API_KEY, better-auth's header for API keys
    std::string body;
    bool body_read = false;
};

// What the request log line (request_log.hpp) says about a response; never a secret.
struct LogNote {
    std::string outcome;   // "OK" or the error code the client got
    std::string user;      // the API's caller, or the token's owner
    std::string token_id;  // the token the request used or acted on
    std::string cause;     // why a 5xx happened (e.g. SQLite's message): the log's alone
};

struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // JSON unless a header says otherwise
    LogNote log;

    Response& header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    // The value of the first header called name; empty when there is none.
    std::string_view header_value(std::string_view name) const {
        for (const auto& [k, v] : headers) {
            if (k == name) return v;
        }
        return {};
    }
};

// {"code", "message"} with the status.
Response json_error(int status, std::string_view code, std::string_view message);
Response json_ok(std::string body, int status = 200);

std::string_view reason_phrase(int status);

// CONTENT_LENGTH as a number: digits only, no sign, no overflow.
std::optional<std::size_t> parse_length(std::string_view s);

// The value of one query parameter, percent-decoded; nullopt when absent or malformed.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// Percent-decoding ('+' stays '+'); nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

// Status line and headers as FastCGI expects them (CGI "Status:" header first).
std::string serialize_head(const Response& r);

}  // namespace gvx::fcgi
