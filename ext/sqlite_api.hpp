// Include this instead of <sqlite3.h> everywhere in ext/. Inside gvx.so every SQLite call goes
// through the sqlite3_api table the host passed to sqlite3_gvx_init (one SQLite per process);
// built with -DSQLITE_CORE (gvx-fcgi, tests) the same code calls the linked SQLite directly.
#pragma once

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
