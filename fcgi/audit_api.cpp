#include "audit_api.hpp"

#include <string>

#include "core/limits.hpp"
#include "json/audit.hpp"
#include "responses.hpp"

namespace gvx::fcgi {

Response audit_trail(std::string_view user_id, const Request& req, Context& ctx) {
    AuditQuery q{.owner = user_id, .key_id = std::nullopt, .limit = kAuditLimit};
    const std::optional<std::string> id = query_param(req.query, "id");
    if (id) {
        if (id->empty() || id->size() > kMaxIdBytes) return invalid_field("id is malformed");
        q.key_id = *id;
    }
    if (auto l = query_param(req.query, "limit")) {
        const auto n = parse_length(*l);
        if (!n || *n < 1 || *n > static_cast<std::size_t>(kMaxAuditLimit))
            return invalid_field("limit must be a number from 1 to " +
                                 std::to_string(kMaxAuditLimit));
        q.limit = static_cast<std::int64_t>(*n);
    }
    auto entries = ctx.store.audit(q);
    Response r = entries ? json_ok(audit_json(*entries)) : store_error(entries.error());
    r.log.token_id = id.value_or("");
    return r;
}

}  // namespace gvx::fcgi
