#include "lookup.hpp"

#include "store/sql.hpp"

namespace gvx::cli {
namespace {

Result<StmtPtr> prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
    StmtPtr stmt{raw};  // owned before rc is looked at
    if (rc != SQLITE_OK) return db_error(db, rc);
    return stmt;
}

}  // namespace

Result<std::vector<std::string>> users_with_tokens(Store& store) {
    auto stmt = prepare(store.db(), sql::kUsersWithTokens);
    if (!stmt) return std::move(stmt).error();
    std::vector<std::string> users;
    Query q(stmt->get());
    int rc = 0;
    while ((rc = q.step()) == SQLITE_ROW) users.push_back(q.text(0));
    if (rc != SQLITE_DONE) return db_error(store.db(), rc);
    return users;
}

Result<std::optional<TokenRecord>> token_by_key(Store& store, std::string_view key_hash) {
    auto stmt = prepare(store.db(), sql::kTokenOwnerByKey);
    if (!stmt) return std::move(stmt).error();
    std::string id, user;
    {
        Query q(stmt->get());
        q.bind(1, key_hash);
        const int rc = q.step();
        if (rc == SQLITE_DONE) return std::optional<TokenRecord>{};
        if (rc != SQLITE_ROW) return db_error(store.db(), rc);
        id = q.text(0);
        user = q.text(1);
    }
    return store.get(id, user);
}

}  // namespace gvx::cli
