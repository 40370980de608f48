#include "group_commit.hpp"

#include <algorithm>
#include <condition_variable>
#include <optional>
#include <utility>

namespace gvx::fcgi {

struct GroupCommitStore::Waiting {
    VerifyCall call;
    std::optional<Result<Verification>> answer;
    bool leads = false;  // handed the lead of the next batch
    std::condition_variable wake;  // answered, or handed the lead
};

GroupCommitStore::GroupCommitStore(TokenStore& store, std::size_t max_batch)
    : store_(store), max_batch_(max_batch < 1 ? 1 : max_batch) {}

Result<Verification> GroupCommitStore::verify(std::string_view token, const ClientInfo& client,
                                              std::int64_t now) {
    if (!store_.commits_batches_together()) {
        // Nothing to share (PostgreSQL shares WAL flushes between connections itself): each
        // verification runs on its own and is answered as soon as it is done.
        Result<Verification> v = [&] {
            std::lock_guard store_lock(store_mutex_);
            return store_.verify(token, client, now);
        }();
        std::lock_guard lock(queue_mutex_);
        counts_.batches += 1;
        counts_.verifications += 1;
        return v;
    }
    Waiting w{.call = VerifyCall{.token = token, .client = &client, .now = now}};
    std::unique_lock lock(queue_mutex_);
    queue_.push_back(&w);
    if (batch_running_) w.wake.wait(lock, [&] { return w.answer || w.leads; });
    else batch_running_ = true;  // the queue was empty: w is its front
    if (!w.answer) lead(w, lock);
    return std::move(*w.answer);
}

void GroupCommitStore::lead(Waiting& leader, std::unique_lock<std::mutex>& queue_lock) {
    // The leader is the queue's front, so it is in the batch it runs.
    const std::size_t n = std::min(queue_.size(), max_batch_);
    std::vector<Waiting*> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<VerifyCall> calls;
    calls.reserve(n);
    for (Waiting* w : batch) calls.push_back(w->call);
    queue_lock.unlock();  // others queue up meanwhile
    std::vector<Result<Verification>> answers;
    {
        std::lock_guard store_lock(store_mutex_);
        answers = store_.verify_batch(calls);
    }
    queue_lock.lock();
    counts_.batches += 1;
    counts_.verifications += n;
    for (std::size_t i = 0; i < n; ++i) {
        batch[i]->answer.emplace(std::move(answers[i]));
        if (batch[i] != &leader) batch[i]->wake.notify_one();
    }
    if (queue_.empty()) {
        batch_running_ = false;
    } else {
        queue_.front()->leads = true;
        queue_.front()->wake.notify_one();
    }
}

GroupCommitStore::Counts GroupCommitStore::counts() const {
    std::lock_guard lock(queue_mutex_);
    return counts_;
}

Result<Verification> GroupCommitStore::View::verify(std::string_view token,
                                                    const ClientInfo& client, std::int64_t now) {
    return shared_.verify(token, client, now);
}

// The rest of the token API, one caller at a time, as this request's actor.
#define GVX_UNDER_STORE_LOCK(call) \
    return shared_.with_store(actor(), [&](TokenStore& s) { return s.call; })

using View = GroupCommitStore::View;

Result<Config> View::config() { GVX_UNDER_STORE_LOCK(config()); }
Result<CreatedToken> View::create(const NewToken& t, std::int64_t now) {
    GVX_UNDER_STORE_LOCK(create(t, now));
}
Result<bool> View::revoke(std::string_view id, std::optional<std::string_view> user_id) {
    GVX_UNDER_STORE_LOCK(revoke(id, user_id));
}
Status View::each_token(std::string_view user_id,
                        const std::function<void(const TokenRecord&)>& visit) {
    GVX_UNDER_STORE_LOCK(each_token(user_id, visit));
}
Result<std::optional<TokenRecord>> View::get(std::string_view id, std::string_view user_id) {
    GVX_UNDER_STORE_LOCK(get(id, user_id));
}
Result<std::optional<TokenRecord>> View::update(std::string_view id, std::string_view user_id,
                                                const TokenChanges& changes, std::int64_t now) {
    GVX_UNDER_STORE_LOCK(update(id, user_id, changes, now));
}
Result<std::vector<ActivityRecord>> View::activity(std::string_view id, std::string_view user_id,
                                                   std::int64_t limit) {
    GVX_UNDER_STORE_LOCK(activity(id, user_id, limit));
}
Result<std::optional<CreatedToken>> View::rotate(std::string_view id,
                                                 std::optional<std::string_view> user_id,
                                                 const Rotation& how, std::int64_t now) {
    GVX_UNDER_STORE_LOCK(rotate(id, user_id, how, now));
}
Result<PurgeReport> View::purge_batch(std::int64_t now, std::int64_t batch) {
    GVX_UNDER_STORE_LOCK(purge_batch(now, batch));
}
Result<PurgeReport> View::purge_preview(std::int64_t now) { GVX_UNDER_STORE_LOCK(purge_preview(now)); }
Result<std::vector<AuditRecord>> View::audit(const AuditQuery& query) {
    GVX_UNDER_STORE_LOCK(audit(query));
}
Result<std::optional<std::string>> View::session_user(std::string_view session_token,
                                                      std::int64_t now) {
    GVX_UNDER_STORE_LOCK(session_user(session_token, now));
}
Result<bool> View::names_user(std::string_view user_id, std::string_view name) {
    GVX_UNDER_STORE_LOCK(names_user(user_id, name));
}
#undef GVX_UNDER_STORE_LOCK

}  // namespace gvx::fcgi
