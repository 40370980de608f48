// gvx-fcgi's request threads: libfcgi's reentrant accept (FCGX_Accept_r) on several threads of
// one process, so a slow client holds one thread, not the process, and verifications in flight
// together can share a commit (group_commit.hpp).
//
// SIGTERM or SIGINT ends the process cleanly: no thread takes a new request, each finishes the
// one it has (a request still waiting on its client after 3 s has its reads and writes
// interrupted, so a stalled client cannot hold the stop), and serve_on_threads returns. The signals are taken by the calling thread
// (sigwait); a request thread waiting in accept() is woken with SIGRTMIN, whose handler only
// tells libfcgi to stop.
#pragma once

#include <fcgiapp.h>

#include <functional>

namespace gvx::fcgi {

// For a SIGTERM/SIGINT handler installed before serve_on_threads runs (async-signal-safe):
// serve_on_threads then returns at once.
void request_stop() noexcept;

// Calls handle(request) for each request accepted on listen_fd, on `threads` threads (at least
// one); handle answers and finishes the request (FCGX_Finish_r). Returns once every thread has
// stopped, after SIGTERM/SIGINT or when accepting fails.
void serve_on_threads(int listen_fd, int threads,
                      const std::function<void(FCGX_Request&)>& handle);

}  // namespace gvx::fcgi
