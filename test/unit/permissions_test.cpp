// Token permissions (SPEC §13): better-auth's JSON format, gvx's resources and actions,
// better-auth's matching rule, and hostile input of every kind.
#include <gtest/gtest.h>

#include <string>

#include "core/permissions.hpp"

namespace gvx {
namespace {

Permissions perms(std::initializer_list<std::pair<std::string, std::vector<std::string>>> g) {
    Permissions p;
    for (const auto& x : g) p.grants.push_back(x);
    return p;
}

std::string error_of(std::string_view json) {
    auto p = parse_permissions(json);
    EXPECT_FALSE(p) << json;
    return p ? std::string() : p.error().message;
}

TEST(Permissions, ParsesBetterAuthsFormat) {
    auto p = parse_permissions(R"({"repo":["read"]})");
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, perms({{"repo", {"read"}}}));

    p = parse_permissions(
        " {\n \"repo:alice/project\" : [ \"read\" , \"write\" ], \"repo:bob/x\":[\"read\"] } ");
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, perms({{"repo:alice/project", {"read", "write"}}, {"repo:bob/x", {"read"}}}));
    EXPECT_EQ(permissions_json(*p),
              R"({"repo:alice/project":["read","write"],"repo:bob/x":["read"]})");
}

TEST(Permissions, EscapesDecodeAndRoundTrip) {
    auto p = parse_permissions(R"({"r\u0065po:al\/ice/caf\u00e9":["re\u0061d"]})");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->grants[0].first, "repo:al/ice/caf\xC3\xA9");
    EXPECT_EQ(p->grants[0].second, std::vector<std::string>{"read"});
    auto again = parse_permissions(permissions_json(*p));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *p);
    // A supplementary-plane character as a surrogate pair.
    p = parse_permissions(R"({"repo:a/\ud83d\ude00":["read"]})");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->grants[0].first, "repo:a/\xF0\x9F\x98\x80");
}

TEST(Permissions, DuplicateActionsCountOnce) {
    auto p = parse_permissions(R"({"repo":["read","read","write","read"]})");
    ASSERT_TRUE(p);
    EXPECT_EQ(permissions_json(*p), R"({"repo":["read","write"]})");
}

TEST(Permissions, EmptyObjectGrantsNothing) {
    auto p = parse_permissions("{}");
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->grants.empty());
    EXPECT_EQ(permissions_json(*p), "{}");
    EXPECT_FALSE(covers(*p, perms({{"repo", {"read"}}})));
}

TEST(Permissions, UnknownResourcesAndActionsAreNamed) {
    EXPECT_NE(error_of(R"({"issues":["read"]})").find("unknown resource \"issues\""),
              std::string::npos);
    EXPECT_NE(error_of(R"({"repo":["read","admin"]})").find("unknown action \"admin\""),
              std::string::npos);
    EXPECT_NE(error_of(R"({"repo:alice/x":["push"]})").find("\"repo:alice/x\""),
              std::string::npos);
    EXPECT_NE(error_of(R"({"Repo":["read"]})").find("unknown resource"), std::string::npos);
    EXPECT_NE(error_of(R"({"repo":["READ"]})").find("unknown action \"READ\""),
              std::string::npos);
    EXPECT_NE(error_of(R"({"":["read"]})").find("unknown resource \"\""), std::string::npos);
    EXPECT_NE(error_of(R"({"repo":[]})").find("lists no actions"), std::string::npos);
    EXPECT_NE(error_of(R"({"repo":["read"],"repo":["write"]})").find("given twice"),
              std::string::npos);
}

TEST(Permissions, MalformedJsonIsRefused) {
    for (const char* bad : {"", " ", "null", "[]", R"(["repo"])", R"("repo")", "{", "}",
                            R"({"repo"})", R"({"repo":})", R"({"repo":"read"})",
                            R"({"repo":["read",]})", R"({"repo":["read"],})", R"({repo:["read"]})",
                            R"({"repo":[1]})", R"({"repo":[null]})", R"({"repo":[["read"]]})",
                            R"({"repo":{"read":true}})", R"({"repo":["read"]} x)",
                            R"({"repo":["read"]}{})", R"({'repo':['read']})",
                            R"({"repo":["re\qd"]})", R"({"repo":["read)", "{\"repo\":[\"re\tad\"]}",
                            R"({"repo":["\u00"]})", R"({"repo":["\ud800"]})",
                            R"({"repo":["\udc00\ud800"]})", R"({"repo":["\u0000read"]})"}) {
        auto p = parse_permissions(bad);
        EXPECT_FALSE(p) << bad;
        if (!p) {
            EXPECT_TRUE(p.error().message.starts_with("permissions")) << bad;
        }
    }
    // Raw invalid UTF-8 and a raw NUL inside a string.
    EXPECT_FALSE(parse_permissions("{\"repo:a/\xC3\x28\":[\"read\"]}"));
    EXPECT_FALSE(parse_permissions(std::string("{\"repo:a\0b\":[\"read\"]}", 20)));
}

TEST(Permissions, HugeInputIsBounded) {
    std::string many_actions = R"({"repo":[)";
    for (int i = 0; i < 17; ++i) many_actions += std::string(i ? "," : "") + "\"read\"";
    many_actions += "]}";
    EXPECT_NE(error_of(many_actions).find("too many actions"), std::string::npos);

    std::string many_resources = "{";
    for (int i = 0; i < 101; ++i)
        many_resources += (i ? ",\"repo:a/r" : "\"repo:a/r") + std::to_string(i) + "\":[\"read\"]";
    many_resources += "}";
    EXPECT_NE(error_of(many_resources).find("too many resources"), std::string::npos);

    std::string long_text = R"({"repo:a/)" + std::string(20000, 'x') + R"(":["read"]})";
    EXPECT_NE(error_of(long_text).find("too long"), std::string::npos);

    const std::string long_path = R"({"repo:)" + std::string(256, 'p') + R"(":["read"]})";
    EXPECT_NE(error_of(long_path).find("longer than 255"), std::string::npos);
    // The message quotes at most a short, printable piece of what was sent.
    EXPECT_LT(error_of(long_path).size(), 200u);
}

TEST(Permissions, HostileRepositoryPathsAreRefused) {
    for (const char* bad : {
             R"({"repo:":["read"]})",                  // empty
             R"({"repo:alice/../bob/x":["read"]})",    // ..
             R"({"repo:../x":["read"]})",
             R"({"repo:alice/./x":["read"]})",         // .
             R"({"repo:alice/%2e%2e/x":["read"]})",    // encoded dots
             R"({"repo:alice%2Fx":["read"]})",         // encoded slash
             R"({"repo:alice//x":["read"]})",          // empty segment
             R"({"repo:/alice/x":["read"]})",          // absolute
             R"({"repo:alice/x/":["read"]})",          // trailing slash
             R"({"repo:alice/x.git":["read"]})",       // .git
             R"({"repo:alice\\x":["read"]})",          // backslash
             R"({"repo:alice/x?y":["read"]})",
             R"({"repo:alice/x#y":["read"]})",
             R"({"repo:alice/\nx":["read"]})",         // control character
             R"({"repo:alice/\u007fx":["read"]})",
         }) {
        const std::string message = error_of(bad);
        EXPECT_NE(message.find("repository path"), std::string::npos) << bad << ": " << message;
    }
    EXPECT_NE(error_of(R"({"repo:alice/x.git":["read"]})").find(".git"), std::string::npos);
}

TEST(Permissions, CaseIsKeptAndMatters) {
    auto p = parse_permissions(R"({"repo:Alice/Project":["read"]})");
    ASSERT_TRUE(p);
    EXPECT_TRUE(covers(*p, perms({{"repo:Alice/Project", {"read"}}})));
    EXPECT_FALSE(covers(*p, perms({{"repo:alice/project", {"read"}}})));
    // A name that merely contains .git elsewhere is fine; only the suffix is refused.
    EXPECT_TRUE(parse_permissions(R"({"repo:alice/x.github.io":["read"]})"));
    EXPECT_TRUE(parse_permissions(R"({"repo:alice/x.GIT":["read"]})"));
}

TEST(Permissions, BetterAuthsRule) {
    const Permissions read_only = perms({{"repo", {"read"}}});
    EXPECT_TRUE(covers(read_only, perms({{"repo", {"read"}}})));
    EXPECT_FALSE(covers(read_only, perms({{"repo", {"write"}}})));
    EXPECT_FALSE(covers(read_only, perms({{"repo", {"read", "write"}}})));
    // An empty request passes nothing; a listed resource with no requested action passes.
    EXPECT_FALSE(covers(read_only, Permissions{}));
    EXPECT_TRUE(covers(read_only, perms({{"repo", {}}})));
    // Every requested resource must be listed.
    EXPECT_FALSE(covers(read_only, perms({{"repo", {"read"}}, {"issues", {"read"}}})));
    // Other applications' resources work as better-auth's do.
    const Permissions other = perms({{"files", {"read", "share"}}});
    EXPECT_TRUE(covers(other, perms({{"files", {"share"}}})));
    EXPECT_FALSE(covers(other, perms({{"files", {"delete"}}})));
}

TEST(Permissions, RepoCoversEveryRepository) {
    const Permissions all_read = perms({{"repo", {"read"}}});
    EXPECT_TRUE(covers(all_read, perms({{"repo:alice/project", {"read"}}})));
    EXPECT_FALSE(covers(all_read, perms({{"repo:alice/project", {"write"}}})));

    const Permissions one = perms({{"repo:alice/project", {"read", "write"}}});
    EXPECT_TRUE(covers(one, perms({{"repo:alice/project", {"write"}}})));
    EXPECT_FALSE(covers(one, perms({{"repo:alice/other", {"read"}}})));
    EXPECT_FALSE(covers(one, perms({{"repo:alice/project2", {"read"}}})));
    EXPECT_FALSE(covers(one, perms({{"repo:alice", {"read"}}})));
    EXPECT_FALSE(covers(one, perms({{"repo", {"read"}}})));  // one repository is not all

    // Actions may come from either: read everywhere plus write to one repository.
    const Permissions mixed = perms({{"repo", {"read"}}, {"repo:alice/project", {"write"}}});
    EXPECT_TRUE(covers(mixed, perms({{"repo:alice/project", {"read", "write"}}})));
    EXPECT_FALSE(covers(mixed, perms({{"repo:alice/other", {"read", "write"}}})));
}

TEST(Permissions, StoredNullMeansFullAccess) {
    for (auto column : {std::optional<std::string_view>{}, std::optional<std::string_view>{"null"}}) {
        const StoredPermissions s = read_stored_permissions(column);
        EXPECT_TRUE(s.is_null);
        EXPECT_TRUE(s.readable);
        EXPECT_EQ(s.permissions, full_permissions());
        EXPECT_TRUE(covers(s.permissions, perms({{"repo:any/thing", {"read", "write"}}})));
    }
}

TEST(Permissions, StoredColumnsAsBetterAuthWritesThem) {
    // better-auth 1.4.9 stores JSON.stringify(permissions).
    StoredPermissions s = read_stored_permissions(R"({"repo":["read"]})");
    EXPECT_FALSE(s.is_null);
    EXPECT_EQ(s.permissions, perms({{"repo", {"read"}}}));
    // Double-encoded, as better-auth does with metadata.
    s = read_stored_permissions(R"("{\"repo\":[\"write\"]}")");
    EXPECT_EQ(s.permissions, perms({{"repo", {"write"}}}));
    // Resources and actions gvx does not know are kept; duplicates: the last one wins.
    s = read_stored_permissions(R"({"files":["x"],"repo":["write"],"repo":["read"]})");
    EXPECT_EQ(s.permissions, perms({{"files", {"x"}}, {"repo", {"read"}}}));
}

TEST(Permissions, UnreadableStoredColumnsGrantNothing) {
    for (const char* bad : {"", "{", "[]", R"({"repo":"read,write"})", R"({"repo":[1]})",
                            R"("not json")", R"({"repo":{"actions":["read"]}})"}) {
        const StoredPermissions s = read_stored_permissions(std::string_view(bad));
        EXPECT_FALSE(s.readable) << bad;
        EXPECT_FALSE(s.is_null) << bad;
        EXPECT_FALSE(covers(s.permissions, perms({{"repo", {"read"}}}))) << bad;
    }
}

TEST(Permissions, RequestsMayNameAnything) {
    auto r = parse_permission_request(R"({"files":["share"]})");
    ASSERT_TRUE(r);
    EXPECT_FALSE(covers(full_permissions(), *r));
    EXPECT_FALSE(parse_permission_request(R"({"repo":"read"})"));
    EXPECT_FALSE(parse_permission_request("[]"));
}

TEST(Permissions, RepoPathRules) {
    EXPECT_EQ(repo_path_problem("alice/project"), std::nullopt);
    EXPECT_EQ(repo_path_problem("project"), std::nullopt);
    EXPECT_EQ(repo_path_problem("a/b/c/d"), std::nullopt);
    EXPECT_EQ(repo_path_problem("caf\xC3\xA9/x y"), std::nullopt);
    EXPECT_NE(repo_path_problem(""), std::nullopt);
    EXPECT_NE(repo_path_problem("a/.."), std::nullopt);
    EXPECT_NE(repo_path_problem(".."), std::nullopt);
    EXPECT_NE(repo_path_problem("."), std::nullopt);
    EXPECT_NE(repo_path_problem("a//b"), std::nullopt);
    EXPECT_NE(repo_path_problem("x.git"), std::nullopt);
    EXPECT_NE(repo_path_problem("a/%41"), std::nullopt);
    EXPECT_NE(repo_path_problem("\xFF"), std::nullopt);
    EXPECT_EQ(repo_path_problem(std::string(255, 'a')), std::nullopt);
    EXPECT_NE(repo_path_problem(std::string(256, 'a')), std::nullopt);
}

}  // namespace
}  // namespace gvx
