// The SQLite token store: every operation of TokenStore on one SQLite connection.
//
// ext/ borrows the connection of whoever loaded gvx.so; gvx-fcgi owns its own (Store::open).
// All values are bound, "now" comes from the caller, and writes run in short transactions, so
// the same statements work on replicated SQLite too (docs/replication.md).
//
// The implementation is split by operation under ext/store/: connection.cpp (open, pragmas,
// statement cache), sql.{hpp,cpp} (every SQL statement), migrate.cpp, write.hpp (the write
// transaction), tokens.cpp, verify.cpp, purge.cpp and cleanup.cpp, better_auth.cpp,
// audit.cpp (the audit trail).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "statement.hpp"
#include "store/busy_waits.hpp"
#include "store/config_cache.hpp"
#include "store/wal_checkpoints.hpp"
#include "token_store.hpp"

namespace gvx {

// Metadata (compact JSON, or none) as better-auth 1.4 stores it: the JSON text as a JSON string,
// or the text null. better-auth's verification then writes it back unchanged.
std::string stored_metadata(const std::optional<std::string>& json);

// The SQLite library's version, for --version lines.
const char* sqlite_version();

class Store final : public TokenStore {
   public:
    // Opens (creating if needed) the database file and owns the connection.
    static Result<std::unique_ptr<Store>> open(const std::string& path);
    // Borrows a connection that somebody else closes.
    explicit Store(sqlite3* borrowed);
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    ~Store() override;

    sqlite3* db() const { return db_; }

    // WAL, busy timeout and the schema migrations; cheap after the first success.
    Status prepare();

    Result<Config> config() override;
    Result<CreatedToken> create(const NewToken& t, std::int64_t now) override;
    Result<Verification> verify(std::string_view token, const ClientInfo& client,
                                std::int64_t now) override;
    // One write transaction for all of them (group commit); should one fail, or the commit,
    // it is rolled back and each runs in its own.
    std::vector<Result<Verification>> verify_batch(const std::vector<VerifyCall>& calls) override;
    bool commits_batches_together() const override { return true; }
    Result<bool> revoke(std::string_view id, std::optional<std::string_view> user_id) override;
    using TokenStore::list;
    Status each_token(std::string_view user_id,
                      const std::function<void(const TokenRecord&)>& visit) override;
    Result<std::optional<TokenRecord>> get(std::string_view id,
                                           std::string_view user_id) override;
    Result<std::optional<TokenRecord>> update(std::string_view id, std::string_view user_id,
                                              const TokenChanges& changes,
                                              std::int64_t now) override;
    Result<std::vector<ActivityRecord>> activity(std::string_view id, std::string_view user_id,
                                                 std::int64_t limit) override;
    Result<std::optional<CreatedToken>> rotate(std::string_view id,
                                               std::optional<std::string_view> user_id,
                                               const Rotation& how, std::int64_t now) override;
    Result<PurgeReport> purge_batch(std::int64_t now, std::int64_t batch) override;
    Result<PurgeReport> purge_preview(std::int64_t now) override;
    Result<std::vector<AuditRecord>> audit(const AuditQuery& query) override;
    Result<std::optional<std::string>> session_user(std::string_view session_token,
                                                    std::int64_t now) override;
    Result<bool> names_user(std::string_view user_id, std::string_view name) override;

    // Push protection (cli/push/): a token seen where it must not be. Disables it and records
    // LEAKED in its activity, with where it was seen (ip, and the place as the user agent), in
    // one transaction; the token stays, so its owner finds it and its activity. True if the
    // token was still there to disable.
    Result<bool> disable_leaked(const TokenRecord& token, const ClientInfo& seen,
                                std::int64_t now);

    // Finalizes cached statements (before the borrowed connection closes).
    void release_statements() noexcept;
    // Gives the connection back gvx's checkpoints after somebody else's wal hook (cleanup's):
    // the pacer on a connection gvx owns, SQLite's auto-checkpoint of pages on a borrowed one.
    void restore_checkpoints(int pages);
    // For a cleanup: gvx's busy handler (short sleeps) on a borrowed connection too, with the
    // busy timeout it had; false if it has a handler of its own, which is left alone.
    // end_brief_busy_waits() puts the busy timeout back. Connections gvx owns have it always.
    bool begin_brief_busy_waits();
    void end_brief_busy_waits();
    // While gvx's busy handler is in use: how long a wait may last; returns the previous.
    std::chrono::milliseconds swap_busy_timeout(std::chrono::milliseconds timeout);

    enum class Sql : std::size_t;

   private:
    friend class WriteTransaction;

    Store(DbPtr owned);
    Query query(Sql which);
    Status exec(const char* sql);
    Status run(Sql which);
    Status migrate();
    // The token whose key is token's hash, and its row's rowid.
    Result<std::optional<TokenRecord>> find_by_key(std::string_view token, std::int64_t& rowid);
    // The token with this id (only the user's, when user_id is given), in a transaction.
    Result<std::optional<TokenRecord>> find_by_id(std::string_view id,
                                                  std::optional<std::string_view> user_id);
    // Inserts a new token with this expiry (already checked against the lifetime cap) and
    // t.permissions stored as given (create validates them first; rotate copies them).
    Result<CreatedToken> insert_token(const NewToken& t, std::optional<std::int64_t> expires,
                                      std::int64_t now);
    // Steps a statement that returns no rows.
    Status step_done(Query& q);
    // In a write transaction: the audit entry of a change to token, by actor() (audit.cpp).
    Status record_audit(AuditAction action, const TokenRecord& token, std::int64_t now,
                        const std::optional<std::string>& detail);

    // Runs body in a write transaction fitting the connection's state (store/write.hpp).
    template <class T, class Body>
    Result<T> write(Body&& body, bool may_use_side_connection);
    template <class T, class Body>
    Result<T> write_here(Body&& body);

    Result<Verification> verify_locked(std::string_view token, const ClientInfo& client,
                                       std::int64_t now);
    Status record_refusal(const Verification& v, std::string_view start,
                          const ClientInfo& client, std::int64_t now);
    // In a write transaction: after a schema change (drizzle's rebuild of apikey), makes gvx's
    // indexes again and looks afresh for better-auth's user table (gitflare.cpp).
    Status follow_schema();
    Result<std::int64_t> schema_version();
    // ok, user_banned or user_missing for user_id, per better-auth's user table where it exists.
    Result<Outcome> user_standing(std::string_view user_id, std::int64_t now);
    // Whether the file has better-auth's user table (as of the last follow_schema).
    bool has_user_table() const { return user_stmt_ != nullptr; }

    DbPtr owned_;
    sqlite3* db_;
    bool prepared_ = false;
    bool wal_pending_ = true;
    std::vector<StmtPtr> cache_;
    // Statements over better-auth's own tables, which may not exist: prepared on first use.
    StmtPtr session_stmt_;
    StmtPtr username_stmt_;
    // The owner's standing in better-auth's user table; null when the file has none. Chosen
    // again whenever the schema changes (follow_schema).
    StmtPtr user_stmt_;
    std::int64_t schema_seen_ = -1;
    ConfigCache config_cache_;  // gvx_config while the file is unchanged (store/config_cache.hpp)
    // Own connections: when to checkpoint (store/wal_checkpoints.hpp); the busy handler's
    // state (connection.cpp), also a borrowed connection's during a cleanup.
    CheckpointPacer checkpoints_;
    BusyWait busy_;
    int host_busy_timeout_ms_ = -1;  // a borrowed connection's, while begin_brief_busy_waits
    std::unique_ptr<Store> side_;  // second connection for writes that would fail with BUSY
};

}  // namespace gvx
