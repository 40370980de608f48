// gvx as its users call it: the SQL functions of the real extension (gvx.so), each statement
// prepared once on a connection that loaded it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sqlite_handles.hpp"

namespace bench {

class GvxSql {
   public:
    explicit GvxSql(sqlite3* db);  // gvx.so must be loaded on db

    // SELECT gvx_verify(?1, ?2, ?3): the owner, or nullopt.
    std::optional<std::string> verify(std::string_view token, std::string_view ip,
                                      std::string_view user_agent);
    // SELECT gvx_create(?1, ?2): the create response JSON.
    std::string create(std::string_view user_id, std::string_view name);
    // SELECT gvx_purge_expired(): tokens deleted.
    std::int64_t purge_expired();

   private:
    sqlite3* db_;
    Stmt verify_, create_, purge_;
};

}  // namespace bench
