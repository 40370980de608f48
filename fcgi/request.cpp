#include "request.hpp"

#include <charconv>

#include "json/json.hpp"

namespace gvx::fcgi {

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 411: return "Length Required";
        case 413: return "Payload Too Large";
        case 415: return "Unsupported Media Type";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 503: return "Service Unavailable";
        default: return "Unknown";
    }
}

Response json_error(int status, std::string_view code, std::string_view message) {
    Response r;
    r.status = status;
    r.body = error_json(code, message);
    r.log.outcome = code;
    return r;
}

Response json_ok(std::string body, int status) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.log.outcome = "OK";
    return r;
}

std::optional<std::size_t> parse_length(std::string_view s) {
    std::size_t n = 0;
    if (s.empty() || s.size() > 19) return std::nullopt;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return n;
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;  // '%' needs two hex digits after it
        const int hi = hex_value(s[i + 1]);
        const int lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const std::size_t eq = pair.find('=');
        if (pair.substr(0, eq) == name)
            return eq == std::string_view::npos ? std::string()
                                                : percent_decode(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

std::string serialize_head(const Response& r) {
    std::string head = "Status: " + std::to_string(r.status) + ' ' +
                       std::string(reason_phrase(r.status)) + "\r\n";
    bool has_type = false;
    for (const auto& [name, value] : r.headers) {
        if (name == "Content-Type") has_type = true;
        head += name + ": " + value + "\r\n";
    }
    if (!has_type) head += "Content-Type: application/json\r\n";
    head += "Cache-Control: no-store\r\nContent-Length: " + std::to_string(r.body.size()) +
            "\r\n\r\n";
    return head;
}

}  // namespace gvx::fcgi
