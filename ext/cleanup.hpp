// Purging expired tokens and old activity without stalling the verifications that share the
// database: many short write transactions, paced.
#pragma once

#include <cstdint>
#include <optional>

#include "store.hpp"

namespace gvx {

// Deletes everything gvx_cleanup() deletes. At top level (autocommit), each batch is its own
// transaction: the batch size adapts so a batch holds the write lock about
// Config::cleanup_hold_us, and after each batch the loop pauses pause_ratio times as long as
// the batch took (Config::cleanup_pause_ratio unless given; 0 = as fast as possible), so a
// verification waits at most one short batch, and rarely. Inside a caller's transaction there
// is nothing to pace: everything is deleted in that transaction.
Result<PurgeReport> purge_paced(Store& store, std::int64_t now,
                                std::optional<std::int64_t> pause_ratio = std::nullopt);

}  // namespace gvx
