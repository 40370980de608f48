#include "name.hpp"

#include <cstdint>

namespace gvx {
namespace {

// C0 and C1 controls, DEL, and the line and paragraph separators.
bool is_control(std::uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

// Unicode's bidirectional formatting characters (UAX #9): embeddings, overrides, isolates and
// the implicit marks.
bool is_bidi_control(std::uint32_t cp) {
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
           cp == 0x200F || cp == 0x061C;
}

// Code points that draw nothing: white space, zero-width and other default-ignorable
// characters, and the blank fillers that fonts render as empty.
bool is_invisible(std::uint32_t cp) {
    switch (cp) {
        case 0x20: case 0xA0: case 0xAD: case 0x034F: case 0x115F: case 0x1160: case 0x1680:
        case 0x17B4: case 0x17B5: case 0x180E: case 0x202F: case 0x205F: case 0x2800:
        case 0x3000: case 0x3164: case 0xFEFF: case 0xFFA0:
            return true;
        default:
            break;
    }
    return (cp >= 0x2000 && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) ||
           (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0000 && cp <= 0xE0FFF);
}

// The code point starting at s[i] (s is valid UTF-8); advances i past it.
std::uint32_t next_code_point(std::string_view s, std::size_t& i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1FU) : len == 3 ? (c & 0x0FU) : (c & 0x07U);
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3FU);
    i += len;
    return cp;
}

}  // namespace

std::optional<std::string> name_problem(std::string_view valid_utf8) {
    bool visible = false;
    for (std::size_t i = 0; i < valid_utf8.size();) {
        const std::uint32_t cp = next_code_point(valid_utf8, i);
        if (is_control(cp)) return "must not contain control characters";
        if (is_bidi_control(cp))
            return "must not contain bidirectional formatting characters";
        if (!is_invisible(cp)) visible = true;
    }
    if (!visible) return "must contain a visible character";
    return std::nullopt;
}

}  // namespace gvx
