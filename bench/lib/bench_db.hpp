// Benchmark databases: fresh copies of the cached ones, opened the way every contestant is.
#pragma once

#include <string>

#include "sqlite_handles.hpp"

namespace bench {

// Copies a cached database to scratch_dir/name (dropping any stale -wal/-shm there) and
// returns the copy's path. Measurements write, so each run starts from the same bytes.
std::string fresh_copy(const std::string& cached, const std::string& scratch_dir,
                       const std::string& name);

// Opens path with the bench pragmas and, when extension_path is not empty, gvx.so loaded.
Db open_bench_db(const std::string& path, const std::string& extension_path);

}  // namespace bench
