// The audit trail on PostgreSQL (sql/postgres/003_audit.sql), as on SQLite (ext/store/audit.cpp):
// one entry per change, in the change's transaction, by the store's actor; read newest first.
#include <algorithm>

#include "core/limits.hpp"
#include "pg/pg_store.hpp"
#include "pg/statements.hpp"

namespace gvx::pg {
namespace {

// Text PostgreSQL can hold (no NUL, valid UTF-8), bounded; anything else as printable ASCII.
std::string storable_text(std::string_view s, std::size_t max) {
    const std::string_view cut = bounded_utf8(s, max);
    return storable(cut) ? std::string(cut) : printable(s, max);
}

AuditRecord read_audit(const Rows& q, int i) {
    return AuditRecord{.id = q.int64(i, 0),
                       .at = q.int64(i, 1),
                       .action = q.text(i, 2),
                       .key_id = q.text(i, 3),
                       .key_name = q.opt_text(i, 4),
                       .owner = q.text(i, 5),
                       .actor = q.text(i, 6),
                       .via = q.text(i, 7),
                       .ip = q.text(i, 8),
                       .user_agent = q.text(i, 9),
                       .detail = q.opt_text(i, 10)};
}

}  // namespace

Status PgStore::record_audit(AuditAction action, const TokenRecord& token, std::int64_t now,
                             const std::optional<std::string>& detail) {
    const Actor& by = actor();
    std::optional<std::string> name;
    if (token.name) name = storable_text(*token.name, kMaxNameBytes);
    Params p;
    p.add(now)
        .add(audit_action(action))
        .add(std::string_view(token.id))
        .add(name)
        .add(std::string_view(token.user_id))
        .add(std::string_view(storable_text(by.user, kMaxAuditActorBytes)))
        .add(audit_via(by.via))
        .add(std::string_view(printable(by.ip, kMaxIpBytes)))
        .add(std::string_view(printable(by.user_agent, kMaxUserAgentBytes)))
        .add(detail);
    GVX_TRY(conn_.run(at(Sql::insert_audit), p));
    return Ok{};
}

Result<std::vector<AuditRecord>> PgStore::audit(const AuditQuery& which) {
    if ((which.owner && !storable(*which.owner)) || (which.key_id && !storable(*which.key_id)))
        return std::vector<AuditRecord>();  // text PostgreSQL cannot hold matches nothing
    GVX_TRY(conn_.ensure());
    const std::int64_t limit = std::clamp<std::int64_t>(which.limit, 1, kMaxAuditLimit);
    Params p;
    Sql statement = Sql::select_audit_all;
    if (which.owner) {
        statement = Sql::select_audit_by_owner;
        p.add(*which.owner).add(which.key_id).add(limit);
    } else if (which.key_id) {
        statement = Sql::select_audit_by_key;
        p.add(*which.key_id).add(limit);
    } else {
        p.add(limit);
    }
    GVX_TRY_VALUE(const Rows rows, conn_.run(at(statement), p));
    std::vector<AuditRecord> out;
    for (int i = 0; i < rows.size(); ++i) out.push_back(read_audit(rows, i));
    return out;
}

}  // namespace gvx::pg
