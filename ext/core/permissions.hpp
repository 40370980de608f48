// What a token may do (SPEC §13), in better-auth's format: apikey.permissions holds a JSON
// object that maps a resource to an array of actions, e.g.
//
//   {"repo":["read"]}                                 clone and fetch every repository
//   {"repo:alice/project":["read","write"]}           clone, fetch and push alice/project only
//   NULL (every token made before permissions, and Gitflare's) = {"repo":["read","write"]}
//
// gvx's resources: "repo" (every repository the owner may use) and "repo:<path>" (one
// repository: its path under the Git root as it appears in the URL, without ".git"). Actions:
// "read" (clone, fetch) and "write" (push).
//
// better-auth's rule decides (its role(...).authorize): a request {resource: [actions]} passes
// only if the token lists every requested action under every requested resource; an empty
// request passes nothing. gvx adds one thing its resources imply: "repo" also covers any
// "repo:<path>".
//
// No JSON library here: the format is small (an object of arrays of strings), and a parser of
// exactly that shape refuses everything else without nesting or surprises.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace gvx {

inline constexpr std::string_view kRepoResource = "repo";
inline constexpr std::string_view kRepoResourcePrefix = "repo:";
inline constexpr std::string_view kReadAction = "read";
inline constexpr std::string_view kWriteAction = "write";

// Bounds on what a caller may ask for (a hostile body cannot make gvx store or scan much).
inline constexpr std::size_t kMaxPermissionsBytes = 16 * 1024;
inline constexpr std::size_t kMaxPermissionResources = 100;
inline constexpr std::size_t kMaxActionsPerResource = 16;
inline constexpr std::size_t kMaxRepoPathBytes = 255;

// Resource -> actions, in the order given, each action once.
struct Permissions {
    std::vector<std::pair<std::string, std::vector<std::string>>> grants;

    // The actions listed for resource, or nullptr when it is not listed.
    const std::vector<std::string>* actions_for(std::string_view resource) const;
    bool grants_action(std::string_view resource, std::string_view action) const;
    bool operator==(const Permissions&) const = default;
};

// The permissions NULL stands for: {"repo":["read","write"]}.
Permissions full_permissions();

// Permissions a caller asks for (POST /create, gvx_create, gvx rotate): a JSON object of
// arrays of strings, with only gvx's resources and actions, each resource once, no empty
// action list, within the bounds above. Errors begin with "permissions" and name the
// offending resource or action.
Result<Permissions> parse_permissions(std::string_view json);

// The apikey.permissions column as gvx or better-auth wrote it (JSON text; a JSON string
// holding it is decoded once more). nullopt (SQL NULL) and the text 'null' give
// full_permissions(). Text that is not an object of arrays of strings grants nothing: gvx
// fails closed on a column it cannot read. Resources gvx does not know are kept (another
// application may share the table); they never match a Git request.
struct StoredPermissions {
    Permissions permissions;
    bool is_null = false;   // the column was NULL (or 'null'): full access
    bool readable = true;   // false: the column was malformed and grants nothing
};
StoredPermissions read_stored_permissions(std::optional<std::string_view> column);

// A request to check a token against (gvx_check's permissions argument): the same syntax as
// parse_permissions, but any resource and action names (as better-auth's verifyApiKey takes
// them); ones the token does not list are simply not covered.
Result<Permissions> parse_permission_request(std::string_view json);

// better-auth's rule, with "repo" covering every "repo:<path>": true when every requested
// action of every requested resource is granted. An empty request is not covered.
bool covers(const Permissions& granted, const Permissions& requested);

// Compact JSON, as stored in apikey.permissions and shown in the token object.
std::string permissions_json(const Permissions& p);

// Why path is not a repository path as gvx names repositories, or nullopt when it is one.
// A path is segments joined by single '/' (none empty, "." or ".."), of valid UTF-8 without
// control characters, '%', '\\', '?' or '#', at most kMaxRepoPathBytes, and does not end in
// ".git" (the resource names the repository, not the directory). Case matters: Git
// repositories are directories, and alice/Project is not alice/project.
std::optional<std::string> repo_path_problem(std::string_view path);

}  // namespace gvx
