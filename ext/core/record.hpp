// One row of apikey as gvx sees it, and one row of gvx's activity log. Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gvx {

struct TokenRecord {
    std::string id;
    std::optional<std::string> name;
    std::optional<std::string> start;
    std::optional<std::string> prefix;
    std::string user_id;
    bool enabled = true;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::optional<std::int64_t> expires_at;
    std::optional<std::int64_t> last_request;
    std::int64_t request_count = 0;
    std::optional<std::string> metadata;  // the column as stored (JSON, maybe double-encoded)
    // The column as stored (core/permissions.hpp reads it); NULL = read and write everywhere.
    std::optional<std::string> permissions;
    std::optional<bool> rate_limit_enabled;
    std::optional<std::int64_t> rate_limit_time_window;
    std::optional<std::int64_t> rate_limit_max;
    std::optional<std::int64_t> remaining;
    std::optional<std::int64_t> refill_interval;
    std::optional<std::int64_t> refill_amount;
    std::optional<std::int64_t> last_refill_at;
};

struct ActivityRecord {
    std::int64_t id = 0;
    std::int64_t at = 0;
    std::optional<std::string> key_id;  // NULL for an unknown token
    std::string key_start;              // first 6 characters only
    std::string outcome;                // OK, INVALID_API_KEY, KEY_EXPIRED, ...
    std::string ip;
    std::string user_agent;
    std::int64_t count = 1;               // refusals are counted in one row (sql/002)
    std::optional<std::int64_t> last_at;  // the latest of them, when count > 1
};

}  // namespace gvx
