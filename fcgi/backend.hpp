// The store --db names: an SQLite file, or a PostgreSQL database for a libpq connection
// string (postgresql://…, postgres://…, or key=value conninfo). Only gvx-fcgi's main links
// this (and so libpq); the request handlers see a TokenStore.
#pragma once

#include <memory>
#include <string>

#include "core/result.hpp"
#include "options.hpp"
#include "token_store.hpp"

namespace gvx::fcgi {

// Opens the store. SQLite: opened and migrated now, or an error. PostgreSQL: a connection
// string libpq cannot parse is an error; a server that cannot be reached yet is not (a
// warning on stderr, and 503 until it can), so gvx-fcgi may start before its database.
Result<std::unique_ptr<TokenStore>> open_backend(const std::string& db);

// How --db is named in messages: the path, or "PostgreSQL" (a URI may hold a password).
std::string describe_db(const std::string& db);

// The SQLite library's version (--version).
const char* sqlite_version();

// gvx-fcgi --purge: removes expired tokens and activity past retention (--dry-run: counts
// them), prints what it did, and returns the exit status (0 done, 1 database trouble).
int run_purge(const Options& o);

}  // namespace gvx::fcgi
