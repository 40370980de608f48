// Shared by the fuzz targets: splitting an input into fields, and invariant checks that abort
// (a libFuzzer finding, or a failed regression test when replaying the corpus).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace gvx::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what) {
    std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
    std::fflush(stderr);
    std::abort();
}

#define GVX_FUZZ_CHECK(cond)                                             \
    do {                                                                 \
        if (!(cond)) ::gvx::fuzz::fail(__FILE__, __LINE__, #cond);       \
    } while (0)

// Reads '\n'-terminated fields off the front of the input; the rest is the tail (a body).
// Missing fields are empty, so every input is usable.
class Fields {
   public:
    Fields(const std::uint8_t* data, std::size_t size)
        : rest_(reinterpret_cast<const char*>(data), size) {}

    std::string_view next() {
        const std::size_t nl = rest_.find('\n');
        const std::string_view field = rest_.substr(0, nl);
        rest_ = nl == std::string_view::npos ? std::string_view() : rest_.substr(nl + 1);
        return field;
    }
    std::string_view rest() const { return rest_; }

   private:
    std::string_view rest_;
};

inline bool contains(std::string_view haystack, std::string_view needle) {
    return !needle.empty() && haystack.find(needle) != std::string_view::npos;
}

// Percent-encodes every byte, so decoding gives the bytes back exactly.
inline std::string percent_encode_all(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    return out;
}

}  // namespace gvx::fuzz
