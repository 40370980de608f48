// Finds gvx tokens in a stream of bytes, chunk by chunk, without keeping the stream.
//
// A token is any prefix matching ^[A-Za-z0-9_-]{1,32}$ followed by 64 characters of
// [A-Za-z0-9] whose last 6 are the base62 CRC-32 of everything before them (SPEC §2). The
// finder reports every such substring, wherever it stands: inside a longer word, at the start
// or end of a chunk, or split between two chunks. It finds only unbroken text: a token split
// across lines, quoted in pieces or encoded (base64, URL escapes) is not a token to it.
//
// Cost: one table lookup per byte; the checksum is computed only where 64 base62 characters
// end whose last 6 can be a checksum at all, once per possible start (README, "Push
// protection").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gvx::push {

struct TokenPlace {
    std::uint64_t offset = 0;  // of the token's first byte in the stream
    std::uint64_t line = 1;    // 1-based line of that byte
};

class TokenFinder {
   public:
    // Called for each token found; the view is valid only during the call.
    using OnToken = std::function<void(std::string_view token, const TokenPlace& place)>;

    explicit TokenFinder(OnToken on_token);
    TokenFinder(const TokenFinder&) = delete;
    TokenFinder& operator=(const TokenFinder&) = delete;
    ~TokenFinder();

    // The next bytes of the stream. A token is reported once its last byte has been fed.
    void feed(std::string_view bytes);
    // Forgets the stream: the next feed starts a new one (offset 0, line 1).
    void reset();

   private:
    struct CandidateEnd {
        std::size_t end;           // index in buf_ one past the token's last byte
        std::uint32_t checksum;    // the CRC-32 its last 6 characters write
        std::uint32_t max_prefix;  // longest prefix the characters before the body allow
    };

    void check_candidates();

    OnToken on_token_;
    std::string buf_;        // the last bytes of the previous chunk, then this chunk
    std::size_t carried_ = 0;  // how many bytes of buf_ came from before this chunk
    std::uint64_t base_ = 0;   // stream offset of buf_[0]
    std::uint64_t line_ = 1;   // line of buf_[carried_]
    std::uint64_t base62_run_ = 0;  // [A-Za-z0-9] characters ending at the last byte seen
    std::uint64_t token_run_ = 0;   // [A-Za-z0-9_-] characters ending at the last byte seen
    std::vector<CandidateEnd> ends_;
};

}  // namespace gvx::push
