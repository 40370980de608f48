// The accept loop both baseline responders share: libfcgi's reentrant API on a socket of their
// own (--listen 127.0.0.1:PORT), ending cleanly on SIGTERM, as gvx-fcgi does.
#pragma once

#include <fcgiapp.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace bench {

extern "C" inline void on_bench_shutdown(int) { FCGX_ShutdownPending(); }

// Calls handle(request) for each request until SIGTERM. Returns the process exit code.
template <class Handle>
int serve(const std::string& listen, Handle&& handle) {
    struct sigaction sa {};
    sa.sa_handler = on_bench_shutdown;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: accept() must return so the loop can end
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client gone mid-answer must not end the process
    if (FCGX_Init() != 0) return 1;
    const int fd = FCGX_OpenSocket(listen.c_str(), 128);
    if (fd < 0) {
        std::fprintf(stderr, "cannot listen on %s\n", listen.c_str());
        return 1;
    }
    FCGX_Request request;
    FCGX_InitRequest(&request, fd, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        handle(request);
        FCGX_Finish_r(&request);
    }
    FCGX_Free(&request, 1);
    return 0;
}

inline void put(FCGX_Request& r, std::string_view s) {
    FCGX_PutStr(s.data(), static_cast<int>(s.size()), r.out);
}

}  // namespace bench
