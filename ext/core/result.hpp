// Errors as values: Result<T> carries either a T or an Error. Messages never contain secrets.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace gvx {

enum class Errc {
    invalid_argument,  // caller's input is malformed (HTTP 400, SQL error)
    not_found,         // no such token for this caller (HTTP 404)
    busy,              // database locked past its timeout (HTTP 503)
    db,                // any other database failure (HTTP 500)
    crypto,            // libsodium failure (HTTP 500)
};

struct Error {
    Errc code;
    std::string message;  // safe to show a user: no token, no SQL
    int sqlite_rc = 0;
};

template <class T>
class [[nodiscard]] Result {
   public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error err) : v_(std::move(err)) {}
    explicit operator bool() const noexcept { return v_.index() == 0; }
    T& operator*() & { return std::get<0>(v_); }
    const T& operator*() const& { return std::get<0>(v_); }
    T&& operator*() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

   private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

inline Error invalid(std::string message) {
    return Error{Errc::invalid_argument, std::move(message)};
}

}  // namespace gvx
