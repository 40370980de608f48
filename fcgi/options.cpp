#include "options.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string_view>

#include "core/git_access.hpp"

namespace gvx::fcgi {

const char* const kUsage = R"(usage: gvx-fcgi --db PATH [options]

Serves gvx's JSON token API and answers FastCGI authorizer requests for Git over HTTPS.

  --db PATH|URI               SQLite database file, or a PostgreSQL connection string:
                              postgresql://user@host[:port][,host2[:port]...]/db?param=...
                              (postgres:// too) or libpq's key=value form ("host=... dbname=...");
                              created or migrated on first use
  --listen HOST:PORT|PATH     listen on a TCP address or a Unix socket; without it, serve the
                              FastCGI socket passed as standard input (lighttpd, spawn-fcgi,
                              systemd socket activation), which must then be a socket
  --trust-remote-user         take the API caller from REMOTE_USER, set by the web server's
                              own authentication; refused on a TCP listener (any local user
                              can connect there) unless --trusted-peer names the web servers
  --socket-mode MODE          mode of the Unix socket --listen creates (octal, default 0660;
                              never open to other users)
  --socket-group GROUP        group of that socket, e.g. the web server's (www-data)
  --trusted-peer IP           on TCP, accept connections from this IPv4 address only
                              (repeatable); needed for --trust-remote-user on TCP
  --session-secret-file FILE  accept better-auth session cookies signed with this secret
  --trusted-origin URL        an Origin allowed to make cookie-authenticated changes
                              (repeatable), e.g. https://git.example.com
  --realm NAME                the Basic realm in WWW-Authenticate (default: gvx)
  --api-base PATH             where the API lives (default: /api/auth/api-key)
  --strict-username           the authorizer refuses a Basic username that does not name the
                              token's owner, also where the server does not take it as the
                              user (Apache's authenticator mode always requires it)
  --git-root PATH             the URL path under which the repositories live (default:
                              /git/): the authorizer reads the repository a request is for
                              from REQUEST_URI below it, for tokens limited to some
                              repositories (permissions "repo:<path>")
  --wire gvx|better-auth      the API's answers in gvx's shapes (default) or in better-auth's
                              (ISO-8601 dates, all its fields, its error codes and statuses)
  --session-cookie both|secure|plain
                              which session cookie to read: __Secure-better-auth.session_token
                              (secure: better-auth with secure cookies, as Gitflare runs it),
                              better-auth.session_token (plain), or either (default)
  --backlog N                 listen backlog (default: 128)
  --threads N                 requests handled at once, each on a thread of its own (1 to
                              256; default: 8 on SQLite, where verifications in flight
                              together are committed in one transaction; 1 on PostgreSQL)
  --purge [--dry-run] [--pace N]
                              remove expired tokens and activity past retention, print what
                              was removed, and exit (gvx-cleanup uses this for PostgreSQL);
                              --dry-run counts only; --pace N pauses N times each batch's time
  --metrics-path PATH         answer GET PATH (e.g. /metrics) with Prometheus' text format:
                              verifications by outcome, request durations, database busy
                              waits (off by default; let only the monitoring host reach it)
  --allow-core-dumps          let the process dump core (off by default: a core holds the
                              session secret and the last request's credentials)
  --version                   the version, with SQLite's and libsodium's
  --help                      this text

Requests: FCGI_ROLE=AUTHORIZER, or the FastCGI parameter GVX_MODE=authorize (nginx
auth_request), are authorizations; anything else is an API request under --api-base.
SIGTERM finishes the request in progress and exits; SIGHUP is ignored. Standard error gets a
start-up line and one line per request (time, method, path, status, outcome, user, token id,
duration, and for a 5xx its cause), never a token.
)";

namespace {

// scheme://host[:port], as browsers send it in Origin: no path, query, fragment or user info.
bool is_origin(std::string_view s) {
    const std::size_t colon = s.find("://");
    if (colon == std::string_view::npos || colon == 0) return false;
    for (char c : s.substr(0, colon)) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            return false;
    }
    const std::string_view authority = s.substr(colon + 3);
    if (authority.empty()) return false;
    for (char c : authority) {
        if (c <= ' ' || c >= 0x7F || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\')
            return false;
    }
    return true;
}

// A path for the metrics: /-rooted, printable ASCII, nothing a server would decode or split.
bool is_metrics_path(std::string_view p) {
    if (p.size() < 2 || p.size() > 255 || p[0] != '/') return false;
    for (char c : p) {
        if (c <= ' ' || c >= 0x7F || c == '?' || c == '#' || c == '%' || c == '\\') return false;
    }
    return true;
}

// HOST:PORT (libfcgi takes anything with a colon for TCP; an empty HOST is every address) with
// a port from 1 to 65535, or a socket path. libfcgi itself would take 99999 as 34463.
Status check_listen(const std::string& listen) {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return Ok{};  // a Unix socket path
    const std::string_view port = std::string_view(listen).substr(colon + 1);
    int n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || n < 1 ||
        n > 65535)
        return invalid("--listen " + listen + ": port must be a number from 1 to 65535");
    return Ok{};
}

}  // namespace

Result<Options> parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&](std::string& out) -> Status {
            if (i + 1 >= argc) return invalid(std::string(arg) + " needs a value");
            out = argv[++i];
            if (out.empty()) return invalid(std::string(arg) + " must not be empty");
            return Ok{};
        };
        Status st = Ok{};
        if (arg == "--help" || arg == "-h") {
            o.help = true;
        } else if (arg == "--db") {
            st = value(o.db_path);
        } else if (arg == "--version" || arg == "-V") {
            o.version = true;
        } else if (arg == "--listen") {
            st = value(o.listen);
            if (st) st = check_listen(o.listen);
        } else if (arg == "--trust-remote-user") {
            o.trust_remote_user = true;
        } else if (arg == "--session-secret-file") {
            st = value(o.session_secret_file);
        } else if (arg == "--trusted-origin") {
            std::string origin;
            st = value(origin);
            while (!origin.empty() && origin.back() == '/') origin.pop_back();
            if (st && !is_origin(origin))
                st = invalid("--trusted-origin must be scheme://host[:port], e.g. "
                             "https://git.example.com (got " + origin + ")");
            if (st) o.trusted_origins.push_back(origin);
        } else if (arg == "--realm") {
            st = value(o.realm);
            if (st && o.realm.find_first_of("\"\\\r\n") != std::string::npos)
                st = invalid("--realm must not contain quotes, backslashes or newlines");
        } else if (arg == "--api-base") {
            st = value(o.api_base);
            while (!o.api_base.empty() && o.api_base.back() == '/') o.api_base.pop_back();
        } else if (arg == "--purge") {
            o.purge = true;
        } else if (arg == "--dry-run") {
            o.dry_run = true;
        } else if (arg == "--pace") {
            std::string n;
            st = value(n);
            std::int64_t pace = 0;
            if (st) {
                auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), pace);
                if (ec != std::errc{} || end != n.data() + n.size() || pace < 0 || pace > 9999)
                    st = invalid("--pace must be a whole number from 0 to 9999");
                else o.pace = pace;
            }
        } else if (arg == "--strict-username") {
            o.strict_username = true;
        } else if (arg == "--git-root") {
            std::string root;
            st = value(root);
            if (st) {
                auto normalized = normalize_git_root(root);
                if (!normalized)
                    st = invalid("--git-root must be a URL path such as /git/ (no '%', '?', "
                                 "'#', '..' or '//'; got " + root + ")");
                else o.git_root = std::move(*normalized);
            }
        } else if (arg == "--socket-mode") {
            std::string m;
            st = value(m);
            unsigned mode = 0;
            auto [end, ec] = std::from_chars(m.data(), m.data() + m.size(), mode, 8);
            if (st && (ec != std::errc{} || end != m.data() + m.size() || mode > 0777))
                st = invalid("--socket-mode must be an octal mode such as 0660 (got " + m + ")");
            else if (st && (mode & 007) != 0)
                st = invalid("--socket-mode must not let other users connect (got " + m +
                             "): give the web server's group access with --socket-group");
            if (st) o.socket_mode = mode;
        } else if (arg == "--socket-group") {
            st = value(o.socket_group);
        } else if (arg == "--trusted-peer") {
            std::string peer;
            st = value(peer);
            in_addr addr{};
            if (st && inet_pton(AF_INET, peer.c_str(), &addr) != 1)
                st = invalid("--trusted-peer must be an IPv4 address (got " + peer + ")");
            if (st) o.trusted_peers.push_back(peer);
        } else if (arg == "--metrics-path") {
            st = value(o.metrics_path);
            if (st && !is_metrics_path(o.metrics_path))
                st = invalid("--metrics-path must be a URL path such as /metrics (printable, "
                             "no '?', '#' or '%'; got " + o.metrics_path + ")");
        } else if (arg == "--allow-core-dumps") {
            o.allow_core_dumps = true;
        } else if (arg == "--wire") {
            std::string w;
            st = value(w);
            if (st && w == "gvx") o.wire = Wire::gvx;
            else if (st && w == "better-auth") o.wire = Wire::better_auth;
            else if (st) st = invalid("--wire must be gvx or better-auth (got " + w + ")");
        } else if (arg == "--session-cookie") {
            std::string c;
            st = value(c);
            if (st && c == "both") o.session_cookie = SessionCookie::both;
            else if (st && c == "secure") o.session_cookie = SessionCookie::secure;
            else if (st && c == "plain") o.session_cookie = SessionCookie::plain;
            else if (st)
                st = invalid("--session-cookie must be both, secure or plain (got " + c + ")");
        } else if (arg == "--backlog") {
            std::string n;
            st = value(n);
            if (st) {
                auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), o.backlog);
                if (ec != std::errc{} || end != n.data() + n.size() || o.backlog < 1)
                    st = invalid("--backlog must be a positive number");
            }
        } else if (arg == "--threads") {
            std::string n;
            st = value(n);
            if (st) {
                auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), o.threads);
                if (ec != std::errc{} || end != n.data() + n.size() || o.threads < 1 ||
                    o.threads > 256)
                    st = invalid("--threads must be a number from 1 to 256");
            }
        } else {
            st = invalid("unknown option " + std::string(arg) + " (see --help)");
        }
        if (!st) return std::move(st).error();
    }
    if (!o.help && !o.version && o.db_path.empty())
        return invalid("--db PATH is required (see --help)");
    if (!o.purge && (o.dry_run || o.pace)) return invalid("--dry-run and --pace go with --purge");
    if (!o.metrics_path.empty() && (o.metrics_path == o.api_base ||
                                    o.metrics_path.rfind(o.api_base + "/", 0) == 0))
        return invalid("--metrics-path must be outside --api-base " + o.api_base);
    return o;
}

Result<SecretString> read_secret_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return invalid("cannot read --session-secret-file " + path);
    SecretString secret;
    secret.buffer().reserve(4096);
    secret.buffer().assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::string& s = secret.buffer();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty()) return invalid("--session-secret-file " + path + " is empty");
    return secret;
}

}  // namespace gvx::fcgi
