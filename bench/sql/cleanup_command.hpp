// Runs the cron job itself, scripts/gvx-cleanup, as cron would: a separate process on the
// database file, with gvx.so chosen through GVX_EXT.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

// Returns the number of expired tokens the script reports removed; ends the benchmark when the
// script fails or prints something else.
std::int64_t run_gvx_cleanup(const std::string& script, const std::string& extension,
                             const std::string& db_path);

}  // namespace bench
