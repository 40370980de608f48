// gvx find: for incident response, names the owner and id of a token read on standard input
// (a leaked token), without verifying it (no usage is counted, nothing is logged).
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "command.hpp"
#include "json/json.hpp"
#include "core/token.hpp"
#include "database.hpp"
#include "lookup.hpp"
#include "text.hpp"

namespace gvx::cli {
namespace {

constexpr std::string_view kFindUsage = R"(usage: gvx find --db DB [--json] < FILE

Reads one token on standard input (typed, pasted or piped; it is never echoed or printed) and
names the token it is: owner, id, name, state. Exits 1 when no token in DB matches. Revoke a
leaked token with gvx revoke --db DB ID.

  --db DB  the gvx database
  --json   the API's token object instead
)";

constexpr std::size_t kMaxInput = 64 * 1024;

// Turns terminal echo off while a token is typed or pasted, and back on when done.
class NoEcho {
   public:
    NoEcho() {
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        if (active_) std::fputs("Token (not echoed), then Enter: ", stderr);
    }
    ~NoEcho() {
        if (!active_) return;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
        std::fputc('\n', stderr);
    }
    NoEcho(const NoEcho&) = delete;
    NoEcho& operator=(const NoEcho&) = delete;
    bool interactive() const { return active_; }

   private:
    termios saved_{};
    bool active_ = false;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The token on standard input: surrounding white space removed, exactly one word. From a
// terminal, one line; otherwise all of it (at most kMaxInput bytes).
Result<SecretString> read_token() {
    SecretString input;
    std::string& s = input.buffer();
    s.reserve(kMaxInput + 1);  // never reallocated, so wiping it wipes every copy
    {
        NoEcho no_echo;
        int c = 0;
        while (s.size() <= kMaxInput && (c = std::getchar()) != EOF) {
            if (no_echo.interactive() && c == '\n') break;
            s.push_back(static_cast<char>(c));
        }
    }
    if (s.size() > kMaxInput) return invalid("standard input is too long to be a token");
    std::size_t begin = 0, end = s.size();
    while (begin < end && is_space(s[begin])) ++begin;
    while (end > begin && is_space(s[end - 1])) --end;
    if (begin == end) return invalid("no token on standard input");
    const std::string_view word(s.data() + begin, end - begin);
    for (char c : word) {
        if (is_space(c)) return invalid("standard input holds more than one word; give one token");
    }
    if (word.size() > kMaxTokenLength) return invalid("standard input is too long to be a token");
    return SecretString(word);
}

}  // namespace

int find_command(int argc, char** argv) {
    static constexpr OptionSpec kOptions[] = {{"--db"}, {"--json", false}};
    Args args;
    if (auto exit = parse_or_exit(argc, argv, {.options = kOptions}, kFindUsage, args))
        return *exit;
    const std::string_view cmd = "find";
    auto db = args.required("--db");
    if (!db) return usage_error(cmd, db.error());
    auto store = open_database(*db, false, cmd);
    if (!store) return report(cmd, store.error());

    auto token = read_token();
    if (!token) return report(cmd, token.error());
    const bool well_formed = has_gvx_format(token->view());
    auto found = token_by_key(**store, hash_key(token->view()));
    if (!found) return report(cmd, found.error());
    if (!*found) {
        std::fprintf(stderr, "gvx find: no token in %s matches%s\n", db->c_str(),
                     well_formed ? " (it is well-formed: revoked, purged, or from another database)"
                                 : " (and it is not a well-formed gvx token)");
        return kExitFailure;
    }
    const TokenRecord& t = **found;
    if (args.flag("--json")) {
        std::fputs((token_json(t) + "\n").c_str(), stdout);
        return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
    }
    const std::int64_t now = now_ms();
    std::printf("owner      %s\nid         %s\nname       %s\nstart      %s\ncreated    %s\n"
                "last used  %s\nexpires    %s\nuses       %lld\nstate      %s\n",
                printable(t.user_id).c_str(), t.id.c_str(), printable(t.name.value_or("")).c_str(),
                printable(t.start.value_or("")).c_str(),
                format_time(t.created_at, "-").c_str(),
                format_time(t.last_request, "never").c_str(),
                format_time(t.expires_at, "never").c_str(),
                static_cast<long long>(t.request_count), std::string(token_state(t, now)).c_str());
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace gvx::cli
