#include "rows.hpp"

#include <cstdio>

namespace bench {
namespace {

std::string printf_string(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

}  // namespace

void print_row(const Row& r) {
    std::printf("row\t%s\t%s\t%s\t%s\t%s\t%.4f\n", r.what.c_str(), r.gvx.c_str(),
                r.baseline.c_str(), r.ratio.c_str(), r.target.c_str(), r.checked);
    std::fflush(stdout);  // rows appear as they are measured
}

void print_meta(const std::string& name, const std::string& value) {
    std::printf("meta\t%s\t%s\n", name.c_str(), value.c_str());
    std::fflush(stdout);
}

std::string format_micros(double ns) {
    return printf_string(ns < 10'000 ? "%.2f µs" : "%.1f µs", ns / 1e3);
}
std::string format_millis(double ns) { return printf_string("%.2f ms", ns / 1e6); }
std::string format_seconds(double ns) { return printf_string("%.2f s", ns / 1e9); }
std::string format_ratio(double r) { return printf_string("%.2f×", r); }

std::string format_count(long long n) {
    if (n >= 1'000'000 && n % 1'000'000 == 0) return std::to_string(n / 1'000'000) + "M";
    if (n >= 1'000 && n % 1'000 == 0) return std::to_string(n / 1'000) + "k";
    return std::to_string(n);
}

}  // namespace bench
