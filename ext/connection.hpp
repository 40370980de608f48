// What gvx.so keeps per SQLite connection: the Store with its prepared statements.
#pragma once

#include "store.hpp"

namespace gvx {

struct Connection {
    explicit Connection(sqlite3* db) : store(db) {}
    Store store;
    int registrations = 0;  // one per SQL function holding this as user data
};

// Registers every gvx SQL function on db. Called by sqlite3_gvx_init.
int register_functions(sqlite3* db, char** error_message);

}  // namespace gvx
