#include "command.hpp"

namespace gvx::cli {
namespace {

constexpr Command kCommands[] = {
    {"create", create_command, "create a token for a user and print it (once)"},
    {"list", list_command, "list tokens (of one user, or of everyone)"},
    {"revoke", revoke_command, "delete a token by its id"},
    {"rotate", rotate_command, "replace a token by a new one (printed once), by its id"},
    {"audit", audit_command, "who created, changed or deleted which token, when, from where"},
    {"find", find_command, "name the owner and id of a token read on standard input"},
    {"pre-receive", pre_receive_command, "git hook: refuse a push that adds a live token"},
    {"scan", scan_command, "find live tokens in files and directories (exit 1 if any)"},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace gvx::cli
