#include "json/json.hpp"

#include <rapidjson/document.h>

#include "core/permissions.hpp"

namespace gvx {
namespace {

void key(JsonWriter& w, std::string_view k) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void str(JsonWriter& w, std::string_view v) {
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void opt_str(JsonWriter& w, std::string_view k, const std::optional<std::string>& v) {
    key(w, k);
    if (v) str(w, *v);
    else w.Null();
}
void opt_int(JsonWriter& w, std::string_view k, const std::optional<std::int64_t>& v) {
    key(w, k);
    if (v) w.Int64(*v);
    else w.Null();
}

}  // namespace

bool nesting_within(std::string_view json, int max_depth) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return false;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return true;
}

std::optional<std::string> decode_metadata(std::string_view stored) {
    if (!nesting_within(stored, kMaxJsonDepth)) return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(stored.data(), stored.size());
    if (doc.HasParseError()) return std::nullopt;
    if (doc.IsString()) {  // better-auth 1.4 stores JSON.stringify(JSON.stringify(obj))
        if (!nesting_within({doc.GetString(), doc.GetStringLength()}, kMaxJsonDepth))
            return std::nullopt;
        rapidjson::Document inner;
        inner.Parse(doc.GetString(), doc.GetStringLength());
        if (inner.HasParseError()) return std::nullopt;
        doc.Swap(inner);
    }
    if (doc.IsNull()) return std::nullopt;
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    // RapidJSON parses numbers between DBL_MAX and 1e309 as infinity, which its writer then
    // refuses half-way: without this check the caller got truncated, invalid JSON.
    if (!doc.Accept(w)) return std::nullopt;
    return std::string(buf.GetString(), buf.GetSize());
}

Result<std::string> metadata_object(std::string_view text) {
    const auto range_or_depth = [] {
        return invalid("numbers must be within the range of a double, nesting at most " +
                       std::to_string(kMaxJsonDepth) + " levels");
    };
    if (!nesting_within(text, kMaxJsonDepth)) return range_or_depth();
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject())
        return invalid("must be a JSON object");
    auto compact = decode_metadata(text);
    if (!compact) return range_or_depth();  // 5.5e308 (parsed as infinity)
    return std::move(*compact);
}

void write_token(JsonWriter& w, const TokenRecord& t) {
    w.StartObject();
    key(w, "id");
    str(w, t.id);
    opt_str(w, "name", t.name);
    opt_str(w, "start", t.start);
    opt_str(w, "prefix", t.prefix);
    key(w, "userId");
    str(w, t.user_id);
    key(w, "enabled");
    w.Bool(t.enabled);
    key(w, "createdAt");
    w.Int64(t.created_at);
    key(w, "updatedAt");
    w.Int64(t.updated_at);
    opt_int(w, "expiresAt", t.expires_at);
    opt_int(w, "lastRequest", t.last_request);
    key(w, "requestCount");
    w.Int64(t.request_count);
    key(w, "metadata");
    const auto meta = t.metadata ? decode_metadata(*t.metadata) : std::nullopt;
    if (meta) w.RawValue(meta->data(), meta->size(), rapidjson::kObjectType);
    else w.Null();
    // NULL (read and write everywhere) is null, as better-auth shows it; a column gvx cannot
    // read is {} (it grants nothing).
    key(w, "permissions");
    const StoredPermissions stored = read_stored_permissions(t.permissions);
    if (stored.is_null) {
        w.Null();
    } else {
        const std::string p = permissions_json(stored.permissions);
        w.RawValue(p.data(), p.size(), rapidjson::kObjectType);
    }
    if (t.rate_limit_enabled) {
        key(w, "rateLimitEnabled");
        w.Bool(*t.rate_limit_enabled);
    }
    if (t.rate_limit_time_window) opt_int(w, "rateLimitTimeWindow", t.rate_limit_time_window);
    if (t.rate_limit_max) opt_int(w, "rateLimitMax", t.rate_limit_max);
    if (t.remaining) opt_int(w, "remaining", t.remaining);
    w.EndObject();
}

std::string token_json(const TokenRecord& t, std::optional<std::string_view> key_to_reveal) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    if (!key_to_reveal) {
        write_token(w, t);
        return {buf.GetString(), buf.GetSize()};
    }
    // The create response: the token object plus "key", written in one pass.
    write_token(w, t);
    std::string out(buf.GetString(), buf.GetSize());
    out.pop_back();  // '}'
    out.append(",\"key\":\"").append(*key_to_reveal).append("\"}");  // token is [A-Za-z0-9_-]
    return out;
}

std::string tokens_json(std::span<const TokenRecord> tokens) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartArray();
    for (const auto& t : tokens) write_token(w, t);
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

void write_activity(JsonWriter& w, const ActivityRecord& a) {
    w.StartObject();
    key(w, "id");
    w.Int64(a.id);
    key(w, "at");
    w.Int64(a.at);
    opt_str(w, "keyId", a.key_id);
    key(w, "start");
    str(w, a.key_start);
    key(w, "outcome");
    str(w, a.outcome);
    key(w, "ip");
    str(w, a.ip);
    key(w, "userAgent");
    str(w, a.user_agent);
    key(w, "count");
    w.Int64(a.count);
    key(w, "lastAt");
    if (a.last_at) w.Int64(*a.last_at);
    else w.Null();
    w.EndObject();
}

std::string activity_json(std::span<const ActivityRecord> entries) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartArray();
    for (const auto& a : entries) write_activity(w, a);
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

std::string check_json(Outcome outcome, std::int64_t retry_after_ms, const TokenRecord* record) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    key(w, "valid");
    w.Bool(outcome == Outcome::ok);
    key(w, "error");
    if (outcome == Outcome::ok) {
        w.Null();
    } else {
        w.StartObject();
        key(w, "code");
        str(w, outcome_code(outcome));
        key(w, "message");
        str(w, outcome_message(outcome));
        if (outcome == Outcome::rate_limited) {
            key(w, "retryAfter");  // seconds, as the HTTP header
            w.Int64(retry_after_seconds(retry_after_ms));
        }
        w.EndObject();
    }
    key(w, "key");
    if (outcome == Outcome::ok && record) write_token(w, *record);
    else w.Null();
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

std::string error_json(std::string_view code, std::string_view message) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    key(w, "code");
    str(w, code);
    key(w, "message");
    str(w, message);
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

}  // namespace gvx
