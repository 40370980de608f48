#include "options.hpp"

#include <cstdlib>
#include <string_view>

#include "sqlite_handles.hpp"

namespace bench {

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const char* value = argv[i + 1];
        if (flag == "--ext") o.extension = value;
        else if (flag == "--small") o.small_db = value;
        else if (flag == "--large") o.large_db = value;
        else if (flag == "--expired") o.expired_db = value;
        else if (flag == "--scratch") o.scratch = value;
        else if (flag == "--cleanup") o.cleanup_script = value;
        else if (flag == "--reps") o.reps = std::atoi(value);
        else if (flag == "--ops") o.ops = static_cast<std::size_t>(std::atoll(value));
        else if (flag == "--only") o.only = value;
        else die("unknown option", flag);
    }
    if (o.extension.empty() || o.small_db.empty() || o.large_db.empty() ||
        o.expired_db.empty() || o.scratch.empty() || o.reps < 1 || o.ops < 1)
        die("usage", "gvx-bench-sql --ext gvx.so --small DB --large DB --expired DB "
                     "--scratch DIR [--cleanup SCRIPT] [--reps N] [--ops N] [--only verify|list|purge]");
    return o;
}

}  // namespace bench
