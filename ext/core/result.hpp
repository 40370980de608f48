// Errors as values: Result<T> carries either a T or an Error. Messages never contain secrets.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gvx {

enum class Errc {
    invalid_argument,  // caller's input is malformed (HTTP 400, SQL error)
    not_found,         // no such token for this caller (HTTP 404)
    too_many_tokens,   // the user has max_tokens_per_user live tokens (HTTP 400)
    unknown_user,      // a token for a user id that better-auth's user table lacks (HTTP 403)
    busy,              // database locked past its timeout (HTTP 503)
    db,                // any other database failure (HTTP 500)
    crypto,            // libsodium failure (HTTP 500)
};

struct Error {
    Errc code;
    std::string message;  // safe to show a user: no token, no SQL
    int sqlite_rc = 0;
    // For invalid_argument: the field at fault, as SQL names it ("expires_at"); the message
    // starts with it. Front ends that name fields differently rename it (fcgi/responses.cpp).
    std::string field = {};
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

// An invalid_argument error about one field: "<field> <problem>".
inline Error invalid_field(std::string field, std::string_view problem) {
    std::string message = field;
    message.append(" ").append(problem);
    return Error{Errc::invalid_argument, std::move(message), 0, std::move(field)};
}

// Propagation without ceremony, in functions returning Result<U> or Status:
//   GVX_TRY(store.prepare());                        // returns the error, if any
//   GVX_TRY_VALUE(const Config cfg, store.config()); // declares cfg from the value
// GVX_TRY_VALUE is several statements: write it as a statement of its own (braces under an if).
#define GVX_TRY(expr)                                                   \
    do {                                                                \
        if (auto gvx_try_result_ = (expr); !gvx_try_result_)            \
            return std::move(gvx_try_result_).error();                  \
    } while (false)

#define GVX_TRY_CAT_(a, b) a##b
#define GVX_TRY_CAT(a, b) GVX_TRY_CAT_(a, b)
#define GVX_TRY_VALUE_(tmp, decl, expr)                 \
    auto tmp = (expr);                                  \
    if (!tmp) return std::move(tmp).error();            \
    decl = std::move(*tmp)
#define GVX_TRY_VALUE(decl, expr) GVX_TRY_VALUE_(GVX_TRY_CAT(gvx_try_value_, __LINE__), decl, expr)

}  // namespace gvx
