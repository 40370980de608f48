// Child processes and pipes for the git side of push protection: file descriptors and
// children are owned (closed, killed and reaped when they go), reads have a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace gvx::push {

using Clock = std::chrono::steady_clock;

class Fd {
   public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { close(); }

    int get() const { return fd_; }
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void close() noexcept;
    explicit operator bool() const { return fd_ >= 0; }

   private:
    int fd_ = -1;
};

struct Pipe {
    Fd read;
    Fd write;
};
// A pipe whose ends close on exec (a child gets only the end it is given).
Result<Pipe> make_pipe();

// A running program; killed (SIGKILL) and reaped if still running when this goes.
class Child {
   public:
    // argv[0] is looked up on PATH. Each of in/out/err is dup'ed to 0/1/2 in the child when
    // not -1 (else the child inherits ours).
    static Result<Child> spawn(const std::vector<std::string>& argv, int in, int out,
                               int err = -1);
    Child(Child&& o) noexcept : pid_(o.pid_), name_(std::move(o.name_)) { o.pid_ = -1; }
    Child& operator=(Child&&) = delete;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() { kill(); }

    // Waits for the exit; an error unless it exited with 0.
    Status wait();
    void kill() noexcept;

   private:
    Child(pid_t pid, std::string name) : pid_(pid), name_(std::move(name)) {}
    pid_t pid_ = -1;
    std::string name_;
};

// Reads from a pipe, failing once the deadline has passed.
class Reader {
   public:
    Reader(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}
    // Up to n bytes into out; 0 at the end of the stream.
    Result<std::size_t> read_some(char* out, std::size_t n);
    // One line without its '\n'; false at the end of the stream.
    Result<bool> read_line(std::string& line);
    // Exactly n bytes, handed to sink in pieces of at most the buffer's size.
    template <class Sink>
    Status read_exact(std::uint64_t n, Sink&& sink);

   private:
    Status fill();
    int fd_;
    Clock::time_point deadline_;
    std::vector<char> buf_ = std::vector<char>(64 * 1024);
    std::size_t pos_ = 0;
    std::size_t len_ = 0;
};

// Writes all bytes; false if the reader went away.
bool write_all(int fd, std::string_view bytes);

Error timed_out();

template <class Sink>
Status Reader::read_exact(std::uint64_t n, Sink&& sink) {
    while (n > 0) {
        if (pos_ == len_) {
            if (auto st = fill(); !st) return st;
            if (len_ == 0) return Error{Errc::db, "git's output ended early"};
        }
        const std::size_t take = static_cast<std::size_t>(
            std::min<std::uint64_t>(n, static_cast<std::uint64_t>(len_ - pos_)));
        sink(std::string_view(buf_.data() + pos_, take));
        pos_ += take;
        n -= take;
    }
    return Ok{};
}

}  // namespace gvx::push
