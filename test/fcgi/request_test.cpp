// request.cpp: Content-Length, query strings, percent-decoding, the response head.
#include "request.hpp"

#include <gtest/gtest.h>

namespace gvx::fcgi {
namespace {

TEST(Request, ParseLengthAcceptsPlainDigitsOnly) {
    EXPECT_EQ(parse_length("0"), 0u);
    EXPECT_EQ(parse_length("65536"), 65536u);
    EXPECT_EQ(parse_length("007"), 7u);
    for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1e3", "0x10", "12a",
                            "99999999999999999999", "18446744073709551616"}) {
        EXPECT_FALSE(parse_length(bad)) << bad;
    }
}

TEST(Request, PercentDecode) {
    EXPECT_EQ(percent_decode("a%20b%2Bc+d"), "a b+c+d");
    EXPECT_EQ(percent_decode("%3d%3D"), "==");
    EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
    EXPECT_EQ(percent_decode(""), "");
    for (const char* bad : {"%", "%2", "a%zz", "%g0", "abc%"})
        EXPECT_FALSE(percent_decode(bad));
}

TEST(Request, QueryParam) {
    EXPECT_EQ(query_param("id=abc&limit=5", "id"), "abc");
    EXPECT_EQ(query_param("id=abc&limit=5", "limit"), "5");
    EXPECT_EQ(query_param("xid=1&id=%27x%27", "id"), "'x'");
    EXPECT_EQ(query_param("id", "id"), "");
    EXPECT_EQ(query_param("id=1&id=2", "id"), "1");
    EXPECT_FALSE(query_param("", "id"));
    EXPECT_FALSE(query_param("idx=1", "id"));
    EXPECT_FALSE(query_param("id=%zz", "id"));
}

TEST(Request, JsonErrorShape) {
    const Response r = json_error(404, "NOT_FOUND", "no \"such\" token");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, R"({"code":"NOT_FOUND","message":"no \"such\" token"})");
}

TEST(Request, SerializeHead) {
    Response r = json_ok("{}");
    r.header("Retry-After", "3");
    EXPECT_EQ(serialize_head(r),
              "Status: 200 OK\r\nRetry-After: 3\r\nContent-Type: application/json\r\n"
              "Cache-Control: no-store\r\nContent-Length: 2\r\n\r\n");
    Response t = json_error(429, "RATE_LIMITED", "slow down");
    t.header("Content-Type", "text/plain");
    const std::string head = serialize_head(t);
    EXPECT_EQ(head.rfind("Status: 429 Too Many Requests\r\n", 0), 0u);
    EXPECT_EQ(head.find("application/json"), std::string::npos);
    for (int status : {200, 400, 401, 403, 404, 405, 411, 413, 415, 429, 500, 503})
        EXPECT_NE(reason_phrase(status), "Unknown") << status;
}

}  // namespace
}  // namespace gvx::fcgi
