// options.cpp: gvx-fcgi's command line and the session secret file.
#include "options.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace gvx::fcgi {
namespace {

Result<Options> parse(std::vector<std::string> args) {
    args.insert(args.begin(), "gvx-fcgi");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(Options, ParsesEverything) {
    auto o = parse({"--db", "t.db", "--trust-remote-user", "--session-secret-file", "s",
                    "--trusted-origin", "https://git.example.com/", "--trusted-origin",
                    "http://localhost:3000", "--listen", "127.0.0.1:9000", "--api-base", "/api/",
                    "--realm", "Git", "--strict-username", "--backlog", "16", "--threads", "3"});
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->db_path, "t.db");
    EXPECT_TRUE(o->trust_remote_user);
    EXPECT_EQ(o->session_secret_file, "s");
    EXPECT_EQ(o->trusted_origins,
              (std::vector<std::string>{"https://git.example.com", "http://localhost:3000"}));
    EXPECT_EQ(o->listen, "127.0.0.1:9000");
    EXPECT_EQ(o->api_base, "/api");
    EXPECT_EQ(o->realm, "Git");
    EXPECT_TRUE(o->strict_username);
    EXPECT_EQ(o->backlog, 16);
    EXPECT_EQ(o->threads, 3);
    EXPECT_EQ(o->wire, Wire::gvx);
    EXPECT_EQ(o->session_cookie, SessionCookie::both);
    EXPECT_TRUE(parse({"--help"}));
    o = parse({"--db", "t.db", "--wire", "better-auth", "--session-cookie", "secure"});
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->wire, Wire::better_auth);
    EXPECT_EQ(o->session_cookie, SessionCookie::secure);
    EXPECT_EQ(parse({"--db", "t.db", "--session-cookie", "plain"})->session_cookie,
              SessionCookie::plain);
}

TEST(Options, RefusesWhatWouldNotWork) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {},
             {"--db"},
             {"--db", ""},
             {"--db", "t.db", "--bogus"},
             {"--db", "t.db", "--backlog", "0"},
             {"--db", "t.db", "--backlog", "12x"},
             {"--db", "t.db", "--threads", "0"},
             {"--db", "t.db", "--threads", "257"},
             {"--db", "t.db", "--threads", "-1"},
             {"--db", "t.db", "--realm", "a\"b"},
             {"--db", "t.db", "--trusted-origin", "git.example.com"},
             {"--db", "t.db", "--trusted-origin", "https://git.example.com/path"},
             {"--db", "t.db", "--trusted-origin", "https://"},
             {"--db", "t.db", "--trusted-origin", "https://user@git.example.com"},
             {"--db", "t.db", "--trusted-origin", "HTTPS://git.example.com"},
             {"--db", "t.db", "--trusted-origin", "https://git.example.com?x"},
             {"--db", "t.db", "--wire", "json"},
             {"--db", "t.db", "--wire"},
             {"--db", "t.db", "--session-cookie", "Secure"}}) {
        EXPECT_FALSE(parse(args)) << (args.empty() ? "" : args.back());
    }
}

TEST(Options, SocketAndPeerOptions) {
    auto o = parse({"--db", "t.db", "--listen", "/run/gvx/api.sock", "--socket-mode", "0640",
                    "--socket-group", "www-data", "--trusted-peer", "10.0.0.7",
                    "--trusted-peer", "127.0.0.1", "--allow-core-dumps"});
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->socket_mode, 0640u);
    EXPECT_EQ(o->socket_group, "www-data");
    EXPECT_EQ(o->trusted_peers, (std::vector<std::string>{"10.0.0.7", "127.0.0.1"}));
    EXPECT_TRUE(o->allow_core_dumps);
    auto d = parse({"--db", "t.db"});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->socket_mode, 0660u);
    EXPECT_FALSE(d->allow_core_dumps);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--db", "t.db", "--socket-mode", "0666"},  // other users could connect
             {"--db", "t.db", "--socket-mode", "0661"},
             {"--db", "t.db", "--socket-mode", "rw-rw----"},
             {"--db", "t.db", "--socket-mode", "01660"},
             {"--db", "t.db", "--socket-mode", "0898"},
             {"--db", "t.db", "--trusted-peer", "localhost"},
             {"--db", "t.db", "--trusted-peer", "::1"},
             {"--db", "t.db", "--trusted-peer", "10.0.0.300"}}) {
        EXPECT_FALSE(parse(args)) << args.back();
    }
}

TEST(Options, ReadsTheSecretWithoutItsNewline) {
    char path[] = "/tmp/gvx-secret-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    std::ofstream(path) << "s3cret value\r\n";
    auto s = read_secret_file(path);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->view(), "s3cret value");
    std::ofstream(path) << "\n";
    EXPECT_FALSE(read_secret_file(path));
    std::remove(path);
    EXPECT_FALSE(read_secret_file(path));
}

}  // namespace
}  // namespace gvx::fcgi
