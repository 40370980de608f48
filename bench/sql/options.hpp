// Command line of gvx-bench-sql (bench/run passes every value).
#pragma once

#include <cstddef>
#include <string>

namespace bench {

struct Options {
    std::string extension;   // gvx.so
    std::string small_db;    // cached database with the smaller live population (100k)
    std::string large_db;    // ... with the larger one (1M)
    std::string expired_db;  // ... with expired tokens to purge and a few live ones
    std::string scratch;     // where fresh copies are written
    std::string cleanup_script;  // scripts/gvx-cleanup; empty: gvx_purge_expired() in-process
    int reps = 9;            // recorded repetitions per interleaved measurement
    std::size_t ops = 2000;  // operations per block
    std::string only;        // run one group: "verify", "list" or "purge" (default: all)
};

Options parse_options(int argc, char** argv);

}  // namespace bench
