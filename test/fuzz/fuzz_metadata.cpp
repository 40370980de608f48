// Fuzz target: stored metadata as gvx-fcgi and gvx.so read it back (ext/json/json.hpp):
// decode_metadata on hostile column text (a Gitflare export or an admin's UPDATE can hold
// anything), and the token object around it must stay one valid JSON document.
#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "json/json.hpp"
#include "fuzz_common.hpp"

namespace {

bool valid_json(std::string_view s) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(s.data(), s.size());
    return !doc.HasParseError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    const auto meta = gvx::decode_metadata(in);
    if (meta) GVX_FUZZ_CHECK(valid_json(*meta));

    gvx::TokenRecord t;
    t.id = "id0000000000000000000000000000000";
    t.name = "fuzz";
    t.user_id = "alice";
    t.created_at = t.updated_at = 1;
    t.metadata = std::string(in);
    const std::string one = gvx::token_json(t);
    GVX_FUZZ_CHECK(valid_json(one));
    gvx::TokenRecord copy = t;
    const gvx::TokenRecord both[] = {t, copy};
    GVX_FUZZ_CHECK(valid_json(gvx::tokens_json(both)));
    return 0;
}
