// Entry point of gvx.so: `.load ./gvx` in the sqlite3 shell, sqlite3_load_extension() in a
// program, or sqlite3_auto_extension(sqlite3_gvx_init) when linked statically (gvx-fcgi).
#include <sodium.h>

#include "connection.hpp"
#include "sqlite_api.hpp"

#if !defined(SQLITE_CORE)
SQLITE_EXTENSION_INIT1
#endif

#define GVX_EXPORT __attribute__((visibility("default")))

extern "C" GVX_EXPORT int sqlite3_gvx_init(sqlite3* db, char** error_message,
                                           const sqlite3_api_routines* api) {
    SQLITE_EXTENSION_INIT2(api);
    if (sodium_init() < 0) {  // 0 = initialised now, 1 = already: both fine
        if (error_message) *error_message = sqlite3_mprintf("gvx: libsodium failed to start");
        return SQLITE_ERROR;
    }
    return gvx::register_functions(db, error_message);
}
