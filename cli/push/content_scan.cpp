#include "push/content_scan.hpp"

#include <cstring>

#include "core/token.hpp"

namespace gvx::push {

ContentScan::ContentScan()
    : finder_([this](std::string_view token, const TokenPlace& place) {
          found_.push_back(Sighting{hash_key(token), token_start(token), place.line});
      }) {
    probe_.reserve(kBinaryProbeBytes);
}

Skipped ContentScan::begin(std::uint64_t size, std::uint64_t max_bytes) {
    finder_.reset();
    probe_.clear();
    probing_ = true;
    binary_ = false;
    found_.clear();
    return size > max_bytes ? Skipped::too_large : Skipped::no;
}

void ContentScan::scan(std::string_view bytes) {
    finder_.feed(bytes);
    scanned_ += bytes.size();
}

void ContentScan::feed(std::string_view bytes) {
    if (binary_) return;
    if (probing_) {
        const std::size_t take = std::min(bytes.size(), kBinaryProbeBytes - probe_.size());
        probe_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        if (probe_.size() < kBinaryProbeBytes) return;
        probing_ = false;
        if (std::memchr(probe_.data(), '\0', probe_.size())) {
            binary_ = true;
            return;
        }
        scan(probe_);
    }
    if (!bytes.empty()) scan(bytes);
}

Skipped ContentScan::end(std::vector<Sighting>& out) {
    if (probing_ && !binary_) {
        probing_ = false;
        if (std::memchr(probe_.data(), '\0', probe_.size()))
            binary_ = true;
        else
            scan(probe_);
    }
    if (binary_) return Skipped::binary;
    for (Sighting& s : found_) out.push_back(std::move(s));
    found_.clear();
    return Skipped::no;
}

}  // namespace gvx::push
