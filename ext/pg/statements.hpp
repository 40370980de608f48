// Every statement the PostgreSQL store runs, prepared once per connection. Values are bound
// ($1, $2, ...): the key hash, ids and "now" are computed in C++, never in SQL.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/record.hpp"
#include "pg/connection.hpp"

namespace gvx::pg {

enum class Sql : std::size_t {
    select_config,
    select_by_key_locked,
    select_by_id_user,
    select_by_user,
    insert_token,
    update_usage,
    update_token,
    delete_token,
    select_window,
    upsert_window,
    delete_window,
    insert_activity,
    record_refusal,
    select_activity,
    purge_tokens,
    purge_windows,
    purge_old_activity,
    count_expired,
    count_old_activity,
    select_by_id_locked,
    end_token_at,
    lock_user_tokens,
    count_live_tokens,
    insert_audit,
    select_audit_by_owner,
    select_audit_by_key,
    select_audit_all,
    purge_old_audit,
    count_old_audit,
    begin,
    commit,
    rollback,
    count_,
};

// A statement's index, for Connection::run and pipeline.
inline std::size_t at(Sql s) { return static_cast<std::size_t>(s); }

// An id, user id or hash looked up by equality: text PostgreSQL can hold (no NUL, valid
// UTF-8), else it can match nothing.
bool storable(std::string_view s);

// The statements in Sql's order, named gvx_<n>.
std::vector<Statement> statements();

// Statements over better-auth's tables, prepared only where those tables exist.
extern const char* const kSessionByMs;         // session.expires_at in ms (bigint)
extern const char* const kSessionByTimestamp;  // session.expires_at a timestamp
extern const char* const kUsername;

// One apikey row as selected by the statements above (their first 20 columns).
TokenRecord read_token(const Rows& rows, int row);
// select_by_key_locked's column after the token's: gvx_config as name=value lines.
inline constexpr int kConfigColumn = 20;

}  // namespace gvx::pg
