// Guards that the baseline does gvx's work, not less: before measuring, one operation on each
// side must leave the database changed in the same way. A mismatch stops the benchmark.
#pragma once

#include <string_view>

#include "gvx_sql.hpp"
#include "least_store.hpp"
#include "raw_store.hpp"

namespace bench {

// Same owner (or none), same usage increment, same activity row.
void check_same_verify(sqlite3* db, GvxSql& gvx, RawStore& raw, std::string_view token,
                       bool expect_valid);
// The least-work baseline's hit: the same owner, one use counted, one row in its own log.
void check_least_verify(sqlite3* db, GvxSql& gvx, LeastStore& least, std::string_view token);
// Same columns in the new row, apart from the random ones (id, key, start) and the times, and
// the same audit entry for it.
void check_same_create(sqlite3* db, GvxSql& gvx, RawStore& raw);

}  // namespace bench
