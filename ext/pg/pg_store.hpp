// The token store on PostgreSQL, through libpq: the same operations and guarantees as the
// SQLite store, for gvx-fcgi processes on several machines sharing one database.
//
// Exactness comes from row locks: a verification runs in one transaction that first locks
// the token's row (SELECT ... FOR UPDATE), so concurrent verifications of one token, from any
// process on any machine, take turns; each sees the count and rate window the previous one
// committed. A revocation deletes the row under the same lock, so a verification either ran
// before it or finds no token. Every value is bound, "now" comes from the caller.
//
// New tokens (create.cpp): a user's creations take turns on an advisory lock of that user,
// so max_tokens_per_user holds exactly; a rotation locks the old token's row first.
//
// Cleanup deletes in short batches and skips rows a verification holds (SKIP LOCKED), so a
// purge never makes a verification wait. See docs/postgresql.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/connection.hpp"
#include "pg/statements.hpp"
#include "token_store.hpp"

namespace gvx::pg {

class PgStore final : public TokenStore {
   public:
    // Nothing connects yet: the first operation (or prepare()) does.
    explicit PgStore(std::string conninfo);
    PgStore(const PgStore&) = delete;
    PgStore& operator=(const PgStore&) = delete;

    // Connects (migrating the schema on first use) unless connected.
    Status prepare();

    Result<Config> config() override;
    Result<CreatedToken> create(const NewToken& t, std::int64_t now) override;
    Result<Verification> verify(std::string_view token, const ClientInfo& client,
                                std::int64_t now) override;
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
    Result<PurgeReport> purge_batch(std::int64_t now, std::int64_t batch) override;
    Result<PurgeReport> purge_preview(std::int64_t now) override;
    Result<std::optional<std::string>> session_user(std::string_view session_token,
                                                    std::int64_t now) override;
    Result<bool> names_user(std::string_view user_id, std::string_view name) override;
    Result<std::optional<CreatedToken>> rotate(std::string_view id,
                                               std::optional<std::string_view> user_id,
                                               const Rotation& how, std::int64_t now) override;

    Result<std::vector<AuditRecord>> audit(const AuditQuery& query) override;

    Connection& connection() { return conn_; }

   private:
    // Runs body in one transaction; a connection found dead before anything was sent is
    // replaced and the transaction tried once more (nothing of it can have happened).
    template <class T, class Body>
    Result<T> transaction(Body&& body);
    // After a failure inside a transaction: ROLLBACK, unless the connection is gone.
    void abandon_transaction();
    Result<Verification> verify_begun(std::string_view token, const ClientInfo& client,
                                      std::int64_t now, const Rows& found);
    // Stores a new token for t (validated, permissions canonical) inside a transaction.
    Result<CreatedToken> insert_token(const NewToken& t, std::optional<std::int64_t> expires,
                                      std::int64_t now);
    Result<Config> read_config();
    // Inside a transaction: the audit entry of a change to token, by actor() (audit.cpp).
    Status record_audit(AuditAction action, const TokenRecord& token, std::int64_t now,
                        const std::optional<std::string>& detail);
    static Status on_connect(Connection& c, void* self);

    Connection conn_;
    bool has_sessions_ = false;   // better-auth's session table, found at connect
    bool has_usernames_ = false;  // better-auth's user.username column, found at connect
};

template <class T, class Body>
inline Result<T> PgStore::transaction(Body&& body) {
    for (int attempt = 0;; ++attempt) {
        GVX_TRY(conn_.ensure());
        if (auto b = conn_.run(at(Sql::begin)); !b) {
            if (conn_.lost() && attempt == 0) continue;  // a connection that died idle
            return std::move(b).error();
        }
        Result<T> out = body();
        if (!out) {
            abandon_transaction();
            return out;
        }
        // A COMMIT whose answer is lost may or may not have happened: 503, never retried.
        GVX_TRY(conn_.run(at(Sql::commit)));
        return out;
    }
}

// Deletes everything expired or past retention, batch by batch, pausing pause_ratio times
// each batch's duration after it (gvx_config's cleanup_pause_ratio unless given; 0 = none).
Result<PurgeReport> purge_paced(PgStore& store, std::int64_t now,
                                std::optional<std::int64_t> pause_ratio = std::nullopt);

// Applies sql/postgres/ migrations newer than gvx_meta's schema_version, in one transaction
// under an advisory lock, so gvx-fcgi processes starting together migrate once.
Status migrate(Connection& c);

}  // namespace gvx::pg
