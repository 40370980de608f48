// The benchmark's output: one tab-separated line per table row, read by bench/table.py, which
// prints the one table and judges each checked figure against its target.
//
//   row <TAB> what <TAB> gvx <TAB> baseline <TAB> ratio <TAB> target <TAB> checked
//
// target is "<= 1.25", ">= 0.9" or "report"; checked is the number the target applies to.
// "meta <TAB> name <TAB> value" lines describe the run for the table's header.
#pragma once

#include <string>

namespace bench {

struct Row {
    std::string what;
    std::string gvx;
    std::string baseline;
    std::string ratio;
    std::string target = "report";
    double checked = 0;
};

void print_row(const Row& row);
void print_meta(const std::string& name, const std::string& value);

std::string format_micros(double ns);        // "41.2 µs"
std::string format_millis(double ns);        // "12.3 ms"
std::string format_seconds(double ns);       // "4.56 s"
std::string format_ratio(double r);          // "1.08×"
std::string format_count(long long n);       // "100k", "1M"

}  // namespace bench
