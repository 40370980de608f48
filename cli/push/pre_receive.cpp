// gvx pre-receive: the pre-receive hook of push protection (README, "Push protection").
//
// Reads git's ref updates ("<old> <new> <ref>" lines) on standard input, scans what the push
// adds to the repository, and refuses the push (exit 1) when it holds a live token. Messages
// go to standard error, which git shows the pusher as "remote: ...": commit, path, line and
// the token's first six characters, never the token.
#include <csignal>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "command.hpp"
#include "database.hpp"
#include "push/pushed_objects.hpp"
#include "push/verdicts.hpp"
#include "text.hpp"

namespace gvx::cli {
namespace {

using namespace gvx::push;

constexpr std::string_view kPreReceiveUsage =
    R"(usage: gvx pre-receive --db DB [--revoke] [--fail-open] [--max-blob-size BYTES]
                       [--timeout SECONDS]

A git pre-receive hook: refuses a push that adds a live gvx token to the repository. Install
it as the repository's hooks/pre-receive (or in a directory named by core.hooksPath):

  #!/bin/sh
  exec gvx pre-receive --db /var/lib/gvx/gvx.db

It scans the blobs, commit messages and tag messages that no ref of the repository reaches
yet, finds every string of a token's shape with a valid checksum (any prefix), and looks each
up by its hash. Revoked, disabled, expired and unknown tokens pass. Blobs larger than
--max-blob-size and blobs whose first 8000 bytes hold a NUL byte (binary) are not scanned.

  --db DB              the gvx database (must exist)
  --revoke             also disable each live token found and record LEAKED in its activity
  --fail-open          let the push through, with a warning, when the check itself fails
                       (database unreachable, git failing, time limit); default: refuse it
  --max-blob-size N    largest blob scanned, in bytes (default 4194304)
  --timeout SECONDS    time limit for the whole check (default 30)
)";

constexpr long long kDefaultTimeoutSeconds = 30;
constexpr std::size_t kMaxListed = 20;

void say(const std::string& line) { std::fprintf(stderr, "gvx: %s\n", line.c_str()); }

// The check could not be made: refuse, unless the operator chose to fail open.
int cannot_check(const std::string& why, bool fail_open) {
    if (fail_open) {
        say("warning: push protection could not check this push: " + why);
        say("warning: the push is let through unchecked (--fail-open)");
        return kExitOk;
    }
    say("push refused: push protection could not check it: " + why);
    say("nothing was changed; push again later, or ask the server's operator");
    return kExitFailure;
}

bool is_zero_id(std::string_view id) { return id.find_first_not_of('0') == std::string_view::npos; }

bool is_object_id(std::string_view id) {
    return (id.size() == 40 || id.size() == 64) &&
           id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The new tips of the ref updates on standard input (deletions have none).
Result<std::vector<std::string>> read_updates(std::istream& in) {
    std::vector<std::string> tips;
    std::set<std::string> seen;
    std::string old_id, new_id, ref;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const std::size_t a = line.find(' ');
        const std::size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
        if (b == std::string::npos) return invalid("unexpected ref update on standard input");
        old_id = line.substr(0, a);
        new_id = line.substr(a + 1, b - a - 1);
        if (!is_object_id(old_id) || !is_object_id(new_id))
            return invalid("unexpected ref update on standard input");
        if (!is_zero_id(new_id) && seen.insert(new_id).second) tips.push_back(new_id);
    }
    return tips;
}

struct Leak {
    ObjectSighting where;
    TokenRecord token;
    std::string commit;
};

std::string place_of(const Leak& l) {
    const std::string line = ", line " + std::to_string(l.where.sighting.line);
    std::string commit = l.commit.empty() ? "" : ", commit " + l.commit.substr(0, 12);
    if (l.where.type == "commit") return "in the message of commit " + l.where.object.substr(0, 12);
    if (l.where.type == "tag")
        return "in the message of tag " + printable(l.where.path) + line;
    return "in " + printable(l.where.path) + line + commit;
}

void explain(const std::vector<Leak>& leaks, bool revoked) {
    say("push refused: it adds " + std::to_string(leaks.size()) +
        (leaks.size() == 1 ? " live gvx token" : " live gvx tokens") +
        " to the repository:");
    for (std::size_t i = 0; i < leaks.size() && i < kMaxListed; ++i) {
        const Leak& l = leaks[i];
        say("  " + printable(l.token.start.value_or(l.where.sighting.start)) + "... " +
            place_of(l));
    }
    if (leaks.size() > kMaxListed)
        say("  and " + std::to_string(leaks.size() - kMaxListed) + " more");
    if (revoked) {
        say("These tokens have been revoked: they no longer work, and their owners see LEAKED");
        say("in the tokens' activity. Create new ones where they were used.");
    } else {
        say("Treat each token as exposed: revoke it and create a new one.");
    }
    say("Remove the tokens from the commits you push, then push again:");
    say("  in the last commit:   edit the file, then  git commit --amend -a");
    say("  in an older commit:   git rebase -i COMMIT^  (mark COMMIT \"edit\", edit the file,");
    say("                        git commit --amend -a, git rebase --continue)");
    say("  in many commits:      git filter-repo --replace-text FILE  (FILE lists the tokens)");
}

}  // namespace

int pre_receive_command(int argc, char** argv) {
    static constexpr OptionSpec kOptions[] = {{"--db"},
                                              {"--revoke", false},
                                              {"--fail-open", false},
                                              {"--max-blob-size"},
                                              {"--timeout"}};
    Args args;
    if (auto exit = parse_or_exit(argc, argv, {.options = kOptions}, kPreReceiveUsage, args))
        return *exit;
    const std::string_view cmd = "pre-receive";
    auto db = args.required("--db");
    if (!db) return usage_error(cmd, db.error());
    std::uint64_t max_bytes = kDefaultMaxBytes;
    if (auto v = args.value("--max-blob-size")) {
        auto n = parse_integer(*v, 0, 1LL << 40);
        if (!n) return usage_error(cmd, invalid("--max-blob-size must be a number of bytes"));
        max_bytes = static_cast<std::uint64_t>(*n);
    }
    long long timeout = kDefaultTimeoutSeconds;
    if (auto v = args.value("--timeout")) {
        auto n = parse_integer(*v, 1, 86'400);
        if (!n) return usage_error(cmd, invalid("--timeout must be 1 to 86400 seconds"));
        timeout = *n;
    }
    const bool fail_open = args.flag("--fail-open");
    const bool revoke = args.flag("--revoke");
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(timeout);
    std::signal(SIGPIPE, SIG_IGN);  // a git process that dies is an error value, not a signal

    auto tips = read_updates(std::cin);
    if (!tips) return cannot_check(tips.error().message, fail_open);
    if (tips->empty()) return kExitOk;  // only deletions

    // The database first: a hook that cannot reach it must say so on every push, not only on
    // the first push that happens to hold a token.
    auto store = open_database(*db, false, cmd);
    if (!store) return cannot_check("the token database is unreachable (" +
                                        store.error().message + ")", fail_open);
    auto scan = scan_pushed_objects(*tips, max_bytes, deadline);
    if (!scan) {
        std::string why = scan.error().message;
        if (scan.error().code == Errc::busy)
            why += " (" + std::to_string(timeout) + " s)";
        return cannot_check(why, fail_open);
    }

    Verdicts verdicts(**store, now_ms());
    std::vector<Leak> leaks;
    for (ObjectSighting& s : scan->sightings) {
        // Each distinct token costs a lookup: a push of many token-shaped strings stays
        // within the time limit too.
        if (Clock::now() > deadline)
            return cannot_check(timed_out().message + " (" + std::to_string(timeout) + " s)",
                                fail_open);
        auto v = verdicts.of(s.sighting.key_hash);
        if (!v) return cannot_check("the token database failed (" + v.error().message + ")",
                                    fail_open);
        if (v->state == TokenState::live) leaks.push_back(Leak{std::move(s), *v->token, ""});
    }
    if (leaks.empty()) return kExitOk;

    for (Leak& l : leaks) l.commit = introducing_commit(*tips, l.where, deadline);
    bool revoked_all = revoke;
    if (revoke) {
        const char* remote = std::getenv("REMOTE_ADDR");
        std::set<std::string> done;
        for (const Leak& l : leaks) {
            if (!done.insert(l.token.id).second) continue;
            const std::string where = "gvx pre-receive: pushed in " +
                                      (l.where.type == "blob" ? l.where.path : l.where.type) +
                                      (l.commit.empty() ? "" : " (" + l.commit.substr(0, 12) + ")");
            auto r = verdicts.revoke(l.token, remote ? remote : "", where);
            if (!r) {
                revoked_all = false;
                say("could not revoke " + printable(l.token.start.value_or("")) + "...: " +
                    r.error().message);
            }
        }
    }
    explain(leaks, revoked_all);
    return kExitFailure;
}

}  // namespace gvx::cli
