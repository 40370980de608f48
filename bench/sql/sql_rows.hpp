// The row groups gvx-bench-sql measures; each prints its rows as it finishes.
#pragma once

#include "options.hpp"

namespace bench {

void run_verify_rows(const Options& o);  // verify hit/miss at two sizes, growth, create
void run_list_row(const Options& o);     // GET /list for a user with 10,000 tokens
void run_purge_rows(const Options& o);   // cleanup while verifications run

}  // namespace bench
