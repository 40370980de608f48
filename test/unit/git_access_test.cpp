// What a Git-over-HTTP request needs (SPEC §13), from REQUEST_URI as the servers pass it:
// every git-http-backend endpoint, and requests built to look like a read while the server
// would run a push, or to name one repository while the server serves another.
#include <gtest/gtest.h>

#include "core/git_access.hpp"

namespace gvx {
namespace {

const std::string kRoot = "/git/";

}  // namespace

// Readable failures: {read,write} @ alice/project
void PrintTo(const GitNeed& n, std::ostream* os) {
    *os << "{";
    for (const auto& a : n.actions) *os << a << ",";
    *os << "} @ " << (n.repository ? *n.repository : std::string("(none)"));
}

namespace {

GitNeed need(std::string_view uri) {
    const std::size_t q = uri.find('?');
    return git_need(kRoot, uri.substr(0, q),
                    q == std::string_view::npos ? std::string_view() : uri.substr(q + 1));
}

GitNeed read(std::optional<std::string> repo) { return GitNeed{{"read"}, std::move(repo)}; }
GitNeed write(std::optional<std::string> repo) { return GitNeed{{"write"}, std::move(repo)}; }
const GitNeed kAnything{{"read", "write"}, std::nullopt};

TEST(GitAccess, SmartHttp) {
    EXPECT_EQ(need("/git/alice/project.git/info/refs?service=git-upload-pack"),
              read("alice/project"));
    EXPECT_EQ(need("/git/alice/project.git/git-upload-pack"), read("alice/project"));
    EXPECT_EQ(need("/git/alice/project.git/info/refs?service=git-receive-pack"),
              write("alice/project"));
    EXPECT_EQ(need("/git/alice/project.git/git-receive-pack"), write("alice/project"));
    EXPECT_EQ(need("/git/project.git/git-receive-pack"), write("project"));
    EXPECT_EQ(need("/git/a/b/c.git/git-upload-pack"), read("a/b/c"));
}

TEST(GitAccess, DumbHttp) {
    EXPECT_EQ(need("/git/alice/project.git/info/refs"), read("alice/project"));
    EXPECT_EQ(need("/git/alice/project.git/HEAD"), read("alice/project"));
    EXPECT_EQ(need("/git/alice/project.git/objects/info/packs"), read("alice/project"));
    EXPECT_EQ(need("/git/alice/project.git/objects/info/alternates"), read("alice/project"));
    EXPECT_EQ(need("/git/alice/project.git/objects/info/http-alternates"),
              read("alice/project"));
    const std::string sha1(38, 'a'), sha256(62, 'b');
    EXPECT_EQ(need("/git/alice/project.git/objects/12/" + sha1), read("alice/project"));
    EXPECT_EQ(need("/git/alice/project.git/objects/12/" + sha256), read("alice/project"));
    EXPECT_EQ(need("/git/p.git/objects/pack/pack-" + std::string(40, 'c') + ".pack"),
              read("p"));
    EXPECT_EQ(need("/git/p.git/objects/pack/pack-" + std::string(64, 'd') + ".idx"), read("p"));
}

TEST(GitAccess, WithoutDotGitNamesTheSameRepository) {
    EXPECT_EQ(need("/git/alice/project/info/refs?service=git-upload-pack"),
              read("alice/project"));
    // Only one .git is taken off; "alice/project.git" is no name a permission can give.
    EXPECT_EQ(need("/git/alice/project.git.git/git-upload-pack"), read(std::nullopt));
}

TEST(GitAccess, OtherEndpointsNeedEverything) {
    EXPECT_EQ(need("/git/alice/project.git/config"), kAnything);
    EXPECT_EQ(need("/git/alice/project.git/objects/12/xyz"), kAnything);
    EXPECT_EQ(need("/git/alice/project.git/objects/pack/pack-1234.pack"), kAnything);
    EXPECT_EQ(need("/git/alice/project.git/git-upload-archive"), kAnything);
    EXPECT_EQ(need("/git/alice/project.git/"), kAnything);
    EXPECT_EQ(need("/git/alice/project.git/git-receive-pack/"), kAnything);
    EXPECT_EQ(need("/git/"), kAnything);
    EXPECT_EQ(need("/git"), kAnything);
    EXPECT_EQ(need("/git/info/refs"), kAnything);        // no repository before it
    EXPECT_EQ(need("/other/alice/x.git/git-upload-pack"), kAnything);  // outside the root
    EXPECT_EQ(need(""), kAnything);
}

TEST(GitAccess, ServiceParameterAsGitHttpBackendReadsIt) {
    // git-http-backend decodes the parameter and keeps the last one: only a plain
    // git-upload-pack everywhere is a read.
    EXPECT_EQ(need("/git/a.git/info/refs?service=git-upload-pack&service=git-receive-pack"),
              write("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?service=git-receive-pack&service=git-upload-pack"),
              write("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?service=git-receive-pac%6b"), write("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?s%65rvice=git-receive-pack"), write("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?service=git-upload-pack%"), write("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?service"), write("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?service="), write("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?service=git-upload-archive"), write("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?%zz=1"), write("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?service=git%2Dupload%2Dpack"), read("a"));
    EXPECT_EQ(need("/git/a.git/info/refs?x=1&service=git-upload-pack&y"), read("a"));
    // Another parameter does not matter; the query of a POST does not either.
    EXPECT_EQ(need("/git/a.git/git-upload-pack?service=git-receive-pack"), read("a"));
}

TEST(GitAccess, EncodedPathsAreDecodedAsTheServersDo) {
    EXPECT_EQ(need("/git/alice/project.git/git-receive-pac%6b"), write("alice/project"));
    EXPECT_EQ(need("/git/al%69ce/project.git/git-upload-pack"), read("alice/project"));
    EXPECT_EQ(need("/%67it/alice/project.git/git-upload-pack"), read("alice/project"));
    EXPECT_EQ(need("/git/alice/pro%20ject.git/git-upload-pack"), read("alice/pro ject"));
    EXPECT_EQ(need("/git/alice/project%2egit/git-upload-pack"), read("alice/project"));
}

TEST(GitAccess, HostilePathsNameNoRepository) {
    // Dot segments, which the server resolves before git-http-backend sees the path.
    EXPECT_EQ(need("/git/alice/../bob/x.git/git-receive-pack"), kAnything);
    EXPECT_EQ(need("/git/alice/project.git/../../bob/x.git/git-receive-pack"), kAnything);
    EXPECT_EQ(need("/git/alice/%2e%2e/bob/x.git/git-receive-pack"), kAnything);
    EXPECT_EQ(need("/git/alice/%2E%2E/bob/x.git/info/refs?service=git-upload-pack"),
              kAnything);
    EXPECT_EQ(need("/git/alice/./project.git/git-upload-pack"), kAnything);
    EXPECT_EQ(need("/git/alice/project.git/git-upload-pack/../git-receive-pack"), kAnything);
    EXPECT_EQ(need("/git/../alice/project.git/git-upload-pack"), kAnything);
    // Empty segments, which servers merge.
    EXPECT_EQ(need("/git//alice/project.git/git-receive-pack"), kAnything);
    EXPECT_EQ(need("/git/alice//project.git/git-receive-pack"), kAnything);
    // Encoded separators: a '/' to lighttpd and nginx, refused by Apache.
    EXPECT_EQ(need("/git/alice%2Fproject.git/git-receive-pack"), kAnything);
    EXPECT_EQ(need("/git/alice%2fproject.git/git-upload-pack"), kAnything);
    EXPECT_EQ(need("/git/alice%5Cproject.git/git-upload-pack"), kAnything);
    EXPECT_EQ(need("/git/alice\\project.git/git-upload-pack"), kAnything);
    // Malformed escapes, control characters, NUL.
    EXPECT_EQ(need("/git/alice/pro%zzject.git/git-upload-pack"), kAnything);
    EXPECT_EQ(need("/git/alice/project.git/git-upload-pack%"), kAnything);
    EXPECT_EQ(need("/git/alice/pro%00ject.git/git-upload-pack"), kAnything);
    EXPECT_EQ(need("/git/alice/pro%0aject.git/git-upload-pack"), kAnything);
}

TEST(GitAccess, OddRepositoryNamesKeepTheActionButNameNoRepository) {
    // The action is certain, the repository path is not one a permission can name.
    EXPECT_EQ(need("/git/alice/.git/git-upload-pack"), read(std::nullopt));
    EXPECT_EQ(need("/git/.git/git-receive-pack"), write(std::nullopt));
    EXPECT_EQ(need("/git/alice/50%25.git/git-upload-pack"), read(std::nullopt));
    EXPECT_EQ(need("/git/" + std::string(300, 'x') + ".git/git-upload-pack"), read(std::nullopt));
}

TEST(GitAccess, CaseIsKept) {
    EXPECT_EQ(need("/git/ALICE/Project.git/git-upload-pack"), read("ALICE/Project"));
    EXPECT_EQ(need("/git/alice/project.GIT/git-upload-pack"), read("alice/project.GIT"));
    EXPECT_EQ(need("/GIT/alice/project.git/git-upload-pack"), kAnything);
}

TEST(GitAccess, PermissionRequests) {
    EXPECT_EQ(permissions_json(git_permission_request(read("alice/project"))),
              R"({"repo:alice/project":["read"]})");
    EXPECT_EQ(permissions_json(git_permission_request(kAnything)),
              R"({"repo":["read","write"]})");
}

TEST(GitAccess, OtherRoots) {
    EXPECT_EQ(git_need("/", "/alice/x.git/git-upload-pack", ""), read("alice/x"));
    EXPECT_EQ(git_need("/srv/git/", "/srv/git/x.git/git-receive-pack", ""), write("x"));
    EXPECT_EQ(git_need("/srv/git/", "/git/x.git/git-receive-pack", ""), kAnything);
    EXPECT_EQ(normalize_git_root("/git"), "/git/");
    EXPECT_EQ(normalize_git_root("/git/"), "/git/");
    EXPECT_EQ(normalize_git_root("/"), "/");
    EXPECT_EQ(normalize_git_root("/srv/repos"), "/srv/repos/");
    for (const char* bad : {"", "git", "/git/../x", "/a//b", "/%67it", "/git?x", "/g it", "/./"})
        EXPECT_EQ(normalize_git_root(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace gvx
