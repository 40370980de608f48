// JSON shapes: the token object of SPEC §5 and better-auth's double-encoded metadata.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "json/json.hpp"

namespace gvx {
namespace {

TEST(Json, MetadataDecodesOnceOrTwice) {
    EXPECT_EQ(decode_metadata(R"({"a":1})"), R"({"a":1})");
    EXPECT_EQ(decode_metadata(R"("{\"a\":1}")"), R"({"a":1})");  // better-auth 1.4
    EXPECT_EQ(decode_metadata("null"), std::nullopt);
    EXPECT_EQ(decode_metadata(""), std::nullopt);
    EXPECT_EQ(decode_metadata("{broken"), std::nullopt);
    EXPECT_EQ(decode_metadata(R"("not json inside")"), std::nullopt);
}

TEST(Json, TokenObjectHasEveryDocumentedField) {
    TokenRecord t;
    t.id = "id1";
    t.name = "CI pipeline";
    t.start = "gvx_Ab";
    t.prefix = "gvx_";
    t.user_id = "alice";
    t.created_at = 1000;
    t.updated_at = 2000;
    t.request_count = 3;
    t.metadata = R"("{\"team\":\"web\"}")";
    const std::string json = token_json(t);
    rapidjson::Document d;
    d.Parse(json.c_str());
    ASSERT_FALSE(d.HasParseError()) << json;
    for (const char* k : {"id", "name", "start", "prefix", "userId", "enabled", "createdAt",
                          "updatedAt", "expiresAt", "lastRequest", "requestCount", "metadata"})
        EXPECT_TRUE(d.HasMember(k)) << k;
    EXPECT_FALSE(d.HasMember("key"));
    EXPECT_TRUE(d["expiresAt"].IsNull());
    EXPECT_TRUE(d["lastRequest"].IsNull());
    EXPECT_EQ(d["requestCount"].GetInt64(), 3);
    EXPECT_STREQ(d["metadata"]["team"].GetString(), "web");

    const std::string created = token_json(t, std::string_view("gvx_secret"));
    d.Parse(created.c_str());
    ASSERT_FALSE(d.HasParseError()) << created;
    EXPECT_STREQ(d["key"].GetString(), "gvx_secret");
    EXPECT_STREQ(d["userId"].GetString(), "alice");
}

TEST(Json, ErrorsAreEscaped) {
    rapidjson::Document d;
    d.Parse(error_json("INVALID", "quote \" and \\ and \n").c_str());
    ASSERT_FALSE(d.HasParseError());
    EXPECT_STREQ(d["message"].GetString(), "quote \" and \\ and \n");
}

}  // namespace
}  // namespace gvx
