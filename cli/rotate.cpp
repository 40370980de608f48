// gvx rotate: the API's POST /rotate for an operator (any user's token, by id), with the same
// bounds and the same store operation, so a token rotated here is indistinguishable from one
// rotated by its owner.
#include <sodium.h>

#include <cstdio>
#include <string>

#include "command.hpp"
#include "core/limits.hpp"
#include "database.hpp"
#include "json/json.hpp"
#include "text.hpp"

namespace gvx::cli {
namespace {

constexpr long long kMaxGraceSeconds = kMaxRotationGraceMs / 1000;
constexpr long long kMaxExpiryDays = kMaxDurationMs / kDayMs;

constexpr std::string_view kRotateUsage =
    R"(usage: gvx rotate --db DB ID [--grace SECONDS] [--expires-in DAYS] [--json]

Replaces the token with this id, whoever owns it, by a new one with the same owner, name,
prefix, permissions, metadata and limits, and prints the new token on standard output, once.
The old token stops verifying after the grace period (default 0: at once). The new token's
id and expiry go to standard error.

  --db DB            the gvx database
  --grace SECONDS    let the old token go on working this long beside the new one
                     (0 to 604800, i.e. 7 days), for a deployment to switch over
  --expires-in DAYS  the new token's life (default: as long as the old one was given;
                     never, if it never expired), within the database's lifetime cap
  --json             print the API's rotate response instead (token object plus "key")
)";

}  // namespace

int rotate_command(int argc, char** argv) {
    static constexpr OptionSpec kOptions[] = {
        {"--db"}, {"--grace"}, {"--expires-in"}, {"--json", false}};
    Args args;
    const ArgsSpec spec{.options = kOptions, .min_positionals = 1, .max_positionals = 1,
                        .positional_name = "the token's ID"};
    if (auto exit = parse_or_exit(argc, argv, spec, kRotateUsage, args)) return *exit;
    const std::string_view cmd = "rotate";
    auto db = args.required("--db");
    if (!db) return usage_error(cmd, db.error());
    const std::string& id = args.positionals()[0];
    if (id.empty() || id.size() > kMaxIdBytes) return usage_error(cmd, invalid("ID is malformed"));
    const std::int64_t now = now_ms();

    Rotation how;
    if (auto grace = args.value("--grace")) {
        const auto seconds = parse_integer(*grace, 0, kMaxGraceSeconds);
        if (!seconds)
            return usage_error(cmd, invalid("--grace must be 0 to " +
                                            std::to_string(kMaxGraceSeconds) +
                                            " seconds (7 days)"));
        how.grace_ms = *seconds * 1000;
    }
    if (auto days = args.value("--expires-in")) {
        const auto n = parse_integer(*days, 1, kMaxExpiryDays);
        if (!n)
            return usage_error(cmd, invalid("--expires-in must be a positive number of days "
                                            "(at most 36500)"));
        how.expires_at = now + *n * kDayMs;
    }

    auto store = open_database(*db, false, cmd);
    if (!store) return report(cmd, store.error());
    auto rotated = (*store)->rotate(id, std::nullopt, how, now);
    if (!rotated) return report(cmd, rotated.error());
    if (!*rotated) {
        std::fprintf(stderr, "gvx rotate: no such token: %s\n", printable(id).c_str());
        return kExitFailure;
    }
    const CreatedToken& created = **rotated;
    const TokenRecord& r = created.record;
    if (args.flag("--json")) {
        std::string json = token_json(r, created.key.view());
        json += '\n';
        std::fputs(json.c_str(), stdout);
        sodium_memzero(json.data(), json.size());
        return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
    }
    const std::string old_ends =
        how.grace_ms == 0 ? "now" : "at " + format_time(now + how.grace_ms, "");
    std::fprintf(stderr,
                 "gvx rotate: %s replaced by %s \"%s\" for %s, expires %s; the old token stops "
                 "%s; the new one is shown only now:\n",
                 printable(id).c_str(), r.id.c_str(), printable(r.name.value_or("")).c_str(),
                 printable(r.user_id).c_str(), format_time(r.expires_at, "never").c_str(),
                 old_ends.c_str());
    std::fwrite(created.key.view().data(), 1, created.key.view().size(), stdout);
    std::fputc('\n', stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace gvx::cli
