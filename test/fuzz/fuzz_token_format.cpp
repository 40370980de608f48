// Fuzz target: the token format checks on hostile strings (ext/core/token.hpp):
// has_gvx_format, token_start, is_valid_utf8, count_code_points, hash_key, is_valid_prefix.
// Each is compared with an independent reference written here, and a token built from the
// input with a correct checksum must pass the format check while a corrupted one must not.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/token.hpp"
#include "fuzz_common.hpp"

namespace {

bool ref_base62(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool ref_prefix_char(unsigned char c) { return ref_base62(c) || c == '_' || c == '-'; }

// RFC 3629 section 4, byte ranges per sequence: a different algorithm from the code's.
bool ref_utf8(std::string_view s, std::size_t* code_points) {
    std::size_t i = 0, n = 0;
    auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
        if (i + k >= s.size()) return false;
        const auto c = static_cast<unsigned char>(s[i + k]);
        return c >= lo && c <= hi;
    };
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        if (c <= 0x7F) len = 1;
        else if (c >= 0xC2 && c <= 0xDF) len = in(1, 0x80, 0xBF) ? 2 : 0;
        else if (c == 0xE0) len = in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
        else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
            len = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
        else if (c == 0xED) len = in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
        else if (c == 0xF0) len = in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
        else if (c >= 0xF1 && c <= 0xF3)
            len = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
        else if (c == 0xF4) len = in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
        if (len == 0) return false;
        i += len;
        ++n;
    }
    *code_points = n;
    return true;
}

bool ref_gvx_format(std::string_view t) {
    if (t.size() < gvx::kBodyLength + 1 || t.size() > gvx::kBodyLength + gvx::kMaxPrefixLength)
        return false;
    const std::size_t p = t.size() - gvx::kBodyLength;
    for (std::size_t i = 0; i < t.size(); ++i) {
        const auto c = static_cast<unsigned char>(t[i]);
        if (i < p ? !ref_prefix_char(c) : !ref_base62(c)) return false;
    }
    const std::string_view signed_part = t.substr(0, t.size() - gvx::kChecksumLength);
    return gvx::checksum62(signed_part) == t.substr(signed_part.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    GVX_FUZZ_CHECK(gvx::has_gvx_format(in) == ref_gvx_format(in));

    const std::string start = gvx::token_start(in);
    GVX_FUZZ_CHECK(start.size() == std::min(in.size(), gvx::kStartLength));
    for (std::size_t i = 0; i < start.size(); ++i) {
        const auto c = static_cast<unsigned char>(in[i]);
        GVX_FUZZ_CHECK(start[i] == (ref_prefix_char(c) ? in[i] : '?'));
    }

    std::size_t ref_count = 0;
    const bool valid = gvx::is_valid_utf8(in);
    GVX_FUZZ_CHECK(valid == ref_utf8(in, &ref_count));
    if (valid) GVX_FUZZ_CHECK(gvx::count_code_points(in) == ref_count);

    const std::string key = gvx::hash_key(in);
    GVX_FUZZ_CHECK(key.size() == gvx::kKeyHashLength);
    for (unsigned char c : key) GVX_FUZZ_CHECK(ref_base62(c) || c == '-' || c == '_');

    bool prefix_ok = !in.empty() && in.size() <= gvx::kMaxPrefixLength;
    for (unsigned char c : in) prefix_ok = prefix_ok && ref_prefix_char(c);
    GVX_FUZZ_CHECK(gvx::is_valid_prefix(in) == prefix_ok);

    // A token of gvx's shape built from the input: prefix from the first bytes, body from the
    // rest, checksum computed. It must pass; changing one checksum character must fail it.
    static constexpr char kAlphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
    std::string token;
    const std::size_t prefix_len = 1 + (size ? data[0] % gvx::kMaxPrefixLength : 0);
    for (std::size_t i = 0; i < prefix_len; ++i) token.push_back(kAlphabet[i < size ? data[i] % 64 : 0]);
    for (std::size_t i = 0; i < gvx::kRandomLength; ++i) {
        const std::size_t k = prefix_len + i;
        token.push_back(kAlphabet[k < size ? data[k] % 62 : 0]);
    }
    token += gvx::checksum62(token);
    GVX_FUZZ_CHECK(token.size() == prefix_len + gvx::kBodyLength);
    GVX_FUZZ_CHECK(gvx::has_gvx_format(token));
    token.back() = token.back() == '0' ? '1' : '0';
    GVX_FUZZ_CHECK(!gvx::has_gvx_format(token));
    return 0;
}
