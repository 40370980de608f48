#include "process_guard.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gvx::fcgi {

void guard_process(bool allow_core_dumps) {
    umask(umask(0) | 077);
    if (allow_core_dumps) return;
    const rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // also keeps other processes of the same user out
}

std::string close_database_to_others(const std::string& path) {
    std::string notes;
    for (const std::string& p : {path, path + "-wal", path + "-shm"}) {
        struct stat st {};
        if (stat(p.c_str(), &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 007) == 0)
            continue;
        if (chmod(p.c_str(), st.st_mode & 0770) == 0)
            notes += "gvx-fcgi: " + p + " was readable by other users: no longer\n";
    }
    return notes;
}

}  // namespace gvx::fcgi
