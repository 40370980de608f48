// gvx audit: the audit trail for an operator (SPEC §18): who created, changed, rotated,
// disabled or deleted which token, when and from where, of every user or of one.
#include <cstdio>
#include <string>

#include "command.hpp"
#include "core/limits.hpp"
#include "database.hpp"
#include "json/audit.hpp"
#include "text.hpp"

namespace gvx::cli {
namespace {

constexpr std::string_view kAuditUsage =
    R"(usage: gvx audit --db DB [--user USER] [--key ID] [--limit N] [--json]

Prints the audit trail, newest first: when, what (create, update, disable, enable, rotate,
delete), which token (its id, and its name then), whose, who did it and how (the user and
session, remote_user or token through the API; the system user through admin or sql), from
where (IP address, user agent), and what changed.

  --db DB      the gvx database
  --user USER  only entries about USER's tokens
  --key ID     only entries about this token (a rotation is under the old token's id)
  --limit N    at most N entries (1 to 1000, default 100)
  --json       the entries as GET /audit answers them
)";

}  // namespace

int audit_command(int argc, char** argv) {
    static constexpr OptionSpec kOptions[] = {
        {"--db"}, {"--user"}, {"--key"}, {"--limit"}, {"--json", false}};
    Args args;
    if (auto exit = parse_or_exit(argc, argv, {.options = kOptions}, kAuditUsage, args))
        return *exit;
    const std::string_view cmd = "audit";
    auto db = args.required("--db");
    if (!db) return usage_error(cmd, db.error());
    const auto user = args.value("--user");
    if (user && user->empty()) return usage_error(cmd, invalid("--user must not be empty"));
    const auto key = args.value("--key");
    if (key && (key->empty() || key->size() > kMaxIdBytes))
        return usage_error(cmd, invalid("--key is malformed"));
    AuditQuery query;
    if (user) query.owner = *user;
    if (key) query.key_id = *key;
    if (auto limit = args.value("--limit")) {
        const auto n = parse_integer(*limit, 1, kMaxAuditLimit);
        if (!n) return usage_error(cmd, invalid("--limit must be 1 to 1000"));
        query.limit = *n;
    }

    auto store = open_database(*db, false, cmd);
    if (!store) return report(cmd, store.error());
    auto entries = (*store)->audit(query);
    if (!entries) return report(cmd, entries.error());
    if (args.flag("--json")) {
        std::fputs((audit_json(*entries) + "\n").c_str(), stdout);
        return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
    }
    Table table({"TIME", "ACTION", "TOKEN", "NAME", "OWNER", "BY", "VIA", "FROM", "AGENT",
                 "DETAIL"});
    for (const AuditRecord& e : *entries) {
        table.add({format_time(e.at, "-"), printable(e.action), printable(e.key_id),
                   printable(e.key_name.value_or("")), printable(e.owner), printable(e.actor),
                   printable(e.via), e.ip.empty() ? "-" : printable(e.ip),
                   e.user_agent.empty() ? "-" : printable(e.user_agent),
                   printable(e.detail.value_or("")).substr(0, 200)});
    }
    table.print(stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace gvx::cli
