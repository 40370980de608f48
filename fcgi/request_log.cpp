#include "request_log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace gvx::fcgi {
namespace {

constexpr std::size_t kMaxPathChars = 256;
constexpr std::size_t kMaxFieldChars = 128;
constexpr std::size_t kMaxCauseChars = 512;

// A field as one word of printable ASCII: other bytes, spaces and quotes as %XX.
std::string word(std::string_view s, std::size_t max) {
    if (s.empty()) return "-";
    std::string out;
    for (unsigned char c : s.substr(0, max)) {
        if (c > 0x20 && c < 0x7F && c != '"' && c != '%') {
            out += static_cast<char>(c);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

// A quoted message: printable ASCII, with quotes and backslashes escaped.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s.substr(0, kMaxCauseChars)) {
        if (c == '"' || c == '\\') out += '\\';
        out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
    }
    return out + '"';
}

// The path, and of the query only Git's service=git-upload-pack|git-receive-pack: the rest of
// a query may hold anything, a token included.
std::string target(const Request& req) {
    std::string t = word(req.path, kMaxPathChars);
    if (auto service = query_param(req.query, "service");
        service && (*service == "git-upload-pack" || *service == "git-receive-pack"))
        t += "?service=" + *service;
    return t;
}

std::string utc_now() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t seconds = system_clock::to_time_t(now);
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
    return buf;
}

}  // namespace

std::string request_log_line(const Request& req, const Response& res, std::string_view kind,
                             double ms) {
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.1f", ms);
    std::string line = std::string(kind) + ' ' + word(req.method, 16) + ' ' + target(req) + ' ' +
                       std::to_string(res.status) + " outcome=" +
                       word(res.log.outcome, kMaxFieldChars) +
                       " user=" + word(res.log.user, kMaxFieldChars) +
                       " token=" + word(res.log.token_id, kMaxFieldChars) + " ms=" + duration;
    if (!res.log.cause.empty()) line += " cause=" + quoted(res.log.cause);
    return line;
}

void log_line(std::string_view text) {
    std::string line = utc_now() + " gvx-fcgi[" + std::to_string(getpid()) + "]: ";
    line.append(text);
    line += '\n';
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;  // nowhere to log: the request still gets its answer
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace gvx::fcgi
