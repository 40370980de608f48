// The audit trail in JSON: each entry as GET /audit and `gvx audit --json` answer it, and the
// "detail" object that says what a change was (README, "Audit trail"). Never a token, its
// hash or metadata values: metadata is named as changed, not copied.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/audit.hpp"
#include "core/record.hpp"
#include "core/validate.hpp"
#include "json/json.hpp"

namespace gvx {

// {"prefix", "expiresAt", "permissions"} of a new token.
std::string audit_detail_created(const TokenRecord& created);
// The fields an update set: "name", "enabled", "expiresAt", "permissions" with their new
// values, "metadata": true when it changed.
std::string audit_detail_changes(const TokenChanges& changes);
// {"newKeyId", "graceMs", "expiresAt"}: the successor and how long the old token goes on.
std::string audit_detail_rotated(const TokenRecord& successor, std::int64_t grace_ms);
// {"reason": reason}, e.g. LEAKED for push protection's disable.
std::string audit_detail_reason(std::string_view reason);

// {"id", "at", "action", "keyId", "keyName", "owner", "actor", "via", "ip", "userAgent",
//  "detail"} (detail: the object above, or null).
void write_audit(JsonWriter& w, const AuditRecord& entry);
std::string audit_json(std::span<const AuditRecord> entries);

}  // namespace gvx
