// The gvx admin command's subcommands.
//
// Each subcommand is a function with main()'s shape: argv[0] is the subcommand's name
// ("create"), the rest its arguments. It returns the exit status (kExitOk, kExitFailure,
// kExitUsage) and writes its own messages, prefixed "gvx <name>: ".
//
// To add a subcommand: write its function in its own file under cli/, declare it below, add
// one line to kCommands in commands.cpp, and add the file to cli/CMakeLists.txt.
#pragma once

#include <span>
#include <string_view>

namespace gvx::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed (not found, database, ...)
inline constexpr int kExitUsage = 2;    // the command line was wrong

using CommandFn = int (*)(int argc, char** argv);

struct Command {
    std::string_view name;
    CommandFn run;
    std::string_view summary;  // one line for `gvx --help`
};

// The table `gvx` dispatches over, in the order `gvx --help` lists it.
std::span<const Command> commands();

// Token administration (tokens.cpp, rotate.cpp, find.cpp, audit.cpp).
int create_command(int argc, char** argv);
int list_command(int argc, char** argv);
int revoke_command(int argc, char** argv);
int rotate_command(int argc, char** argv);
int audit_command(int argc, char** argv);
int find_command(int argc, char** argv);

// Push protection (push/pre_receive.cpp, push/scan.cpp).
int pre_receive_command(int argc, char** argv);
int scan_command(int argc, char** argv);

}  // namespace gvx::cli
