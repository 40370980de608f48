#include "text.hpp"

#include <chrono>
#include <ctime>

namespace gvx::cli {
namespace {

std::size_t display_width(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) {
        if ((c & 0xC0) != 0x80) ++n;  // count lead bytes, not continuation bytes
    }
    return n;
}

}  // namespace

std::string format_time(std::optional<std::int64_t> ms, std::string_view none) {
    if (!ms) return std::string(none);
    const std::time_t seconds = static_cast<std::time_t>(*ms / 1000);
    std::tm tm{};
    if (!gmtime_r(&seconds, &tm)) return std::to_string(*ms);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
    return n ? std::string(buf, n) : std::to_string(*ms);
}

std::string printable(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) c = '?';
    }
    return out;
}

std::string_view token_state(const TokenRecord& t, std::int64_t now) {
    if (!t.enabled) return "disabled";
    if (t.expires_at && *t.expires_at <= now) return "expired";
    return "enabled";
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void Table::print(std::FILE* out) const {
    std::vector<std::size_t> widths;
    for (const auto& row : rows_) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (std::size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], display_width(row[i]));
    }
    for (const auto& row : rows_) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(widths[i] - display_width(row[i]) + 2, ' ');
        }
        line += '\n';
        std::fputs(line.c_str(), out);
    }
}

}  // namespace gvx::cli
