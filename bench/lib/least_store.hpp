// The least-work baseline for a verification hit: the smallest database work that still gives
// gvx's guarantees (the token found by its hash, its usage counted atomically, one activity row
// kept per success, all in one transaction), written by hand without gvx's own statement list.
// It shows what gvx's design costs on top: every statement gvx runs beyond these, every index
// beyond one, every layer between the SQL function and SQLite.
//
// Per verification: BEGIN IMMEDIATE; one indexed SELECT by key hash; the usage UPDATE by rowid;
// one INSERT into an activity table with one index (bench_least_activity, its own, so gvx's
// log is not touched); COMMIT.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sqlite_handles.hpp"

namespace bench {

class LeastStore {
   public:
    explicit LeastStore(sqlite3* db);  // borrowed; apikey must exist (gvx made it)

    // The owner when the token is enabled, unexpired and not used up; its use counted and an
    // activity row written. A refusal writes nothing (the row measures hits only).
    std::optional<std::string> verify(std::string_view token, std::string_view ip,
                                      std::string_view user_agent, std::int64_t now);

   private:
    sqlite3* db_;
    Stmt begin_, commit_, select_, update_, insert_;
};

}  // namespace bench
