#include "push/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace gvx::push {

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = o.release();
    }
    return *this;
}

void Fd::close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

Result<Pipe> make_pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return Error{Errc::db, std::string("cannot create a pipe: ") + std::strerror(errno)};
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

Error timed_out() { return Error{Errc::busy, "the scan took longer than its time limit"}; }

Result<Child> Child::spawn(const std::vector<std::string>& argv, int in, int out, int err) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 clears close-on-exec on the copy, so the child keeps exactly 0, 1 and 2.
    if (in >= 0) posix_spawn_file_actions_adddup2(&actions, in, 0);
    if (out >= 0) posix_spawn_file_actions_adddup2(&actions, out, 1);
    if (err >= 0) posix_spawn_file_actions_adddup2(&actions, err, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    const std::string name = argv.size() > 1 ? argv[0] + " " + argv[1] : argv[0];
    if (rc != 0) return Error{Errc::db, "cannot run " + name + ": " + std::strerror(rc)};
    return Child(pid, name);
}

Status Child::wait() {
    if (pid_ < 0) return Ok{};
    int status = 0;
    pid_t r;
    do {
        r = waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    pid_ = -1;
    if (r < 0) return Error{Errc::db, name_ + ": " + std::strerror(errno)};
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok{};
    if (WIFEXITED(status))
        return Error{Errc::db, name_ + " failed (exit " + std::to_string(WEXITSTATUS(status)) + ")"};
    return Error{Errc::db, name_ + " was killed by signal " + std::to_string(WTERMSIG(status))};
}

void Child::kill() noexcept {
    if (pid_ < 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

Status Reader::fill() {
    pos_ = len_ = 0;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline_ - Clock::now())
                              .count();
        if (left <= 0) return timed_out();
        pollfd p{fd_, POLLIN, 0};
        const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1'000'000)));
        if (ready < 0 && errno != EINTR)
            return Error{Errc::db, std::string("poll: ") + std::strerror(errno)};
        if (ready <= 0) continue;
        const ssize_t n = ::read(fd_, buf_.data(), buf_.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) return Error{Errc::db, std::string("read: ") + std::strerror(errno)};
        len_ = static_cast<std::size_t>(n);
        return Ok{};
    }
}

Result<std::size_t> Reader::read_some(char* out, std::size_t n) {
    if (pos_ == len_) {
        if (auto st = fill(); !st) return std::move(st).error();
    }
    const std::size_t take = std::min(n, len_ - pos_);
    std::memcpy(out, buf_.data() + pos_, take);
    pos_ += take;
    return take;
}

Result<bool> Reader::read_line(std::string& line) {
    line.clear();
    for (;;) {
        if (pos_ == len_) {
            if (auto st = fill(); !st) return std::move(st).error();
            if (len_ == 0) return !line.empty();
        }
        const char* start = buf_.data() + pos_;
        const void* nl = std::memchr(start, '\n', len_ - pos_);
        if (nl) {
            const auto n = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
            line.append(start, n);
            pos_ += n + 1;
            return true;
        }
        line.append(start, len_ - pos_);
        pos_ = len_;
    }
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace gvx::push
