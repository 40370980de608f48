// What one Git-over-HTTP request needs from a token (SPEC §13), read from the request as the
// client sent it: REQUEST_URI, which lighttpd, Apache and nginx all hand to the authorizer
// undecoded, query included (nginx's auth_request subrequest has an empty QUERY_STRING).
//
//   GET  /git/alice/project.git/info/refs?service=git-upload-pack   read   alice/project
//   POST /git/alice/project.git/git-upload-pack                      read   alice/project
//   GET  /git/alice/project.git/info/refs?service=git-receive-pack  write  alice/project
//   POST /git/alice/project.git/git-receive-pack                     write  alice/project
//   GET  /git/alice/project.git/HEAD, objects/..., info/refs          read   (dumb HTTP)
//
// The web server decodes and normalises the path before git-http-backend sees it, so the
// authorizer decodes too, and fails closed where the two could disagree: a path with "." or
// ".." segments, "//", an encoded '/' or '\\', or anything else that is not a plain repository
// path names no repository, and then only the all-repositories "repo" resource can cover it.
// A request that is not one of git-http-backend's endpoints, or an info/refs whose service is
// anything but exactly git-upload-pack (git-http-backend takes the last "service" and decodes
// it), needs read and write.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/permissions.hpp"

namespace gvx {

inline constexpr std::string_view kDefaultGitRoot = "/git/";

struct GitNeed {
    std::vector<std::string> actions;       // "read", or "write", or both
    std::optional<std::string> repository;  // nullopt: no repository can be named
    bool operator==(const GitNeed&) const = default;
};

// The need of one request. git_root is where repositories live in the URL space ("/git/",
// as normalize_git_root gives it); path is REQUEST_URI before '?', undecoded; query is what
// follows '?', undecoded. The method does not matter: git-http-backend refuses a method that
// does not fit the endpoint.
GitNeed git_need(std::string_view git_root, std::string_view path, std::string_view query);

// The same need as a better-auth permission request: {"repo:<path>": actions}, or
// {"repo": actions} when no repository can be named.
Permissions git_permission_request(const GitNeed& need);

// The git root as an option gives it, made to begin and end with '/'; nullopt when it is not
// an absolute URL path ("/", "/git/", "/srv/repos"), or contains '%', '?', '#' or "..".
std::optional<std::string> normalize_git_root(std::string_view root);

}  // namespace gvx
