#include "bench_db.hpp"

#include <filesystem>

namespace bench {

std::string fresh_copy(const std::string& cached, const std::string& scratch_dir,
                       const std::string& name) {
    namespace fs = std::filesystem;
    const fs::path target = fs::path(scratch_dir) / name;
    fs::create_directories(scratch_dir);
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(target.string() + suffix);
    fs::copy_file(cached, target);
    return target.string();
}

Db open_bench_db(const std::string& path, const std::string& extension_path) {
    Db db = open_db(path);
    set_bench_pragmas(db.get());
    if (!extension_path.empty()) load_gvx(db.get(), extension_path);
    return db;
}

}  // namespace bench
