// Fuzz target: the CGI parameters gvx-fcgi parses itself (fcgi/request.hpp): CONTENT_LENGTH
// (parse_length), QUERY_STRING (query_param) and percent_decode, plus serialize_head over
// the strings a response may carry. Compared with references and round trips.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "request.hpp"

namespace {

std::optional<std::size_t> ref_length(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;  // 19 digits always fit in 64 bits
    std::size_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    return n;
}

int ref_hex(char c) {
    const std::string_view digits = "0123456789abcdef";
    const char lower = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    const std::size_t i = digits.find(lower);
    return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

std::optional<std::string> ref_decode(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        if (s[i] != '%') {
            out += s[i++];
            continue;
        }
        if (s.size() - i < 3 || ref_hex(s[i + 1]) < 0 || ref_hex(s[i + 2]) < 0)
            return std::nullopt;
        out += static_cast<char>(ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2]));
        i += 3;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gvx::fcgi;
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    GVX_FUZZ_CHECK(parse_length(in) == ref_length(in));

    const auto decoded = percent_decode(in);
    GVX_FUZZ_CHECK(decoded == ref_decode(in));
    const auto round_trip = percent_decode(gvx::fuzz::percent_encode_all(in));
    GVX_FUZZ_CHECK(round_trip && *round_trip == in);

    // The input as a whole query string, for the names the API reads.
    for (std::string_view name : {"id", "limit", ""}) {
        const auto v = query_param(in, name);
        if (v) GVX_FUZZ_CHECK(v->size() <= in.size());
    }
    // The input as the value of id among other parameters comes back exactly.
    const std::string query = "x=1&idx=2&id=" + gvx::fuzz::percent_encode_all(in) + "&id=other";
    const auto id = query_param(query, "id");
    GVX_FUZZ_CHECK(id && *id == in);

    // The first line as a header value: the head stays well formed (one Status line first,
    // one blank line at the end).
    Response r;
    r.status = size ? 100 + data[0] : 200;
    r.body = std::string(in);
    const std::string head = serialize_head(r);
    GVX_FUZZ_CHECK(head.rfind("Status: ", 0) == 0);
    GVX_FUZZ_CHECK(head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0);
    GVX_FUZZ_CHECK(head.find("\r\n\r\n") == head.size() - 4);
    return 0;
}
