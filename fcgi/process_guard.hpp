// Process-wide protections gvx-fcgi sets up before it opens anything (SPEC §14): files it
// creates are private (umask 077: the database, its -wal and -shm, the socket until its mode
// is set), an existing database it owns loses other users' access, and no core dump (which
// would hold the session secret and the last request's credentials) unless asked for.
#pragma once

#include <string>

namespace gvx::fcgi {

// umask 077, and no core dumps (RLIMIT_CORE 0, not dumpable) unless allow_core_dumps.
void guard_process(bool allow_core_dumps);

// Removes other users' access from PATH, PATH-wal and PATH-shm when this process owns
// them; returns a note for the log for each file changed.
std::string close_database_to_others(const std::string& path);

}  // namespace gvx::fcgi
