#include "credentials.hpp"

#include <sodium.h>

#include <array>

#include "request.hpp"

namespace gvx::fcgi {
namespace {

bool starts_with_scheme(std::string_view header, std::string_view scheme) {
    if (header.size() <= scheme.size() || header[scheme.size()] != ' ') return false;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        const char a = static_cast<char>(header[i] | 0x20);  // ASCII case-insensitive
        if (a != scheme[i]) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::array<unsigned char, crypto_auth_hmacsha256_BYTES> hmac(std::string_view value,
                                                             std::string_view secret) {
    crypto_auth_hmacsha256_state st;
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret.data()),
                                secret.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(value.data()),
                                  value.size());
    crypto_auth_hmacsha256_final(&st, mac.data());
    sodium_memzero(&st, sizeof st);
    return mac;
}

}  // namespace

std::optional<BasicCredentials> parse_basic(std::string_view authorization) {
    if (authorization.size() > kMaxCredentialBytes * 2) return std::nullopt;
    if (!starts_with_scheme(authorization, "basic")) return std::nullopt;
    const std::string_view b64 = trim(authorization.substr(6));
    if (b64.empty()) return std::nullopt;
    SecretString decoded;
    std::string& buf = decoded.buffer();
    buf.resize(b64.size());  // decoded is always shorter
    std::size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(buf.data()), buf.size(), b64.data(),
                          b64.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return std::nullopt;
    const std::string_view plain(buf.data(), len);
    const std::size_t colon = plain.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    if (plain.find('\0') != std::string_view::npos) return std::nullopt;
    BasicCredentials c;
    c.username = std::string(plain.substr(0, colon));
    c.password.buffer().reserve(plain.size() - colon);
    c.password.buffer().append(plain.substr(colon + 1));
    return c;
}

std::optional<std::string_view> parse_bearer(std::string_view authorization) {
    if (!starts_with_scheme(authorization, "bearer")) return std::nullopt;
    const std::string_view token = trim(authorization.substr(7));
    if (token.empty()) return std::nullopt;
    return token;
}

TokenCredential token_from_basic(const BasicCredentials& c) {
    const std::string_view password = c.password.view();
    if (password.empty() || password == "x-oauth-basic") return {c.username, {}};
    return {password, c.username};
}

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        const std::size_t semi = header.find(';');
        const std::string_view pair = trim(header.substr(0, semi));
        const std::size_t eq = pair.find('=');
        if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
            std::string_view value = trim(pair.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return value;
        }
        if (semi == std::string_view::npos) break;
        header.remove_prefix(semi + 1);
    }
    return std::nullopt;
}

std::string sign_cookie_value(std::string_view value, std::string_view secret) {
    const auto mac = hmac(value, secret);
    constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
    std::string out(sodium_base64_ENCODED_LEN(mac.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), mac.data(), mac.size(), kVariant);
    out.pop_back();  // the NUL
    return out;
}

std::optional<SecretString> verify_signed_cookie(std::string_view cookie_value,
                                                 std::string_view secret) {
    if (cookie_value.size() > kMaxCredentialBytes || secret.empty()) return std::nullopt;
    auto decoded = percent_decode(cookie_value);
    if (!decoded) return std::nullopt;
    SecretString plain(*decoded);
    sodium_memzero(decoded->data(), decoded->size());
    const std::string_view v = plain.view();
    const std::size_t dot = v.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return std::nullopt;
    const std::string_view token = v.substr(0, dot);
    const std::string_view signature = v.substr(dot + 1);
    const std::string expected = sign_cookie_value(token, secret);
    if (signature.size() != expected.size() ||
        sodium_memcmp(signature.data(), expected.data(), expected.size()) != 0)
        return std::nullopt;
    return SecretString(token);
}

}  // namespace gvx::fcgi
