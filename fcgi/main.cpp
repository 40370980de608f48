// gvx-fcgi: the FastCGI program. One database connection per process, shared by --threads
// request threads (worker_pool.hpp); verifications in flight together share a commit
// (group_commit.hpp). Web servers may run several processes too.
#include <fcgiapp.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "api.hpp"
#include "authorizer.hpp"
#include "backend.hpp"
#include "cgi_env.hpp"
#include "context.hpp"
#include "group_commit.hpp"
#include "listener.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "process_guard.hpp"
#include "request.hpp"
#include "request_log.hpp"
#include "worker_pool.hpp"

namespace gvx::fcgi {
namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool is_authorization(const Request& req) {
    return req.role == "AUTHORIZER" || req.mode == "authorize";
}

// The request's parameters come first; its body is read from libfcgi's input stream only once
// the API knows the caller (an authorization never reads one).
Response dispatch(Request& req, FCGX_Request& fr, Context& ctx) {
    if (is_authorization(req)) return authorize(req, ctx);
    if (!ctx.options.metrics_path.empty() && req.path == ctx.options.metrics_path)
        return metrics::respond(req);
    return handle_api(req, ctx, [&](char* into, std::size_t n) -> std::size_t {
        const int got = FCGX_GetStr(into, static_cast<int>(n), fr.in);
        return got < 0 ? 0 : static_cast<std::size_t>(got);
    });
}


void write_response(FCGX_Request& fr, Response& r) {
    const std::string head = serialize_head(r);
    FCGX_PutStr(head.data(), static_cast<int>(head.size()), fr.out);
    FCGX_PutStr(r.body.data(), static_cast<int>(r.body.size()), fr.out);
    sodium_memzero(r.body.data(), r.body.size());  // a create response holds the token
}

// Our copies of what may hold a secret: a Bearer or Basic token, a session cookie, a password.
void wipe_secrets(Request& r) {
    for (std::string* s : {&r.authorization, &r.cookie, &r.api_key_header, &r.remote_passwd,
                           &r.body})
        sodium_memzero(s->data(), s->size());
}

extern "C" void on_shutdown_signal(int) { request_stop(); }

// sigaction without SA_RESTART, so a pending accept() returns and the loop can end.
void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_shutdown_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    // logrotate and service managers send SIGHUP to reload; gvx-fcgi has nothing to reload
    // (its log is standard error, which the journal or the web server owns).
    signal(SIGHUP, SIG_IGN);
}

bool stdin_is_socket() {
    struct stat st {};
    return fstat(0, &st) == 0 && S_ISSOCK(st.st_mode);
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

int run(int argc, char** argv) {
    auto options = parse_options(argc, argv);
    if (!options) {
        std::fprintf(stderr, "gvx-fcgi: %s\n", options.error().message.c_str());
        return 2;
    }
    if (options->help) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (options->version) {
        std::printf("gvx-fcgi %s (SQLite %s, libsodium %s)\n", GVX_VERSION, sqlite_version(),
                    sodium_version_string());
        return 0;
    }
    // Without --listen the socket comes as standard input; from a shell, that is a terminal
    // or a file, and FastCGI's accept() on it would fail at once.
    if (!options->purge && options->listen.empty() && !stdin_is_socket()) {
        std::fputs("gvx-fcgi: standard input is not a socket: give --listen HOST:PORT or "
                   "--listen PATH, or let a web server, spawn-fcgi or a systemd socket unit "
                   "start gvx-fcgi (see --help)\n",
                   stderr);
        return 2;
    }
    // Before anything is opened: files and sockets private, no core dump.
    guard_process(options->allow_core_dumps);
    std::fputs(close_database_to_others(options->db_path).c_str(), stderr);
    if (sodium_init() < 0) {
        std::fputs("gvx-fcgi: libsodium failed to start\n", stderr);
        return 1;
    }
    SecretString secret;
    if (!options->session_secret_file.empty()) {
        auto s = read_secret_file(options->session_secret_file);
        if (!s) {
            std::fprintf(stderr, "gvx-fcgi: %s\n", s.error().message.c_str());
            return 2;
        }
        secret = std::move(*s);
    }
    if (!options->session_secret_file.empty() && options->trusted_origins.empty())
        std::fputs("gvx-fcgi: warning: --session-secret-file without --trusted-origin: every "
                   "cookie-authenticated change will be refused (403)\n",
                   stderr);
    if (options->purge) return run_purge(*options);
    auto store = open_backend(options->db_path);
    if (!store) {
        std::fprintf(stderr, "gvx-fcgi: %s: %s\n", describe_db(options->db_path).c_str(),
                     store.error().message.c_str());
        return store.error().code == Errc::invalid_argument ? 2 : 1;
    }
    const ListenerOptions lo{.listen = options->listen,
                             .backlog = options->backlog,
                             .socket_mode = static_cast<mode_t>(options->socket_mode),
                             .socket_group = options->socket_group,
                             .trusted_peers = options->trusted_peers,
                             .trust_remote_user = options->trust_remote_user};
    restrict_peers(lo);  // libfcgi reads it in FCGX_Init
    if (FCGX_Init() != 0) {
        std::fputs("gvx-fcgi: FastCGI failed to start\n", stderr);
        return 1;
    }
    auto fd = open_listener(lo);
    if (!fd) {
        std::fprintf(stderr, "gvx-fcgi: %s\n", fd.error().message.c_str());
        return fd.error().code == Errc::invalid_argument ? 2 : 1;
    }
    install_signal_handlers();
    const std::string where = options->listen.empty() ? "standard input" : options->listen;
    log_line("started: gvx-fcgi " GVX_VERSION ", database " + describe_db(options->db_path) +
             ", listening on " + where);
    // The request threads share one store; verifications in flight together share a commit.
    GroupCommitStore shared(**store);
    // Threads pay where verifications share a commit (SQLite). On PostgreSQL the process's one
    // connection is the limit, and threads taking turns on it cost throughput (make bench:
    // 0.90x of the raw responder, 0.96-0.99x with one thread), so one unless --threads says.
    const int threads = options->threads > 0                    ? options->threads
                        : (**store).commits_batches_together() ? 8
                                                                : 1;
    serve_on_threads(*fd, threads, [&](FCGX_Request& fr) {
        const auto started = std::chrono::steady_clock::now();
        GroupCommitStore::View view(shared);  // this request's: its own audit actor
        Context ctx{view, *options, secret.view(), now_ms()};
        Request req = read_request_head(fr.envp);
        Response res = dispatch(req, fr, ctx);
        write_response(fr, res);
        // A body left unread (refused before it was needed) must not be taken for the next
        // request's records on a kept connection.
        if (req.content_length && !req.body_read) fr.keepConnection = 0;
        wipe_secrets(req);
        // Logged before the answer leaves: a client's next request, on another thread, then
        // cannot be logged ahead of this one.
        const double ms = ms_since(started);
        const char* kind = is_authorization(req) ? "auth" : "api";
        log_line(request_log_line(req, res, kind, ms));
        metrics::record_request(kind, res, ms / 1000.0);
        FCGX_Finish_r(&fr);
    });
    const GroupCommitStore::Counts counts = shared.counts();
    log_line("stopped: " + std::to_string(counts.verifications) + " verifications in " +
             std::to_string(counts.batches) + " commits");
    return 0;
}

}  // namespace
}  // namespace gvx::fcgi

int main(int argc, char** argv) { return gvx::fcgi::run(argc, argv); }
