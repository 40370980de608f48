#include "push/token_finder.hpp"

#include <algorithm>
#include <array>

#include "core/token.hpp"

namespace gvx::push {
namespace {

constexpr std::size_t kSignedBody = kBodyLength - kChecksumLength;     // 58
constexpr std::size_t kLongestToken = kMaxPrefixLength + kBodyLength;  // 96

// For each byte: all ones if it may stand in a token's body (base62), or in a token at all
// (base62, '_', '-'); else zero. Run lengths are then (run + 1) & mask: no branch per byte.
struct Masks {
    std::array<std::uint64_t, 256> base62{};
    std::array<std::uint64_t, 256> token{};
};

constexpr Masks make_masks() {
    Masks m;
    auto set = [&](int c, bool body) {
        m.token[static_cast<std::size_t>(c)] = ~std::uint64_t{0};
        if (body) m.base62[static_cast<std::size_t>(c)] = ~std::uint64_t{0};
    };
    for (int c = '0'; c <= '9'; ++c) set(c, true);
    for (int c = 'A'; c <= 'Z'; ++c) set(c, true);
    for (int c = 'a'; c <= 'z'; ++c) set(c, true);
    set('_', false);
    set('-', false);
    return m;
}
constexpr Masks kMasks = make_masks();

}  // namespace

TokenFinder::TokenFinder(OnToken on_token) : on_token_(std::move(on_token)) {}

TokenFinder::~TokenFinder() {
    // The carried bytes may hold the start of a token.
    std::fill(buf_.begin(), buf_.end(), '\0');
}

void TokenFinder::reset() {
    std::fill(buf_.begin(), buf_.end(), '\0');
    buf_.clear();
    carried_ = 0;
    base_ = 0;
    line_ = 1;
    base62_run_ = 0;
    token_run_ = 0;
    ends_.clear();
}

void TokenFinder::feed(std::string_view bytes) {
    if (bytes.empty()) return;
    buf_.append(bytes);
    ends_.clear();
    // The hot loop: two run lengths per byte. A token can end here only when the last 64
    // characters are base62 and at least one more token character stands before them.
    const auto* data = reinterpret_cast<const unsigned char*>(buf_.data());
    const std::size_t size = buf_.size();
    std::uint64_t b62 = base62_run_;
    std::uint64_t tok = token_run_;
    for (std::size_t i = carried_; i < size; ++i) {
        b62 = (b62 + 1) & kMasks.base62[data[i]];
        tok = (tok + 1) & kMasks.token[data[i]];
        if (b62 >= kBodyLength && tok > kBodyLength) [[unlikely]] {
            // Most 6-character texts write a number of 2^32 or more: not a checksum.
            const std::string_view six(buf_.data() + i + 1 - kChecksumLength, kChecksumLength);
            if (auto value = checksum_value(six)) {
                const auto max_prefix = static_cast<std::uint32_t>(
                    std::min<std::uint64_t>(tok - kBodyLength, kMaxPrefixLength));
                ends_.push_back(CandidateEnd{i + 1, *value, max_prefix});
            }
        }
    }
    base62_run_ = b62;
    token_run_ = tok;

    if (!ends_.empty()) check_candidates();

    line_ += static_cast<std::uint64_t>(
        std::count(buf_.begin() + static_cast<std::ptrdiff_t>(carried_), buf_.end(), '\n'));
    // Keep the bytes a token ending in the next chunk may start with.
    const std::size_t keep = std::min(size, kLongestToken - 1);
    std::fill(buf_.begin(), buf_.end() - static_cast<std::ptrdiff_t>(keep), '\0');
    buf_.erase(0, size - keep);
    base_ += size - keep;
    carried_ = keep;
}

// Each possible start is checked once with one running CRC that grows a byte at a time, so a
// run of candidates (a long base62 text) costs ~90 CRC steps per start, not 32 × 90 per end.
void TokenFinder::check_candidates() {
    const std::string_view buf(buf_);
    std::size_t next_start = 0;  // starts below this one are done
    for (const CandidateEnd& last : ends_) {
        const std::size_t first = std::max(next_start, last.end - kBodyLength - last.max_prefix);
        const std::size_t stop = last.end - kBodyLength;  // one past the latest start
        for (std::size_t p = first; p < stop; ++p) {
            std::uint32_t crc = crc32(buf.substr(p, kSignedBody));
            auto end = std::lower_bound(
                ends_.begin(), ends_.end(), p + 1 + kBodyLength,
                [](const CandidateEnd& e, std::size_t v) { return e.end < v; });
            for (std::size_t prefix = 1; prefix <= kMaxPrefixLength; ++prefix) {
                const std::size_t token_end = p + prefix + kBodyLength;
                if (token_end > buf.size()) break;
                crc = crc32_extend(crc, buf.substr(p + prefix + kSignedBody - 1, 1));
                while (end != ends_.end() && end->end < token_end) ++end;
                if (end == ends_.end()) break;
                if (end->end != token_end || prefix > end->max_prefix || crc != end->checksum)
                    continue;
                const std::string_view token = buf.substr(p, token_end - p);
                TokenPlace place{.offset = base_ + p, .line = line_};
                if (p > carried_)
                    place.line += static_cast<std::uint64_t>(
                        std::count(buf.begin() + static_cast<std::ptrdiff_t>(carried_),
                                   buf.begin() + static_cast<std::ptrdiff_t>(p), '\n'));
                if (has_gvx_format(token)) on_token_(token, place);
            }
        }
        next_start = std::max(next_start, stop);
    }
}

}  // namespace gvx::push
