// Rotation on the SQLite store (SPEC §13): a new token in the old one's place, and the old one
// ended, in one write transaction.
#include "core/new_token.hpp"
#include "json/audit.hpp"
#include "store.hpp"
#include "store/sql.hpp"
#include "store/write.hpp"

namespace gvx {
Result<std::optional<CreatedToken>> Store::rotate(std::string_view id,
                                                  std::optional<std::string_view> user_id,
                                                  const Rotation& how, std::int64_t now) {
    GVX_TRY(validate_rotation(how.grace_ms, how.expires_at, now));
    GVX_TRY(prepare());
    return write<std::optional<CreatedToken>>(
        [&](Store& s) -> Result<std::optional<CreatedToken>> {
            GVX_TRY_VALUE(const std::optional<TokenRecord> old, s.find_by_id(id, user_id));
            if (!old) return std::optional<CreatedToken>();
            GVX_TRY_VALUE(const Config cfg, s.config());
            GVX_TRY_VALUE(const std::optional<std::int64_t> expires,
                          lifetime_for_new(successor_expiry(*old, how.expires_at, now), cfg,
                                           now));
            GVX_TRY_VALUE(CreatedToken created, s.insert_token(successor_of(*old), expires, now));

            if (how.grace_ms == 0) {
                Query q = s.query(Sql::delete_token);
                q.bind(1, std::string_view(old->id)).bind(2, std::optional<std::string_view>());
                GVX_TRY(s.step_done(q));
                Query w = s.query(Sql::delete_window);
                w.bind(1, std::string_view(old->id));
                GVX_TRY(s.step_done(w));
            } else {
                Query q = s.query(Sql::end_token_at);
                q.bind(1, std::string_view(old->id)).bind(2, now + how.grace_ms).bind(3, now);
                GVX_TRY(s.step_done(q));
            }
            GVX_TRY(s.record_audit(AuditAction::rotate, *old, now,
                                   audit_detail_rotated(created.record, how.grace_ms)));
            return std::optional<CreatedToken>(std::move(created));
        },
        /*may_use_side_connection=*/false);
}

}  // namespace gvx
