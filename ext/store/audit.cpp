// The audit trail on the SQLite store (sql/006_audit.sql): one entry per change, written in
// the change's own transaction by the store's actor (TokenStore::set_actor), and read newest
// first.
#include <algorithm>

#include "core/limits.hpp"
#include "store.hpp"
#include "store/sql.hpp"

namespace gvx {
namespace {

AuditRecord read_audit(const Query& q) {
    return AuditRecord{.id = q.int64(0),
                       .at = q.int64(1),
                       .action = q.text(2),
                       .key_id = q.text(3),
                       .key_name = q.opt_text(4),
                       .owner = q.text(5),
                       .actor = q.text(6),
                       .via = q.text(7),
                       .ip = q.text(8),
                       .user_agent = q.text(9),
                       .detail = q.opt_text(10)};
}

}  // namespace

Status Store::record_audit(AuditAction action, const TokenRecord& token, std::int64_t now,
                           const std::optional<std::string>& detail) {
    const Actor& by = actor();
    const std::string ip = printable(by.ip, kMaxIpBytes);
    const std::string agent = printable(by.user_agent, kMaxUserAgentBytes);
    std::optional<std::string_view> name;
    if (token.name) name = bounded_utf8(*token.name, kMaxNameBytes);
    Query q = query(Sql::insert_audit);
    q.bind(1, now)
        .bind(2, audit_action(action))
        .bind(3, std::string_view(token.id))
        .bind(4, name)
        .bind(5, std::string_view(token.user_id))
        .bind(6, bounded_utf8(by.user, kMaxAuditActorBytes))
        .bind(7, audit_via(by.via))
        .bind(8, std::string_view(ip))
        .bind(9, std::string_view(agent))
        .bind(10, detail);
    return step_done(q);
}

Result<std::vector<AuditRecord>> Store::audit(const AuditQuery& which) {
    GVX_TRY(prepare());
    const std::int64_t limit = std::clamp<std::int64_t>(which.limit, 1, kMaxAuditLimit);
    Query q = query(which.owner    ? Sql::select_audit_by_owner
                    : which.key_id ? Sql::select_audit_by_key
                                   : Sql::select_audit_all);
    if (which.owner) {
        q.bind(1, *which.owner).bind(2, which.key_id).bind(3, limit);
    } else if (which.key_id) {
        q.bind(1, *which.key_id).bind(2, limit);
    } else {
        q.bind(1, limit);
    }
    std::vector<AuditRecord> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(read_audit(q));
    if (rc != SQLITE_DONE) return db_error(db_, rc);
    return out;
}

}  // namespace gvx
