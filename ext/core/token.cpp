#include "core/token.hpp"

#include <sodium.h>

#include <array>

namespace gvx {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

constexpr std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr auto kCrcTable = make_crc_table();

bool is_base62(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

std::string random_base62(std::size_t n) {
    std::string out;
    out.reserve(n);
    std::array<unsigned char, 64> pool{};
    while (out.size() < n) {
        randombytes_buf(pool.data(), pool.size());
        for (unsigned char b : pool) {
            // 248 = 4 * 62: bytes at or above it would favour the first characters.
            if (b < 248 && out.size() < n) out.push_back(kBase62[b % 62]);
        }
    }
    sodium_memzero(pool.data(), pool.size());
    return out;
}

std::uint32_t crc32(std::string_view bytes) { return crc32_extend(0, bytes); }

std::uint32_t crc32_extend(std::uint32_t crc, std::string_view more) {
    std::uint32_t c = crc ^ 0xFFFFFFFFU;
    for (unsigned char b : more) c = kCrcTable[(c ^ b) & 0xFFU] ^ (c >> 8);
    return c ^ 0xFFFFFFFFU;
}

std::string checksum62(std::string_view text) {
    std::uint32_t value = crc32(text);
    std::string out(kChecksumLength, '0');
    for (std::size_t i = kChecksumLength; i-- > 0 && value != 0;) {
        out[i] = kBase62[value % 62];
        value /= 62;
    }
    return out;  // 62^6 > 2^32, so six digits always suffice
}

std::optional<std::uint32_t> checksum_value(std::string_view checksum) {
    if (checksum.size() != kChecksumLength) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : checksum) {
        const std::size_t digit = kBase62.find(c);
        if (digit == std::string_view::npos) return std::nullopt;
        value = value * 62 + digit;
    }
    if (value > 0xFFFFFFFFU) return std::nullopt;
    return static_cast<std::uint32_t>(value);
}

bool is_valid_prefix(std::string_view prefix) {
    if (prefix.empty() || prefix.size() > kMaxPrefixLength) return false;
    for (char c : prefix) {
        if (!is_base62(c) && c != '_' && c != '-') return false;
    }
    return true;
}

Error prefix_error() {
    return invalid_field("prefix", "must match " + std::string(kPrefixPattern));
}

Result<SecretString> generate_token(std::string_view prefix) {
    if (!is_valid_prefix(prefix)) return prefix_error();
    SecretString token;
    std::string& t = token.buffer();
    t.reserve(prefix.size() + kBodyLength);
    t.append(prefix);
    std::string random = random_base62(kRandomLength);
    t.append(random);
    sodium_memzero(random.data(), random.size());
    t.append(checksum62(t));
    return token;
}

std::string hash_key(std::string_view token) {
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(token.data()),
                       token.size());
    constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(digest.size(), kVariant), '\0');  // includes NUL
    sodium_bin2base64(out.data(), out.size(), digest.data(), digest.size(), kVariant);
    out.pop_back();
    return out;
}

std::string random_id() { return random_base62(kIdLength); }

bool has_gvx_format(std::string_view token) {
    if (token.size() <= kBodyLength) return false;
    const std::string_view prefix = token.substr(0, token.size() - kBodyLength);
    const std::string_view body = token.substr(prefix.size());
    if (!is_valid_prefix(prefix)) return false;
    for (char c : body) {
        if (!is_base62(c)) return false;
    }
    const std::string_view signed_part = token.substr(0, token.size() - kChecksumLength);
    return checksum62(signed_part) == token.substr(signed_part.size());
}

std::string token_start(std::string_view token) {
    std::string out(token.substr(0, kStartLength));
    for (char& c : out) {
        if (!is_base62(c) && c != '_' && c != '-') c = '?';
    }
    return out;
}

bool has_token_shape(std::string_view text) {
    constexpr std::size_t kBody = 64;
    if (text.size() < kBody || text.size() > kBody + kMaxPrefixLength) return false;
    const std::size_t prefix = text.size() - kBody;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (!is_base62(c) && (i >= prefix || (c != '_' && c != '-'))) return false;
    }
    return true;
}

std::string credential_start(std::string_view credential) {
    return has_token_shape(credential) ? token_start(credential) : std::string();
}

bool is_valid_utf8(std::string_view s) {
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1FU;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0FU;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07U;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3FU);
        }
        // Reject overlong forms, surrogates and values past U+10FFFF.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        i += len;
    }
    return true;
}

std::size_t count_code_points(std::string_view valid_utf8) {
    std::size_t count = 0;
    for (char c : valid_utf8) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
    }
    return count;
}

}  // namespace gvx
