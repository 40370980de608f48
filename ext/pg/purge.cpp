// Cleanup on PostgreSQL: expired tokens and old activity in short batches, paced.
#include <algorithm>
#include <chrono>
#include <thread>

#include "pg/pg_store.hpp"

namespace gvx::pg {
namespace {

constexpr std::int64_t kBatch = 1000;

}  // namespace

// Each batch is its own short transaction. Token rows a verification holds are skipped, not
// waited for (statements.cpp, purge_tokens), so verifications never queue behind a batch;
// the pauses keep the purge from taking the server's I/O from them.
Result<PurgeReport> purge_paced(PgStore& store, std::int64_t now,
                                std::optional<std::int64_t> pause_ratio) {
    auto cfg = store.config();
    if (!cfg) return std::move(cfg).error();
    const std::int64_t ratio =
        std::max<std::int64_t>(0, pause_ratio.value_or(cfg->cleanup_pause_ratio));
    PurgeReport total;
    for (;;) {
        const auto started = std::chrono::steady_clock::now();
        auto r = store.purge_batch(now, kBatch);
        if (!r) return std::move(r).error();
        total.tokens += r->tokens;
        total.activity += r->activity;
        total.audit += r->audit;
        if (r->tokens < kBatch && r->activity < kBatch && r->audit < kBatch) return total;
        if (ratio > 0) {
            const auto held = std::chrono::steady_clock::now() - started;
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                held * ratio, std::chrono::seconds(10)));
        }
    }
}

}  // namespace gvx::pg
