#include "worker_pool.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace gvx::fcgi {
namespace {

// How long SIGTERM waits for the requests in progress before it interrupts their I/O.
constexpr std::chrono::seconds kInFlightGrace{3};

std::atomic<bool> stop_requested{false};  // lock-free: set from signal handlers too

extern "C" void on_wake_signal(int) { FCGX_ShutdownPending(); }

struct Worker {
    std::thread thread;
    std::atomic<bool> accepting{false};  // inside FCGX_Accept_r, perhaps blocked in accept()
    std::atomic<bool> finished{false};
};

sigset_t stop_signals() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGINT);
    return s;
}

void accept_and_handle(int listen_fd, Worker& self, pthread_t waiter,
                       const std::function<void(FCGX_Request&)>& handle) {
    FCGX_Request request;
    FCGX_InitRequest(&request, listen_fd, 0);
    for (;;) {
        // No lock around the accept, unlike libfcgi's threaded example: FCGX_Accept_r also
        // reads the request's parameters, so a client that stalls there would hold every
        // thread waiting for the lock. Linux accepts on one socket from many threads.
        if (stop_requested) break;
        self.accepting = true;
        const int rc = FCGX_Accept_r(&request);
        self.accepting = false;
        if (rc < 0) {
            // Stopping, or accepting failed: the whole process ends, as with one thread.
            if (!stop_requested.exchange(true)) pthread_kill(waiter, SIGTERM);
            break;
        }
        handle(request);
    }
    FCGX_Free(&request, 1);
    self.finished = true;
}

}  // namespace

void request_stop() noexcept {
    stop_requested = true;
    FCGX_ShutdownPending();
}

void serve_on_threads(int listen_fd, int threads,
                      const std::function<void(FCGX_Request&)>& handle) {
    // The stop signals wait for sigwait below, in every thread (the request threads inherit
    // the mask); only SIGRTMIN reaches a request thread, to end its accept().
    const sigset_t stops = stop_signals();
    sigset_t before;
    pthread_sigmask(SIG_BLOCK, &stops, &before);
    struct sigaction wake {};
    wake.sa_handler = on_wake_signal;
    sigemptyset(&wake.sa_mask);
    wake.sa_flags = 0;  // no SA_RESTART: accept() returns EINTR
    sigaction(SIGRTMIN, &wake, nullptr);

    std::vector<std::unique_ptr<Worker>> workers;
    const pthread_t waiter = pthread_self();
    for (int i = 0; i < (threads < 1 ? 1 : threads); ++i) {
        auto w = std::make_unique<Worker>();
        Worker& self = *w;
        w->thread = std::thread(
            [&, listen_fd] { accept_and_handle(listen_fd, self, waiter, handle); });
        workers.push_back(std::move(w));
    }

    while (!stop_requested) {
        int sig = 0;
        sigwait(&stops, &sig);
        request_stop();
    }
    // A thread in accept() may be blocked there for good: wake it until every thread is done
    // (a wake-up that lands just before accept() is lost, so it is sent again). A request in
    // progress has kInFlightGrace to finish; then its thread is woken too, which ends a read
    // or write stalled on a slow client (libfcgi gives up on EINTR once stopping).
    const auto stopping_since = std::chrono::steady_clock::now();
    for (;;) {
        const bool past_grace = std::chrono::steady_clock::now() - stopping_since > kInFlightGrace;
        bool all_finished = true;
        for (auto& w : workers) {
            if (w->finished) continue;
            all_finished = false;
            if (w->accepting || past_grace) pthread_kill(w->thread.native_handle(), SIGRTMIN);
        }
        if (all_finished) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& w : workers) w->thread.join();
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

}  // namespace gvx::fcgi
