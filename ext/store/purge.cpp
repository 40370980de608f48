// Purging on the SQLite store: one short batch, or a count of what a purge would remove.
// cleanup.cpp paces the batches.
#include "store.hpp"
#include "store/sql.hpp"
#include "store/write.hpp"

namespace gvx {

Result<PurgeReport> Store::purge_batch(std::int64_t now, std::int64_t batch) {
    GVX_TRY(prepare());
    return write<PurgeReport>(
        [&](Store& s) -> Result<PurgeReport> {
            GVX_TRY_VALUE(const Config cfg, s.config());
            auto run = [&](Sql which, std::int64_t a, std::int64_t b) -> Result<std::int64_t> {
                Query q = s.query(which);
                q.bind(1, a).bind(2, b);
                GVX_TRY(s.step_done(q));
                return std::int64_t{sqlite3_changes(s.db_)};
            };
            PurgeReport r;
            GVX_TRY_VALUE(r.tokens, run(Sql::purge_tokens, now, batch));
            if (r.tokens > 0) {
                Query q = s.query(Sql::purge_windows);
                GVX_TRY(s.step_done(q));
                Query st = s.query(Sql::purge_states);
                GVX_TRY(s.step_done(st));
            }
            // Activity goes by age only: no amount of other traffic removes a token's rows
            // before activity_retention_ms (refusals are capped when they are recorded).
            GVX_TRY_VALUE(r.activity,
                          run(Sql::purge_old_activity, sub_sat(now, cfg.activity_retention), batch));
            GVX_TRY_VALUE(r.audit,
                          run(Sql::purge_old_audit, sub_sat(now, cfg.audit_retention), batch));
            return r;
        },
        /*may_use_side_connection=*/false);
}

Result<PurgeReport> Store::purge_preview(std::int64_t now) {
    GVX_TRY(prepare());
    GVX_TRY_VALUE(const Config cfg, config());
    const std::int64_t oldest_kept = sub_sat(now, cfg.activity_retention);
    auto count = [&](Sql which, std::int64_t a, std::int64_t b) -> Result<std::int64_t> {
        Query q = query(which);
        q.bind(1, a).bind(2, b);  // a statement ignores the values it has no place for
        if (const int rc = q.step(); rc != SQLITE_ROW) return db_error(db_, rc);
        return q.int64(0);
    };
    GVX_TRY_VALUE(const std::int64_t tokens, count(Sql::count_expired, now, 0));
    GVX_TRY_VALUE(const std::int64_t old, count(Sql::count_old_activity, oldest_kept, 0));
    GVX_TRY_VALUE(const std::int64_t audit,
                  count(Sql::count_old_audit, sub_sat(now, cfg.audit_retention), 0));
    return PurgeReport{.tokens = tokens, .activity = old, .audit = audit};
}

}  // namespace gvx
