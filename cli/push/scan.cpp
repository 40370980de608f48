// gvx scan: push protection for files and directories, e.g. a CI job over a checkout
// (README, "Push protection"). Exit 1 when a live token is found, 0 when none is.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "command.hpp"
#include "database.hpp"
#include "push/content_scan.hpp"
#include "push/process.hpp"
#include "push/verdicts.hpp"
#include "text.hpp"

namespace gvx::cli {
namespace {

using namespace gvx::push;
namespace fs = std::filesystem;

constexpr std::string_view kScanUsage =
    R"(usage: gvx scan --db DB [--max-blob-size BYTES] PATH...

Scans files, and directories recursively, for live gvx tokens: every string of a token's shape
with a valid checksum (any prefix) is looked up by its hash. Prints each live token's file,
line and first six characters, never the token. Revoked, disabled, expired and unknown
tokens pass. Skipped: directories named .git, symbolic links inside directories, files larger
than --max-blob-size, and binary files (a NUL byte in the first 8000 bytes).

Exit status: 0 no live token, 1 a live token found, 2 bad usage or the check failed.

  --db DB              the gvx database (must exist)
  --max-blob-size N    largest file scanned, in bytes (default 4194304)
)";

struct Totals {
    std::uint64_t files = 0;
    std::uint64_t skipped = 0;
    std::uint64_t live = 0;
};

class FileScanner {
   public:
    FileScanner(Verdicts& verdicts, std::uint64_t max_bytes)
        : verdicts_(verdicts), max_bytes_(max_bytes), buf_(64 * 1024) {}

    // Scans one regular file; an error only when the database fails.
    Status file(const std::string& path) {
        Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
        struct stat st {};
        if (!fd || fstat(fd.get(), &st) != 0) {
            std::fprintf(stderr, "gvx scan: cannot read %s: %s\n", printable(path).c_str(),
                         std::strerror(errno));
            ++totals.skipped;
            return Ok{};
        }
        if (content_.begin(static_cast<std::uint64_t>(st.st_size), max_bytes_) ==
            Skipped::too_large) {
            ++totals.skipped;
            return Ok{};
        }
        for (;;) {
            const ssize_t n = ::read(fd.get(), buf_.data(), buf_.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                std::fprintf(stderr, "gvx scan: cannot read %s: %s\n", printable(path).c_str(),
                             std::strerror(errno));
                break;
            }
            if (n == 0) break;
            content_.feed(std::string_view(buf_.data(), static_cast<std::size_t>(n)));
        }
        found_.clear();
        if (content_.end(found_) == Skipped::binary) {
            ++totals.skipped;
            return Ok{};
        }
        ++totals.files;
        for (const Sighting& s : found_) {
            auto v = verdicts_.of(s.key_hash);
            if (!v) return std::move(v).error();
            if (v->state != TokenState::live) continue;
            ++totals.live;
            std::printf("%s:%llu: live gvx token %s...\n", printable(path).c_str(),
                        static_cast<unsigned long long>(s.line),
                        printable(v->token->start.value_or(s.start)).c_str());
        }
        return Ok{};
    }

    // A file, or a directory walked without following symbolic links or entering .git.
    Status path(const std::string& p) {
        std::error_code ec;
        const fs::file_status st = fs::status(p, ec);
        if (ec) return invalid("cannot read " + p + ": " + ec.message());
        if (fs::is_regular_file(st)) return file(p);
        if (!fs::is_directory(st)) return invalid(p + " is neither a file nor a directory");
        fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
        if (ec) return invalid("cannot read " + p + ": " + ec.message());
        for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) return invalid("cannot read " + p + ": " + ec.message());
            const fs::directory_entry& e = *it;
            if (e.is_symlink(ec)) continue;
            if (e.is_directory(ec)) {
                if (e.path().filename() == ".git") it.disable_recursion_pending();
                continue;
            }
            if (!e.is_regular_file(ec)) continue;
            if (auto st2 = file(e.path().string()); !st2) return st2;
        }
        return Ok{};
    }

    Totals totals;

   private:
    Verdicts& verdicts_;
    std::uint64_t max_bytes_;
    std::vector<char> buf_;
    ContentScan content_;
    std::vector<Sighting> found_;
};

}  // namespace

int scan_command(int argc, char** argv) {
    static constexpr OptionSpec kOptions[] = {{"--db"}, {"--max-blob-size"}};
    Args args;
    if (auto exit = parse_or_exit(
            argc, argv,
            {.options = kOptions, .min_positionals = 1, .max_positionals = 1'000'000,
             .positional_name = "PATH"},
            kScanUsage, args))
        return *exit;
    const std::string_view cmd = "scan";
    auto db = args.required("--db");
    if (!db) return usage_error(cmd, db.error());
    std::uint64_t max_bytes = kDefaultMaxBytes;
    if (auto v = args.value("--max-blob-size")) {
        auto n = parse_integer(*v, 0, 1LL << 40);
        if (!n) return usage_error(cmd, invalid("--max-blob-size must be a number of bytes"));
        max_bytes = static_cast<std::uint64_t>(*n);
    }
    auto store = open_database(*db, false, cmd);
    if (!store) {
        report(cmd, store.error());
        return kExitUsage;
    }
    Verdicts verdicts(**store, now_ms());
    FileScanner scanner(verdicts, max_bytes);
    for (const std::string& p : args.positionals()) {
        if (auto st = scanner.path(p); !st) {
            report(cmd, st.error());
            return kExitUsage;
        }
    }
    const Totals& t = scanner.totals;
    std::fprintf(stderr, "gvx scan: %llu files scanned, %llu skipped, %llu live tokens\n",
                 static_cast<unsigned long long>(t.files),
                 static_cast<unsigned long long>(t.skipped),
                 static_cast<unsigned long long>(t.live));
    std::fflush(stdout);
    return t.live > 0 ? kExitFailure : kExitOk;
}

}  // namespace gvx::cli
