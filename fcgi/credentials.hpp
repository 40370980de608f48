// Parsers for the credentials a client sends: HTTP Basic, Bearer, and better-auth's signed
// session cookie. Pure functions over strings (fuzzed in test/fuzz); nothing here logs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/secret.hpp"

namespace gvx::fcgi {

inline constexpr std::size_t kMaxCredentialBytes = 1024;

struct BasicCredentials {
    std::string username;
    SecretString password;
};

// "Basic base64(user:password)" with strict standard base64; nullopt when malformed.
std::optional<BasicCredentials> parse_basic(std::string_view authorization);

// "Bearer <token>"; nullopt otherwise.
std::optional<std::string_view> parse_bearer(std::string_view authorization);

// Which part of Basic credentials is the token: the password, or the username when the
// password is empty or "x-oauth-basic" (GitHub's convention). claimed_user is the username the
// client typed when the token is the password (empty otherwise).
struct TokenCredential {
    std::string_view token;
    std::string_view claimed_user;
};
TokenCredential token_from_basic(const BasicCredentials& c);

// The raw value of cookie `name` in a Cookie header; nullopt when absent.
std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name);

// better-auth's signed cookie value: URL-encoded "<token>.<base64 HMAC-SHA256(secret, token)>".
// Returns the session token when the signature is right (checked in constant time).
std::optional<SecretString> verify_signed_cookie(std::string_view cookie_value,
                                                 std::string_view secret);

// The signature better-auth would compute, for tests and tools: base64(HMAC-SHA256).
std::string sign_cookie_value(std::string_view value, std::string_view secret);

}  // namespace gvx::fcgi
