// The baseline: a minimal program doing gvx's database work with the same SQL statements as
// ext/store/sql.cpp (kSql), prepared once, in the same transactions, without any of gvx's layers
// (no Store, no Result, no TokenRecord, no SQL function call). What gvx costs on top of this
// is what the benchmark reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/audit.hpp"
#include "sqlite_handles.hpp"

namespace bench {

struct RawPurge {
    std::int64_t tokens = 0;
    std::int64_t activity = 0;
};

class RawStore {
   public:
    explicit RawStore(sqlite3* db);  // borrowed; the schema must exist (gvx made it)

    // BEGIN IMMEDIATE; SELECT by key; [config unless kept; UPDATE usage; the gvx_key_state
    // copy where better-auth's user table is]; INSERT activity; COMMIT.
    // Returns the owner when the token is valid now.
    std::optional<std::string> verify(std::string_view token, std::string_view ip,
                                      std::string_view user_agent, std::int64_t now);
    // BEGIN IMMEDIATE; config; count the user's live tokens; INSERT token; INSERT its audit
    // entry; COMMIT. Returns the new token.
    std::string create(std::string_view user_id, std::string_view name, std::int64_t now);
    // SELECT the user's tokens, oldest first, written straight from the columns as the
    // same JSON array gvx's /list returns.
    std::string list_json(std::string_view user_id);
    // One batch of gvx's cleanup: BEGIN IMMEDIATE; config; DELETE expired tokens, their rate
    // windows and stale activity, at most batch each; COMMIT.
    RawPurge purge_batch(std::int64_t now, std::int64_t batch);

    struct ConfigRead {
        bool rate_limit_enabled = false;
        std::int64_t activity_retention = 30LL * 86'400'000;
        std::int64_t activity_unknown_max_rows = 1'000;
        std::int64_t activity_refusals_per_token = 100;
        std::int64_t max_tokens_per_user = 1'000;
    };
    // gvx_config as last read, and the file's data version when it was (or when a commit of
    // this connection's followed).
    struct KeptConfig {
        std::optional<ConfigRead> config;
        unsigned int version = 0;
    };

   private:
    ConfigRead read_config();
    void read_schema_version();
    void insert_activity(std::int64_t now, const char* key_id, int key_id_bytes,
                         std::string_view token, std::string_view outcome, std::string_view ip,
                         std::string_view user_agent);
    void record_refusal(std::int64_t now, const char* key_id, int key_id_bytes,
                        std::string_view token, std::string_view outcome, std::string_view ip,
                        std::string_view user_agent);

    sqlite3* db_;
    Stmt begin_, commit_;
    Stmt select_config_, select_by_key_, select_by_user_, update_usage_, upsert_state_usage_,
        schema_version_, insert_activity_,
        insert_token_, insert_audit_, count_live_tokens_;
    Stmt purge_tokens_, purge_windows_, purge_states_, purge_old_activity_;
    Stmt bump_refusal_, insert_refusal_, bump_overflow_, insert_overflow_;
    bool has_user_table_;  // better-auth's: gvx then keeps its copy of the count
    KeptConfig kept_;
    gvx::Actor actor_;            // who gvx.so names in the audit trail: this program's user
    std::string created_detail_;  // the audit detail of a token without expiry or permissions
};

// Milliseconds since the epoch, as gvx computes "now".
std::int64_t now_ms();

}  // namespace bench
