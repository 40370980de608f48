#include "gvx_sql.hpp"

namespace bench {
namespace {

// Steps a one-row, one-column statement and hands the value to read before resetting.
template <class Read>
auto step_one(sqlite3* db, sqlite3_stmt* s, Read&& read) {
    if (sqlite3_step(s) != SQLITE_ROW) {
        const std::string message = sqlite3_errmsg(db);
        sqlite3_reset(s);
        die(sqlite3_sql(s), message);
    }
    auto value = read(s);
    sqlite3_reset(s);
    return value;
}

std::string column_string(sqlite3_stmt* s) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
}

}  // namespace

GvxSql::GvxSql(sqlite3* db)
    : db_(db),
      verify_(prepare(db, "SELECT gvx_verify(?1, ?2, ?3)")),
      create_(prepare(db, "SELECT gvx_create(?1, ?2)")),
      purge_(prepare(db, "SELECT gvx_purge_expired()")) {}

std::optional<std::string> GvxSql::verify(std::string_view token, std::string_view ip,
                                          std::string_view user_agent) {
    bind_text(verify_.get(), 1, token);
    bind_text(verify_.get(), 2, ip);
    bind_text(verify_.get(), 3, user_agent);
    return step_one(db_, verify_.get(), [](sqlite3_stmt* s) -> std::optional<std::string> {
        if (sqlite3_column_type(s, 0) == SQLITE_NULL) return std::nullopt;
        return column_string(s);
    });
}

std::string GvxSql::create(std::string_view user_id, std::string_view name) {
    bind_text(create_.get(), 1, user_id);
    bind_text(create_.get(), 2, name);
    return step_one(db_, create_.get(), column_string);
}

std::int64_t GvxSql::purge_expired() {
    return step_one(db_, purge_.get(), [](sqlite3_stmt* s) { return sqlite3_column_int64(s, 0); });
}

}  // namespace bench
