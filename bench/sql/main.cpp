// gvx-bench-sql: the SQL-level rows of `make bench` (bench/run passes the databases it
// generated and cached). Prints "meta" and "row" lines for bench/table.py.
#include <sqlite3.h>

#include "options.hpp"
#include "rows.hpp"
#include "sql_rows.hpp"

int main(int argc, char** argv) {
    const bench::Options o = bench::parse_options(argc, argv);
    bench::print_meta("sqlite", sqlite3_libversion());
    bench::print_meta("repetitions", std::to_string(o.reps) + " repetitions of " +
                                         std::to_string(o.ops) + " operations per block");
    if (o.only.empty() || o.only == "list") bench::run_list_row(o);
    if (o.only.empty() || o.only == "verify") bench::run_verify_rows(o);
    if (o.only.empty() || o.only == "purge") bench::run_purge_rows(o);
    return 0;
}
