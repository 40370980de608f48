#include "worker_pool.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gvx::fcgi {
namespace {

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

void accept_and_handle(int listen_fd, std::mutex& accept_mutex, Worker& self,
                       pthread_t waiter, const std::function<void(FCGX_Request&)>& handle) {
    FCGX_Request request;
    FCGX_InitRequest(&request, listen_fd, 0);
    for (;;) {
        int rc;
        {
            // One thread in accept() at a time, as libfcgi's threaded example does.
            std::lock_guard lock(accept_mutex);
            if (stop_requested) break;
            self.accepting = true;
            rc = FCGX_Accept_r(&request);
            self.accepting = false;
        }
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

    std::mutex accept_mutex;
    std::vector<std::unique_ptr<Worker>> workers;
    const pthread_t waiter = pthread_self();
    for (int i = 0; i < (threads < 1 ? 1 : threads); ++i) {
        auto w = std::make_unique<Worker>();
        Worker& self = *w;
        w->thread = std::thread(
            [&, listen_fd] { accept_and_handle(listen_fd, accept_mutex, self, waiter, handle); });
        workers.push_back(std::move(w));
    }

    while (!stop_requested) {
        int sig = 0;
        sigwait(&stops, &sig);
        request_stop();
    }
    // The thread in accept() may be blocked there for good: wake it until every thread is done
    // (a wake-up that lands just before accept() is lost, so it is sent again).
    for (;;) {
        bool all_finished = true;
        for (auto& w : workers) {
            if (w->finished) continue;
            all_finished = false;
            if (w->accepting) pthread_kill(w->thread.native_handle(), SIGRTMIN);
        }
        if (all_finished) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& w : workers) w->thread.join();
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

}  // namespace gvx::fcgi
