// gvx create, gvx list, gvx revoke: the token API's create, list and delete for an operator,
// with the same checks (Store) and the same error texts.
#include <cstdio>
#include <string>

#include "command.hpp"
#include "core/limits.hpp"
#include "database.hpp"
#include "json/json.hpp"
#include "lookup.hpp"
#include "text.hpp"

namespace gvx::cli {
namespace {

constexpr long long kMaxExpiryDays = kMaxDurationMs / kDayMs;  // the API's bound on expiresIn

constexpr std::string_view kCreateUsage =
    R"(usage: gvx create --db DB --user USER --name NAME [--expires-in DAYS] [--prefix PREFIX]
                  [--permissions JSON] [--json]

Creates a token for USER and prints it on standard output, once: it is not stored and cannot
be shown again. The token's id, name and expiry go to standard error.

  --db DB            the gvx database (created if missing)
  --user USER        the owner (the user id the API and the authorizer know)
  --name NAME        3 to 50 characters, e.g. "CI pipeline"
  --expires-in DAYS  expire after DAYS days (default: never, unless the database caps lifetimes)
  --prefix PREFIX    the token's prefix (default gvx_), [A-Za-z0-9_-]{1,32}
  --permissions JSON what the token may do, in better-auth's format (README, "Scopes"):
                     '{"repo":["read"]}' clone only, '{"repo:alice/project":["read","write"]}'
                     one repository; default: read and write on every repository
  --json             print the create response of the API instead (token object plus "key")
)";

constexpr std::string_view kListUsage = R"(usage: gvx list --db DB [--user USER] [--json]

Lists the tokens of USER, or of every user, oldest first: id, owner, name, the first six
characters, when created and last used, expiry, uses and state. Never the token itself.

  --db DB      the gvx database
  --user USER  only this user's tokens
  --json       the API's token objects, as a JSON array
)";

constexpr std::string_view kRevokeUsage = R"(usage: gvx revoke --db DB ID

Deletes the token with this id, whoever owns it: it stops verifying at once, everywhere.
Find the id with gvx list, or with gvx find for a leaked token.

  --db DB  the gvx database
)";

}  // namespace

int create_command(int argc, char** argv) {
    static constexpr OptionSpec kOptions[] = {{"--db"},         {"--user"},        {"--name"},
                                              {"--expires-in"}, {"--prefix"},      {"--json", false},
                                              {"--permissions"}};
    Args args;
    if (auto exit = parse_or_exit(argc, argv, {.options = kOptions}, kCreateUsage, args))
        return *exit;
    const std::string_view cmd = "create";
    auto db = args.required("--db");
    if (!db) return usage_error(cmd, db.error());
    auto user = args.required("--user");
    if (!user) return usage_error(cmd, user.error());
    auto name = args.value("--name");
    if (!name) return usage_error(cmd, invalid("--name is required"));
    const std::int64_t now = now_ms();

    NewToken t{.user_id = *user, .name = *name};
    const auto prefix = args.value("--prefix");
    if (prefix) t.prefix = *prefix;
    if (auto permissions = args.value("--permissions")) t.permissions = std::string(*permissions);
    if (auto days = args.value("--expires-in")) {
        const auto n = parse_integer(*days, 1, kMaxExpiryDays);
        if (!n)
            return usage_error(cmd, invalid("--expires-in must be a positive number of days "
                                            "(at most 36500)"));
        t.expires_at = now + *n * kDayMs;
    }

    auto store = open_database(*db, true, cmd);
    if (!store) return report(cmd, store.error());
    auto created = (*store)->create(t, now);
    if (!created) return report(cmd, created.error());
    const TokenRecord& r = created->record;
    if (args.flag("--json")) {
        std::string json = token_json(r, created->key.view());
        json += '\n';
        std::fputs(json.c_str(), stdout);
        sodium_memzero(json.data(), json.size());
        return kExitOk;
    }
    std::fprintf(stderr, "gvx create: token %s \"%s\" for %s, expires %s; shown only now:\n",
                 r.id.c_str(), printable(r.name.value_or("")).c_str(),
                 printable(r.user_id).c_str(), format_time(r.expires_at, "never").c_str());
    std::fwrite(created->key.view().data(), 1, created->key.view().size(), stdout);
    std::fputc('\n', stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

namespace {

void add_row(Table& table, const TokenRecord& t, std::int64_t now) {
    table.add({t.id, printable(t.user_id), printable(t.name.value_or("")),
               printable(t.start.value_or("")), format_time(t.created_at, "-"),
               format_time(t.last_request, "never"), format_time(t.expires_at, "never"),
               std::to_string(t.request_count), std::string(token_state(t, now))});
}

}  // namespace

int list_command(int argc, char** argv) {
    static constexpr OptionSpec kOptions[] = {{"--db"}, {"--user"}, {"--json", false}};
    Args args;
    if (auto exit = parse_or_exit(argc, argv, {.options = kOptions}, kListUsage, args))
        return *exit;
    const std::string_view cmd = "list";
    auto db = args.required("--db");
    if (!db) return usage_error(cmd, db.error());
    std::vector<std::string> users;
    if (auto user = args.value("--user")) {
        if (user->empty()) return usage_error(cmd, invalid("--user must not be empty"));
        users.push_back(*user);
    }

    auto store = open_database(*db, false, cmd);
    if (!store) return report(cmd, store.error());
    if (users.empty()) {
        auto all = users_with_tokens(**store);
        if (!all) return report(cmd, all.error());
        users = std::move(*all);
    }
    const std::int64_t now = now_ms();
    const bool json = args.flag("--json");
    TokenArrayJson array;
    Table table({"ID", "USER", "NAME", "START", "CREATED", "LAST USED", "EXPIRES", "USES",
                 "STATE"});
    for (const std::string& user : users) {
        auto st = (*store)->each_token(user, [&](const TokenRecord& t) {
            if (json) {
                array.add(t);
            } else {
                add_row(table, t, now);
            }
        });
        if (!st) return report(cmd, st.error());
    }
    if (json) {
        std::fputs((array.take() + "\n").c_str(), stdout);
    } else {
        table.print(stdout);
    }
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

int revoke_command(int argc, char** argv) {
    static constexpr OptionSpec kOptions[] = {{"--db"}};
    Args args;
    const ArgsSpec spec{.options = kOptions, .min_positionals = 1, .max_positionals = 1,
                        .positional_name = "the token's ID"};
    if (auto exit = parse_or_exit(argc, argv, spec, kRevokeUsage, args)) return *exit;
    const std::string_view cmd = "revoke";
    auto db = args.required("--db");
    if (!db) return usage_error(cmd, db.error());
    const std::string& id = args.positionals()[0];
    if (id.empty() || id.size() > 255) return usage_error(cmd, invalid("ID is malformed"));

    auto store = open_database(*db, false, cmd);
    if (!store) return report(cmd, store.error());
    auto deleted = (*store)->revoke(id, std::nullopt);
    if (!deleted) return report(cmd, deleted.error());
    if (!*deleted) {
        std::fprintf(stderr, "gvx revoke: no such token: %s\n", printable(id).c_str());
        return kExitFailure;
    }
    std::printf("revoked %s\n", printable(id).c_str());
    return kExitOk;
}


}  // namespace gvx::cli
