// The store's operations, as any database backend provides them. gvx's SQLite store (Store,
// store.hpp) is one; a second backend (PostgreSQL, SPEC §17) implements the same interface and
// runs the same policy (core/policy.hpp) and validation (core/validate.hpp), so both answer
// alike. Callers that only verify, create or list tokens (gvx-fcgi's handlers) need no more.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/audit.hpp"
#include "core/policy.hpp"
#include "core/record.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "core/validate.hpp"

namespace gvx {

struct CreatedToken {
    TokenRecord record;
    SecretString key;  // the token itself: shown once, never stored
};

struct ClientInfo {
    std::string_view ip;
    std::string_view user_agent;
    // When set, the token only verifies if this names its owner (names_user): for web servers
    // that take the user name from what the client typed.
    std::string_view claimed_user;
    // When set, the token only verifies if its permissions cover these (core/permissions.hpp):
    // the Git authorizer's {"repo:<path>": [action]}, gvx_check's permissions argument.
    const Permissions* required = nullptr;
};

struct Verification {
    Outcome outcome = Outcome::invalid_key;
    std::optional<TokenRecord> record;  // set when the token exists
    std::int64_t retry_after_ms = 0;    // set when rate limited
};

// One verification's arguments, for verify_batch.
struct VerifyCall {
    std::string_view token;
    const ClientInfo* client = nullptr;
    std::int64_t now = 0;
};

// How to rotate a token (SPEC §13): the old one stops grace_ms after the rotation (0: at once,
// it is deleted; at most kMaxRotationGraceMs); the new one expires at expires_at, or, when
// that is not given, lives as long as the old one was made to live (never, if it never
// expired), always within max_token_lifetime from its own creation.
struct Rotation {
    std::int64_t grace_ms = 0;
    std::optional<std::int64_t> expires_at;
};

struct PurgeReport {
    std::int64_t tokens = 0;
    std::int64_t activity = 0;
    std::int64_t audit = 0;  // audit entries past audit_retention_ms
};

class TokenStore {
   public:
    virtual ~TokenStore() = default;

    virtual Result<Config> config() = 0;
    virtual Result<CreatedToken> create(const NewToken& t, std::int64_t now) = 0;
    // One verification: the outcome, the usage update and the activity row, atomically.
    virtual Result<Verification> verify(std::string_view token, const ClientInfo& client,
                                        std::int64_t now) = 0;
    // Several verifications, each as verify() would do it, in the order given; a backend may
    // commit them together (group commit). Answers in the same order; one's error is its own.
    virtual std::vector<Result<Verification>> verify_batch(const std::vector<VerifyCall>& calls) {
        std::vector<Result<Verification>> out;
        out.reserve(calls.size());
        for (const VerifyCall& c : calls) out.push_back(verify(c.token, *c.client, c.now));
        return out;
    }
    // True when verify_batch commits its verifications together (worth waiting for: group
    // commit); false when it only runs them one after another.
    virtual bool commits_batches_together() const { return false; }
    // Deletes the token (only the user's, when user_id is given). True if one was deleted.
    virtual Result<bool> revoke(std::string_view id, std::optional<std::string_view> user_id) = 0;
    // every token of the user, oldest first (each_token, collected).
    Result<std::vector<TokenRecord>> list(std::string_view user_id) {
        std::vector<TokenRecord> out;
        GVX_TRY(each_token(user_id, [&](const TokenRecord& t) { out.push_back(t); }));
        return out;
    }
    // The user's tokens handed to visit one at a time, oldest first, without keeping them all:
    // a /list of thousands of tokens writes each straight into the JSON.
    virtual Status each_token(std::string_view user_id,
                              const std::function<void(const TokenRecord&)>& visit) = 0;
    virtual Result<std::optional<TokenRecord>> get(std::string_view id,
                                                   std::string_view user_id) = 0;
    virtual Result<std::optional<TokenRecord>> update(std::string_view id,
                                                      std::string_view user_id,
                                                      const TokenChanges& changes,
                                                      std::int64_t now) = 0;
    // The newest activity of the user's token; not_found when it is not theirs.
    virtual Result<std::vector<ActivityRecord>> activity(std::string_view id,
                                                         std::string_view user_id,
                                                         std::int64_t limit) = 0;
    // A new token with the old one's name, prefix, owner, permissions, metadata and limits;
    // nullopt when there is no such token (of the user's, when user_id is given).
    virtual Result<std::optional<CreatedToken>> rotate(std::string_view id,
                                                       std::optional<std::string_view> user_id,
                                                       const Rotation& how,
                                                       std::int64_t now) = 0;
    // Deletes at most batch expired tokens and batch stale activity rows in one short
    // transaction. Call until it reports zero to purge everything.
    virtual Result<PurgeReport> purge_batch(std::int64_t now, std::int64_t batch) = 0;
    // Counts what purge would remove, without removing it.
    virtual Result<PurgeReport> purge_preview(std::int64_t now) = 0;

    // The audit trail (SPEC §18), newest first. Each create, update (disable, enable), rotate
    // and revoke, and a leaked token's disable, records one entry in its own transaction, by
    // the actor set here: set_actor() names who the following changes are made by, and
    // ActingAs names them for a scope.
    virtual Result<std::vector<AuditRecord>> audit(const AuditQuery& query) = 0;
    void set_actor(Actor actor) { actor_ = std::move(actor); }
    const Actor& actor() const { return actor_; }

    // better-auth sessions: the user_id of the unexpired session with this token, if any.
    virtual Result<std::optional<std::string>> session_user(std::string_view session_token,
                                                            std::int64_t now) = 0;
    // Whether `name` names this user: it is the user_id, or user.username where better-auth's
    // user table has that column.
    virtual Result<bool> names_user(std::string_view user_id, std::string_view name) = 0;

   protected:
    Actor actor_;  // AuditVia::unknown until somebody says
};

// Names the store's actor for the life of this object, then puts the previous one back: a
// request's caller never outlives the request.
class ActingAs {
   public:
    ActingAs(TokenStore& store, Actor actor) : store_(store), previous_(store.actor()) {
        store_.set_actor(std::move(actor));
    }
    ActingAs(const ActingAs&) = delete;
    ActingAs& operator=(const ActingAs&) = delete;
    ~ActingAs() { store_.set_actor(std::move(previous_)); }

   private:
    TokenStore& store_;
    Actor previous_;
};

}  // namespace gvx
