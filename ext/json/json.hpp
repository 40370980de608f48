// JSON shapes shared by the SQL functions and the HTTP API (RapidJSON writers). The only
// module that includes RapidJSON besides the HTTP API's body parser: ext/core stays free of it.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/limits.hpp"
#include "core/policy.hpp"
#include "core/record.hpp"
#include "core/result.hpp"

namespace gvx {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The token object of SPEC §5: id, name, start, prefix, userId, enabled, createdAt, updatedAt,
// expiresAt, lastRequest, requestCount, metadata, and the rate-limit and usage fields when set.
void write_token(JsonWriter& w, const TokenRecord& t);
// The same object as text; with key_to_reveal, the create response (token object + "key").
std::string token_json(const TokenRecord& t, std::optional<std::string_view> key_to_reveal = {});
std::string tokens_json(std::span<const TokenRecord> tokens);

// The same array written one token at a time (Store::each_token), so a long list is never
// held twice: add() each token, then take() the JSON.
class TokenArrayJson {
   public:
    TokenArrayJson() : writer_(buffer_) { writer_.StartArray(); }
    void add(const TokenRecord& t) { write_token(writer_, t); }
    std::string take() {
        writer_.EndArray();
        return {buffer_.GetString(), buffer_.GetSize()};
    }

   private:
    rapidjson::StringBuffer buffer_;
    JsonWriter writer_;
};

void write_activity(JsonWriter& w, const ActivityRecord& a);
std::string activity_json(std::span<const ActivityRecord> entries);

// gvx_check()'s answer: {"valid": bool, "error": {code, message[, retryAfter]} | null,
// "key": token object | null}; record is the verified token when the outcome is ok.
std::string check_json(Outcome outcome, std::int64_t retry_after_ms, const TokenRecord* record);

// {"code": code, "message": message}
std::string error_json(std::string_view code, std::string_view message);

// True when no array or object in the (possibly malformed) JSON text nests deeper than
// max_depth. A linear scan, safe to run before parsing.
bool nesting_within(std::string_view json, int max_depth);

// Metadata as stored by gvx (JSON) or by better-auth 1.4 (JSON of a JSON string): the decoded
// value as compact JSON text, or nullopt for none ('null', empty, malformed).
std::optional<std::string> decode_metadata(std::string_view stored);

// Metadata given to gvx_create() as text: the compact JSON of one object. Nesting is checked
// before anything parses it (kMaxJsonDepth: deeper input would exhaust a small stack). The
// error says what is wrong ("must be a JSON object"), for the caller to name its argument.
Result<std::string> metadata_object(std::string_view text);

}  // namespace gvx
