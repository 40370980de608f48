#include "database.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "command.hpp"

namespace gvx::cli {
namespace {

std::string parent_directory(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

// Creates the empty database file for root, owned like its directory (see open_database).
Status create_for_directory_owner(const std::string& path) {
    struct stat dir {};
    if (stat(parent_directory(path).c_str(), &dir) != 0)
        return invalid("cannot create " + path + ": " + std::strerror(errno));
    if (dir.st_uid == 0) return Ok{};  // root's own directory: SQLite creates the file as usual
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        if (errno == EEXIST) return Ok{};  // somebody else made it meanwhile
        return invalid("cannot create " + path + ": " + std::strerror(errno));
    }
    const int rc = fchown(fd, dir.st_uid, dir.st_gid);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) {
        ::unlink(path.c_str());
        return invalid("cannot give " + path + " to its directory's owner: " +
                       std::strerror(saved));
    }
    return Ok{};
}

}  // namespace

Result<std::unique_ptr<Store>> open_database(const std::string& path, bool may_create,
                                             std::string_view command) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) return invalid("cannot use " + path + ": " + std::strerror(errno));
        if (!may_create) return invalid("no database at " + path);
        if (geteuid() == 0) {
            if (auto made = create_for_directory_owner(path); !made) return std::move(made).error();
        }
    } else if (!S_ISREG(st.st_mode)) {
        return invalid(path + " is not a database file");
    }
    auto store = Store::open(path);
    if (!store) {
        Error e = std::move(store).error();
        e.message = path + ": " + e.message;
        return e;
    }
    (*store)->set_actor(system_actor(AuditVia::admin, "gvx " + std::string(command)));
    return store;
}

int report(std::string_view command, const Error& e) {
    std::string message = e.message;
    if (e.code == Errc::busy) message = "the database is busy; retry";
    std::fprintf(stderr, "gvx %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 message.c_str());
    return e.code == Errc::invalid_argument ? kExitUsage : kExitFailure;
}

int usage_error(std::string_view command, const Error& e) {
    const int n = static_cast<int>(command.size());
    std::fprintf(stderr, "gvx %.*s: %s (see gvx %.*s --help)\n", n, command.data(),
                 e.message.c_str(), n, command.data());
    return kExitUsage;
}

std::optional<int> parse_or_exit(int argc, char** argv, const ArgsSpec& spec,
                                 std::string_view usage, Args& args) {
    const std::string_view command = argv[0];
    auto parsed = Args::parse(argc, argv, spec);
    if (!parsed) return usage_error(command, parsed.error());
    if (parsed->help()) {
        std::fwrite(usage.data(), 1, usage.size(), stdout);
        return kExitOk;
    }
    args = std::move(*parsed);
    return std::nullopt;
}

}  // namespace gvx::cli
