// The audit trail (SPEC §18): who created, changed, rotated, disabled or deleted which token,
// when and from where. The store records one entry per change, in the change's own
// transaction, by the actor its caller named (TokenStore::set_actor, ActingAs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/validate.hpp"

namespace gvx {

// How the actor was identified; stored as the text of audit_via().
enum class AuditVia {
    session,      // a better-auth session cookie (the API)
    remote_user,  // the web server's own login (the API, --trust-remote-user)
    token,        // a token acting on itself (the API's /rotate)
    admin,        // the gvx admin command (the system user who ran it)
    sql,          // gvx's SQL functions (the system user of the program that loaded gvx.so)
    unknown,      // a caller that named nobody
};
std::string_view audit_via(AuditVia via);

// Who acts. user is the API caller's user id, or for the admin command and SQL the system user
// name; ip and user_agent are the client's (empty when local; program then names the tool).
struct Actor {
    std::string user;
    AuditVia via = AuditVia::unknown;
    std::string ip;
    std::string user_agent;
};

// What an entry records. disable and enable are updates that only switched `enabled`.
enum class AuditAction { create, update, disable, enable, rotate, delete_ };
std::string_view audit_action(AuditAction action);
// What an update with these changes is: enable or disable when it switched `enabled` alone.
AuditAction audit_action_of(const TokenChanges& changes);

// The clock, for the entries of operations whose callers pass no time (revoke).
std::int64_t audit_now_ms();

// One entry as stored in gvx_audit and answered by GET /audit and gvx audit.
struct AuditRecord {
    std::int64_t id = 0;
    std::int64_t at = 0;
    std::string action;
    std::string key_id;
    std::optional<std::string> key_name;  // the token's name at the time
    std::string owner;                    // the token's user_id: whose trail it is
    std::string actor;
    std::string via;
    std::string ip;
    std::string user_agent;
    std::optional<std::string> detail;  // JSON object: what changed (see README, "Audit trail")
};

// Which entries to read, newest first.
struct AuditQuery {
    std::optional<std::string_view> owner;   // only this user's tokens (the API: always)
    std::optional<std::string_view> key_id;  // only this token's
    std::int64_t limit = 100;
};

// The person running this process, for the admin command and SQL: the login name of the real
// user id ("uid N" without one), and for root through sudo, who asked ("root (sudo by alice)").
std::string system_user_name();
// That person acting through program (the admin command's "gvx revoke", "sqlite3", ...).
Actor system_actor(AuditVia via, std::string_view program);

// Text kept as it came but never longer than max bytes, cut where a code point starts.
std::string_view bounded_utf8(std::string_view s, std::size_t max);

// Bounds of what an entry keeps of client-supplied text.
inline constexpr std::size_t kMaxAuditActorBytes = 255;
inline constexpr std::int64_t kAuditLimit = 100;
inline constexpr std::int64_t kMaxAuditLimit = 1000;

}  // namespace gvx
