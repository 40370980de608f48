// Lookups in better-auth's own tables (session, user), which gvx does not create: prepared on
// first use, and tolerated when absent.
#include "store.hpp"
#include "store/sql.hpp"

namespace gvx {

Result<std::optional<std::string>> Store::session_user(std::string_view session_token,
                                                       std::int64_t now) {
    if (!session_stmt_) {
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v3(db_, sql::kSessionUser, -1, SQLITE_PREPARE_PERSISTENT,
                                          &raw, nullptr);
        session_stmt_.reset(raw);
        if (rc != SQLITE_OK) {
            session_stmt_.reset();
            return Error{Errc::db, "no better-auth session table in this database", rc};
        }
    }
    Query q(session_stmt_.get());
    q.bind(1, session_token).bind(2, now);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(q.text(0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return db_error(db_, rc);
}

Result<bool> Store::names_user(std::string_view user_id, std::string_view name) {
    if (name == user_id) return true;
    if (!username_stmt_) {
        // Tried on every call until it works: the table may be created after gvx starts. Only
        // Apache's authenticator mode asks, so the cost of a failed prepare is paid rarely.
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v3(db_, sql::kUsername, -1, SQLITE_PREPARE_PERSISTENT, &raw,
                               nullptr) == SQLITE_OK)
            username_stmt_.reset(raw);
        else
            sqlite3_finalize(raw);  // no user table or no username column: ids only
    }
    if (!username_stmt_) return false;
    Query q(username_stmt_.get());
    q.bind(1, user_id).bind(2, name);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return db_error(db_, rc);
}

}  // namespace gvx
