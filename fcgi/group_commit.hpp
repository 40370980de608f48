// gvx-fcgi's one store shared by its request threads, with group commit for verifications.
//
// Every verification is a write (usage, activity), and a write transaction costs a commit:
// pages to the WAL, locks, system calls. With many requests in flight, GroupCommitStore runs
// the verifications that wait together in one transaction (Store::verify_batch), and answers
// each of them only once that transaction has committed. The batch is run by one of the
// waiting request threads, the leader: a verification that finds no batch running leads at
// once, so a lone request waits for nobody; those that arrive meanwhile queue up, and when the
// batch is done the first of them leads the next one with all that queued. Counts and rate
// limits stay exact: the verifications of a batch run one after another under the one write
// lock, as they would in separate transactions.
//
// Everything else (the token API) runs on the calling thread, one at a time, under the same
// lock as the batches: the store's connection is used by one thread at a time. Each request
// uses the store through a View of its own, so who makes a change (the audit trail's actor)
// is never another request's.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "token_store.hpp"

namespace gvx::fcgi {

class GroupCommitStore {
   public:
    // Borrows store; at most max_batch verifications share a transaction.
    explicit GroupCommitStore(TokenStore& store, std::size_t max_batch = 64);
    GroupCommitStore(const GroupCommitStore&) = delete;
    GroupCommitStore& operator=(const GroupCommitStore&) = delete;

    class View;  // one request's TokenStore over the shared one (below)

    // Returns once the batch it joined has committed (or failed).
    Result<Verification> verify(std::string_view token, const ClientInfo& client,
                                std::int64_t now);
    // f(store) with the store to itself, its changes made by actor (the audit trail's).
    template <class F>
    auto with_store(const Actor& actor, F&& f) {
        std::lock_guard store_lock(store_mutex_);
        const ActingAs acting(store_, actor);
        return f(store_);
    }

    // How many batches ran, and the verifications they carried.
    struct Counts {
        std::uint64_t batches = 0;
        std::uint64_t verifications = 0;
    };
    Counts counts() const;

   private:
    struct Waiting;  // one queued verification and, once its batch is done, its answer
    // Runs the queued batch that leader heads, answers it, and hands on the lead.
    void lead(Waiting& leader, std::unique_lock<std::mutex>& queue_lock);

    TokenStore& store_;
    const std::size_t max_batch_;
    std::mutex store_mutex_;  // whoever holds it uses store_

    mutable std::mutex queue_mutex_;  // guards everything below and every queued Waiting
    std::vector<Waiting*> queue_;     // in arrival order; the front leads the next batch
    bool batch_running_ = false;      // false: the queue is empty
    Counts counts_;
};

// The store as one request sees it: verifications go to the group commit, everything else
// runs under the shared store's lock, made by this request's actor (set_actor, ActingAs),
// which no other request thread shares.
class GroupCommitStore::View final : public TokenStore {
   public:
    explicit View(GroupCommitStore& shared) : shared_(shared) {}

    Result<Verification> verify(std::string_view token, const ClientInfo& client,
                                std::int64_t now) override;
    Result<Config> config() override;
    Result<CreatedToken> create(const NewToken& t, std::int64_t now) override;
    Result<bool> revoke(std::string_view id, std::optional<std::string_view> user_id) override;
    Status each_token(std::string_view user_id,
                      const std::function<void(const TokenRecord&)>& visit) override;
    Result<std::optional<TokenRecord>> get(std::string_view id, std::string_view user_id) override;
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

   private:
    GroupCommitStore& shared_;
};

}  // namespace gvx::fcgi
