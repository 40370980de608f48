// The token store: every statement gvx runs, on one SQLite connection.
//
// ext/ borrows the connection of whoever loaded gvx.so; gvx-fcgi owns its own (Store::open).
// All values are bound, "now" comes from the caller, and writes run in short transactions, so
// the same statements work on replicated SQLite too (docs/replication.md).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "statement.hpp"

namespace gvx {

// Settings both programs read from the gvx_config table (README, "Configuration").
struct Config {
    bool rate_limit_enabled = false;
    std::int64_t rate_limit_time_window = 86'400'000;  // ms
    std::int64_t rate_limit_max = 10;
    std::int64_t activity_retention = 30LL * 86'400'000;  // ms
    std::int64_t activity_max_rows = 1'000'000;
    std::int64_t max_token_lifetime = 0;  // ms; 0 = tokens may never expire
    // Cleanup pacing (ext/cleanup.cpp): how long one batch may hold the write lock, and how
    // many times that long to pause after it; 0 = as fast as possible.
    std::int64_t cleanup_hold_us = 500;
    std::int64_t cleanup_pause_ratio = 4;
};

struct NewToken {
    std::string_view user_id;
    std::string_view name;
    std::string_view prefix = "gvx_";
    std::optional<std::int64_t> expires_at;   // ms since the epoch
    std::optional<std::string> metadata;      // compact JSON of an object
    std::optional<bool> rate_limit_enabled;   // per-token overrides
    std::optional<std::int64_t> rate_limit_time_window;
    std::optional<std::int64_t> rate_limit_max;
};

struct CreatedToken {
    TokenRecord record;
    SecretString key;  // the token itself: shown once, never stored
};

// Outcomes use better-auth's error codes, so gvx_check() reads like better-auth's verify.
enum class Outcome {
    ok,
    invalid_key,
    expired,
    disabled,
    usage_exceeded,
    rate_limited,
    user_mismatch,  // a valid token presented with a username that is not its owner's
};
std::string_view outcome_code(Outcome o);
std::string_view outcome_message(Outcome o);

struct ClientInfo {
    std::string_view ip;
    std::string_view user_agent;
    // When set, the token only verifies if this names its owner (Store::names_user): for web
    // servers that take the user name from what the client typed.
    std::string_view claimed_user;
};

struct Verification {
    Outcome outcome = Outcome::invalid_key;
    std::optional<TokenRecord> record;  // set when the token exists
    std::int64_t retry_after_ms = 0;    // set when rate limited
};

struct TokenChanges {
    std::optional<std::string_view> name;
    std::optional<bool> enabled;
    bool set_expires_at = false;
    std::optional<std::int64_t> expires_at;  // with set_expires_at: nullopt = never
};

struct PurgeReport {
    std::int64_t tokens = 0;
    std::int64_t activity = 0;
};

class Store {
   public:
    // Opens (creating if needed) the database file and owns the connection.
    static Result<std::unique_ptr<Store>> open(const std::string& path);
    // Borrows a connection that somebody else closes.
    explicit Store(sqlite3* borrowed);
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    ~Store();

    sqlite3* db() const { return db_; }

    // WAL, busy timeout and the schema migrations; cheap after the first success.
    Status prepare();

    Result<Config> config();
    Result<CreatedToken> create(const NewToken& t, std::int64_t now);
    // One verification: the outcome, the usage update and the activity row, atomically.
    Result<Verification> verify(std::string_view token, const ClientInfo& client,
                                std::int64_t now);
    // Deletes the token (only the user's, when user_id is given). True if one was deleted.
    Result<bool> revoke(std::string_view id, std::optional<std::string_view> user_id);
    Result<std::vector<TokenRecord>> list(std::string_view user_id);
    // The same tokens handed to visit one at a time, oldest first, without keeping them all:
    // a /list of thousands of tokens writes each straight into the JSON.
    Status each_token(std::string_view user_id,
                      const std::function<void(const TokenRecord&)>& visit);
    Result<std::optional<TokenRecord>> get(std::string_view id, std::string_view user_id);
    Result<std::optional<TokenRecord>> update(std::string_view id, std::string_view user_id,
                                              const TokenChanges& changes, std::int64_t now);
    Result<std::vector<ActivityRecord>> activity(std::string_view id, std::string_view user_id,
                                                 std::int64_t limit);
    // Deletes at most batch expired tokens and batch stale activity rows in one short
    // transaction. Call until it reports zero to purge everything.
    Result<PurgeReport> purge_batch(std::int64_t now, std::int64_t batch);
    // Counts what purge would remove, without removing it.
    Result<PurgeReport> purge_preview(std::int64_t now);

    // better-auth sessions: the user_id of the unexpired session with this token, if any.
    Result<std::optional<std::string>> session_user(std::string_view session_token,
                                                    std::int64_t now);
    // Whether `name` names this user: it is the user_id, or user.username where better-auth's
    // user table has that column.
    Result<bool> names_user(std::string_view user_id, std::string_view name);

    // Finalizes cached statements (before the borrowed connection closes).
    void release_statements() noexcept;

    enum class Sql : std::size_t;

   private:
    Store(DbPtr owned);
    Query query(Sql which);
    Result<sqlite3_stmt*> statement(Sql which);
    Status exec(const char* sql);
    Status run(Sql which);
    Status migrate();

    // Runs body in a write transaction fitting the connection's state (see store.cpp).
    template <class T, class Body>
    Result<T> write(Body&& body, bool may_use_side_connection);
    template <class T, class Body>
    Result<T> write_here(Body&& body);

    Result<Verification> verify_locked(std::string_view token, const ClientInfo& client,
                                       std::int64_t now);

    DbPtr owned_;
    sqlite3* db_;
    bool prepared_ = false;
    bool wal_pending_ = true;
    std::vector<StmtPtr> cache_;
    // Statements over better-auth's own tables, which may not exist: prepared on first use.
    StmtPtr session_stmt_;
    StmtPtr username_stmt_;
    std::unique_ptr<Store> side_;  // second connection for writes that would fail with BUSY
};

}  // namespace gvx
