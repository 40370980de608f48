// A std::string for secrets: its bytes are wiped when it dies.
#pragma once

#include <sodium.h>

#include <string>
#include <string_view>

namespace gvx {

class SecretString {
   public:
    SecretString() = default;
    explicit SecretString(std::string_view s) { value_.assign(s.data(), s.size()); }
    SecretString(const SecretString&) = delete;
    SecretString& operator=(const SecretString&) = delete;
    SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) {
        other.wipe();
    }
    SecretString& operator=(SecretString&& other) noexcept {
        if (this != &other) {
            wipe();
            value_ = std::move(other.value_);
            other.wipe();
        }
        return *this;
    }
    ~SecretString() { wipe(); }

    // Reserve before appending, so the bytes never move to a buffer we cannot wipe.
    std::string& buffer() { return value_; }
    std::string_view view() const { return value_; }
    bool empty() const { return value_.empty(); }

   private:
    void wipe() noexcept {
        if (!value_.empty()) sodium_memzero(value_.data(), value_.size());
        value_.clear();
    }
    std::string value_;
};

}  // namespace gvx
