// Opening the token database for an admin command, and reporting what goes wrong.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "args.hpp"
#include "store.hpp"

namespace gvx::cli {

// Opens the database at path and brings its schema up to date. A missing file is refused
// unless may_create (a typo in --db must not leave a new empty database behind). When root
// creates the file in a directory that belongs to another user (the service user's
// /var/lib/gvx), the file is given to that directory's owner and group, mode 0640, so the
// service can still write it; SQLite gives its -wal and -shm files the same owner.
// Changes made through the store are the audit trail's "admin", by the system user who ran
// `gvx <command>`.
Result<std::unique_ptr<Store>> open_database(const std::string& path, bool may_create,
                                             std::string_view command);

// Prints "gvx <command>: <message>" for an error and returns the exit status it deserves.
int report(std::string_view command, const Error& e);

// Prints "gvx <command>: <message> (see gvx <command> --help)" and returns kExitUsage.
int usage_error(std::string_view command, const Error& e);

// Parses the subcommand's arguments; on --help prints usage to stdout and returns kExitOk,
// on an error prints it and returns kExitUsage; otherwise returns nullopt and fills args.
std::optional<int> parse_or_exit(int argc, char** argv, const ArgsSpec& spec,
                                 std::string_view usage, Args& args);

}  // namespace gvx::cli
