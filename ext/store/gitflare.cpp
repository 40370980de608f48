// Living beside Gitflare (better-auth) on one database: following its schema changes and its
// user table. See README "Sharing a database with Gitflare".
#include "store.hpp"
#include "store/sql.hpp"

namespace gvx {

Result<std::int64_t> Store::schema_version() {
    Query q = query(Sql::schema_version);
    const int rc = q.step();
    if (rc != SQLITE_ROW) return db_error(db_, rc);
    return q.int64(0);
}

Status Store::follow_schema() {
    GVX_TRY_VALUE(const std::int64_t version, schema_version());
    if (version == schema_seen_) return Ok{};

    // drizzle's rebuild of apikey (create __new_apikey, copy, drop, rename) drops gvx's indexes
    // with the old table: make them again, once apikey is back.
    {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db_, sql::kApikeyExists, -1, &raw, nullptr);
        StmtPtr exists{raw};
        if (rc != SQLITE_OK) return db_error(db_, rc);
        rc = sqlite3_step(raw);
        if (rc == SQLITE_ROW) GVX_TRY(exec(sql::kApikeyIndexes));
        else if (rc != SQLITE_DONE) return db_error(db_, rc);
    }
    // better-auth's user table, with or without the admin plugin's ban columns, or none.
    user_stmt_.reset();
    for (const char* text : {sql::kUserBanned, sql::kUserExists}) {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v3(db_, text, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) ==
            SQLITE_OK) {
            user_stmt_.reset(raw);
            break;
        }
        sqlite3_finalize(raw);
    }
    GVX_TRY_VALUE(schema_seen_, schema_version());  // making the indexes changed it
    return Ok{};
}

Result<Outcome> Store::user_standing(std::string_view user_id, std::int64_t now) {
    if (!user_stmt_) return Outcome::ok;  // no user table: ids are whatever the host says
    Query q(user_stmt_.get());
    q.bind(1, user_id).bind(2, now);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return q.int64(0) != 0 ? Outcome::user_banned : Outcome::ok;
    if (rc == SQLITE_DONE) return Outcome::user_missing;
    return db_error(db_, rc);
}

std::string stored_metadata(const std::optional<std::string>& json) {
    if (!json) return "null";
    // JSON.stringify of the text: quotes, backslashes and control characters escaped.
    std::string out;
    out.reserve(json->size() + json->size() / 8 + 2);
    out.push_back('"');
    for (const char ch : *json) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    constexpr char kHex[] = "0123456789abcdef";
                    out += "\\u00";
                    out.push_back(kHex[c >> 4]);
                    out.push_back(kHex[c & 0xF]);
                } else {
                    out.push_back(ch);
                }
        }
    }
    out.push_back('"');
    return out;
}

}  // namespace gvx
