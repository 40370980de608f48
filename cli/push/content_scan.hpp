// One file's or blob's content through the skip rule and the token finder.
//
// The skip rule (README, "Push protection"):
//   - content larger than max_bytes is not read at all;
//   - content whose first 8,000 bytes hold a NUL byte is binary (git's own test, as in
//     `git diff` and `git grep`) and is not scanned;
//   - everything else is scanned in full.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "push/token_finder.hpp"

namespace gvx::push {

inline constexpr std::uint64_t kDefaultMaxBytes = 4ULL * 1024 * 1024;
inline constexpr std::size_t kBinaryProbeBytes = 8000;

// A token seen in content: its hash (what apikey.key stores) and place, never the token.
struct Sighting {
    std::string key_hash;
    std::string start;  // the token's first 6 characters, as the database shows them
    std::uint64_t line = 1;
};

enum class Skipped { no, binary, too_large };

class ContentScan {
   public:
    ContentScan();

    // Starts a new piece of content; returns Skipped::too_large (read nothing) when it is.
    Skipped begin(std::uint64_t size, std::uint64_t max_bytes);
    void feed(std::string_view bytes);
    // Ends the content: whether it was skipped, and its sightings appended to out.
    Skipped end(std::vector<Sighting>& out);

    std::uint64_t bytes_scanned() const { return scanned_; }

   private:
    void scan(std::string_view bytes);

    TokenFinder finder_;
    std::string probe_;  // the first bytes, until the binary test has been made
    bool probing_ = true;
    bool binary_ = false;
    std::vector<Sighting> found_;
    std::uint64_t scanned_ = 0;
};

}  // namespace gvx::push
