#include "command.hpp"

namespace gvx::cli {
namespace {

constexpr Command kCommands[] = {
    {"create", create_command, "create a token for a user and print it (once)"},
    {"list", list_command, "list tokens (of one user, or of everyone)"},
    {"revoke", revoke_command, "delete a token by its id"},
    {"find", find_command, "name the owner and id of a token read on standard input"},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace gvx::cli
