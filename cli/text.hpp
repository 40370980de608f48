// Text for the terminal: times, sanitised strings from the database, aligned tables.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.hpp"

namespace gvx::cli {

// Milliseconds since the epoch as "2026-11-28 06:58 UTC"; `none` when absent.
std::string format_time(std::optional<std::int64_t> ms, std::string_view none);

// Text from the database for a terminal: control characters (an escape sequence in a token's
// name) become '?'.
std::string printable(std::string_view s);

// "enabled", "disabled" or "expired" at now.
std::string_view token_state(const TokenRecord& t, std::int64_t now);

std::int64_t now_ms();

// Columns padded to their widest cell (counted in code points), two spaces apart.
class Table {
   public:
    explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void print(std::FILE* out) const;

   private:
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace gvx::cli
