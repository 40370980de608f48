// gvx-fcgi's command line (SPEC §10); `gvx-fcgi --help` prints kUsage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace gvx::fcgi {

// The shapes the token API answers in: gvx's documented ones (README "HTTP API"), or
// better-auth 1.4.9's (wire_better_auth.hpp) for clients written against better-auth.
enum class Wire { gvx, better_auth };

// Which better-auth session cookie names are read. better-auth with secure cookies (an https
// baseURL, or useSecureCookies as Gitflare sets it) reads only the __Secure- one.
enum class SessionCookie { both, secure, plain };

struct Options {
    std::string db_path;
    std::string listen;  // HOST:PORT or a socket path; empty: the socket on fd 0
    bool trust_remote_user = false;
    std::string session_secret_file;
    std::vector<std::string> trusted_origins;  // scheme://host[:port], compared exactly
    std::string realm = "gvx";
    std::string api_base = "/api/auth/api-key";
    bool strict_username = false;  // require the Basic username to name the token's owner
    // Where repositories live in the URL space: /git/alice/project.git is repo:alice/project.
    std::string git_root = "/git/";
    Wire wire = Wire::gvx;
    SessionCookie session_cookie = SessionCookie::both;
    int backlog = 128;
    int threads = 0;  // request threads (--threads); 0: 8 on SQLite, 1 on PostgreSQL
    unsigned socket_mode = 0660;            // --socket-mode: a Unix socket gvx-fcgi creates
    std::string socket_group;               // --socket-group: its group (name or number)
    std::vector<std::string> trusted_peers; // --trusted-peer: IPv4 addresses allowed on TCP
    bool allow_core_dumps = false;
    // --metrics-path: where Prometheus' text is answered (GET); empty: nowhere (the default).
    std::string metrics_path;
    bool help = false;
    // --purge: run the cleanup once and exit (gvx-cleanup does this for PostgreSQL).
    bool purge = false;
    bool dry_run = false;
    std::optional<std::int64_t> pace;  // pause ratio; unset: gvx_config's
    bool version = false;
};

extern const char* const kUsage;

Result<Options> parse_options(int argc, char** argv);

// The secret from --session-secret-file, without a trailing newline.
Result<SecretString> read_secret_file(const std::string& path);

}  // namespace gvx::fcgi
