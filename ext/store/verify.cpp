// Verification on the SQLite store: the reads and writes around the pure decision
// (core/policy.hpp), under one write lock.
#include "core/limits.hpp"
#include "core/token.hpp"
#include "store.hpp"
#include "store/sql.hpp"
#include "store/write.hpp"

namespace gvx {
Result<Verification> Store::verify(std::string_view token, const ClientInfo& client,
                                   std::int64_t now) {
    GVX_TRY(prepare());
    return write<Verification>([&](Store& s) { return s.verify_locked(token, client, now); },
                               /*may_use_side_connection=*/true);
}

std::vector<Result<Verification>> Store::verify_batch(const std::vector<VerifyCall>& calls) {
    std::vector<Result<Verification>> out;
    out.reserve(calls.size());
    if (prepare()) {
        Result<WriteTransaction> tx = WriteTransaction::begin(*this);
        bool all_done = static_cast<bool>(tx);
        for (std::size_t i = 0; all_done && i < calls.size(); ++i) {
            out.push_back(verify_locked(calls[i].token, *calls[i].client, calls[i].now));
            all_done = static_cast<bool>(out.back());
        }
        if (all_done && tx->commit()) return out;
    }  // not committed: the transaction is rolled back here
    // Each on its own, so that one verification's trouble is not the others'.
    out.clear();
    for (const VerifyCall& c : calls) out.push_back(verify(c.token, *c.client, c.now));
    return out;
}

Result<std::optional<TokenRecord>> Store::find_by_key(std::string_view token,
                                                      std::int64_t& rowid) {
    if (token.size() > kMaxTokenLength) return std::optional<TokenRecord>();
    Query q = query(Sql::select_by_key);
    q.bind(1, std::string_view(hash_key(token)));
    const int rc = q.step();
    if (rc == SQLITE_ROW) {
        rowid = q.int64(kKeyRowidColumn);
        return std::optional<TokenRecord>(read_token(q));
    }
    if (rc == SQLITE_DONE) return std::optional<TokenRecord>();
    return db_error(db_, rc);
}

// Runs under the write lock: the outcome, the usage counters and the activity row are one
// atomic step, so concurrent verifications are counted exactly and rate limits admit exactly
// rate_limit_max per window.
Result<Verification> Store::verify_locked(std::string_view token, const ClientInfo& client,
                                          std::int64_t now) {
    Verification v;
    GVX_TRY(follow_schema());
    std::int64_t rowid = 0;
    GVX_TRY_VALUE(v.record, find_by_key(token, rowid));

    struct Facts final : VerifyFacts {
        Store& s;
        std::string_view claimed;
        std::int64_t now;
        Facts(Store& store, std::string_view c, std::int64_t t) : s(store), claimed(c), now(t) {}
        Result<Outcome> owner_standing(const TokenRecord& t) override {
            return s.user_standing(t.user_id, now);
        }
        Result<bool> names_owner(const TokenRecord& t) override {
            return s.names_user(t.user_id, claimed);
        }
        Result<Config> config() override { return s.config(); }
        Result<std::optional<RateWindow>> window(const TokenRecord& t) override {
            Query q = s.query(Sql::select_window);
            q.bind(1, std::string_view(t.id));
            const int rc = q.step();
            if (rc == SQLITE_ROW)
                return std::optional<RateWindow>(RateWindow{.start = q.int64(0), .count = q.int64(1)});
            if (rc == SQLITE_DONE) return std::optional<RateWindow>();
            return db_error(s.db_, rc);
        }
    } facts(*this, client.claimed_user, now);
    GVX_TRY_VALUE(const Decision d, decide(v.record ? &*v.record : nullptr,
                                           !client.claimed_user.empty(), client.required, now,
                                           facts));
    v.outcome = d.outcome;
    v.retry_after_ms = d.retry_after_ms;

    if (d.window) {
        Query q = query(Sql::upsert_window);
        q.bind(1, std::string_view(v.record->id)).bind(2, d.window->start).bind(3, d.window->count);
        GVX_TRY(step_done(q));
    }
    if (v.outcome == Outcome::ok) {
        // The count goes on from gvx's view of it (apikey's, or what gvx wrote last when
        // better-auth's whole-row write has put an older count back). gvx keeps a copy where
        // better-auth may write: where its user table is (follow_schema looks again after
        // every schema change). Elsewhere nothing can undo the count, and the copy would cost
        // every verification a write to one more page.
        TokenRecord& r = *v.record;
        const std::int64_t count = r.request_count + 1;
        Query q = query(Sql::update_usage);
        q.bind(1, std::string_view(r.id)).bind(2, now).bind(3, d.remaining).bind(4, d.last_refill_at);
        q.bind(5, count).bind(6, rowid);
        GVX_TRY(step_done(q));
        if (has_user_table()) {
            Query st = query(Sql::upsert_state_usage);
            st.bind(1, std::string_view(r.id)).bind(2, count).bind(3, now);
            GVX_TRY(step_done(st));
        }
        r.request_count = count;
        r.last_request = now;
        r.remaining = d.remaining;
        r.last_refill_at = d.last_refill_at;
    }

    // A known token's start; of anything else, only what has a token's shape.
    const std::string start = v.record ? token_start(token) : credential_start(token);
    if (v.outcome != Outcome::ok) {
        GVX_TRY(record_refusal(v, start, client, now));
        return v;
    }
    Query q = query(Sql::insert_activity);
    q.bind(1, now)
        .bind(2, std::string_view(v.record->id))
        .bind(3, std::string_view(start))
        .bind(4, outcome_code(v.outcome))
        .bind(5, std::string_view(printable(client.ip, kMaxIpBytes)))
        .bind(6, std::string_view(printable(client.user_agent, kMaxUserAgentBytes)));
    GVX_TRY(step_done(q));
    return v;
}

// A refusal adds to a row instead of making one (sql/003_activity_counts.sql): to the row of
// the same token, start, outcome, address and user agent begun within the last minute; else
// to a new row
// while the token (or, for credentials that name no token, all of them together) has fewer
// refusal rows than its cap; else to the one overflow row of that token and outcome. So a
// flood of bad credentials costs a bounded number of rows, whatever it sends from wherever.
Status Store::record_refusal(const Verification& v, std::string_view start,
                             const ClientInfo& client, std::int64_t now) {
    const std::optional<std::string> key_id =
        v.record ? std::optional<std::string>(v.record->id) : std::nullopt;
    const std::string ip = printable(client.ip, kMaxIpBytes);
    const std::string agent = printable(client.user_agent, kMaxUserAgentBytes);
    auto run = [&](Sql which, std::optional<std::int64_t> seventh) -> Result<bool> {
        Query q = query(which);
        q.bind(1, now).bind(2, key_id).bind(3, start).bind(4, outcome_code(v.outcome));
        q.bind(5, std::string_view(ip)).bind(6, std::string_view(agent));
        if (seventh) q.bind(7, *seventh);
        GVX_TRY(step_done(q));
        return sqlite3_changes(db_) > 0;
    };
    GVX_TRY_VALUE(const bool bumped, run(Sql::bump_refusal, sub_sat(now, kRefusalWindowMs)));
    if (bumped) return Ok{};
    GVX_TRY_VALUE(const Config cfg, config());
    const std::int64_t cap =
        key_id ? cfg.activity_refusals_per_token : cfg.activity_unknown_max_rows;
    GVX_TRY_VALUE(const bool inserted, run(Sql::insert_refusal, cap));
    if (inserted) return Ok{};
    GVX_TRY_VALUE(const bool folded, run(Sql::bump_overflow, std::nullopt));
    if (folded) return Ok{};
    GVX_TRY_VALUE(const bool overflow, run(Sql::insert_overflow, std::nullopt));
    (void)overflow;
    return Ok{};
}

}  // namespace gvx
