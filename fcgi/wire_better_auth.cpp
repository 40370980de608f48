#include "wire_better_auth.hpp"

#include <cinttypes>
#include <cstdio>
#include <span>
#include <string_view>

namespace gvx::fcgi::better_auth {
namespace {

// better-auth's API-key error codes are its messages upper-cased (APIError with a message only).
struct Said {
    std::string_view code;
    std::string_view message;
};
constexpr Said kNotFound{"API_KEY_NOT_FOUND", "API Key not found"};
constexpr Said kNoSession{"UNAUTHORIZED_OR_INVALID_SESSION", "Unauthorized or invalid session"};
constexpr Said kBadOrigin{"INVALID_ORIGIN", "Invalid origin"};
constexpr Said kServerOnly{
    "THE_PROPERTY_YOURE_TRYING_TO_SET_CAN_ONLY_BE_SET_FROM_THE_SERVER_AUTH_INSTANCE_ONLY",
    "The property you're trying to set can only be set from the server auth instance only."};
constexpr Said kMetadataType{"METADATA_MUST_BE_AN_OBJECT_OR_UNDEFINED",
                             "metadata must be an object or undefined"};
constexpr Said kExpiresSmall{"THE_EXPIRESIN_IS_SMALLER_THAN_THE_PREDEFINED_MINIMUM_VALUE",
                             "The expiresIn is smaller than the predefined minimum value."};
constexpr Said kExpiresLarge{"THE_EXPIRESIN_IS_LARGER_THAN_THE_PREDEFINED_MAXIMUM_VALUE",
                             "The expiresIn is larger than the predefined maximum value."};
constexpr Said kPrefixLength{"THE_PREFIX_LENGTH_IS_EITHER_TOO_LARGE_OR_TOO_SMALL",
                             "The prefix length is either too large or too small."};
constexpr Said kNameLength{"THE_NAME_LENGTH_IS_EITHER_TOO_LARGE_OR_TOO_SMALL",
                           "The name length is either too large or too small."};
constexpr Said kNoValues{"NO_VALUES_TO_UPDATE", "No values to update."};

// better-auth's defaults, which Gitflare keeps: names and prefixes of 1 to 32 characters,
// expiresIn from 1 to 365 days.
constexpr std::size_t kMaxName = 32;
constexpr std::size_t kMaxPrefix = 32;
constexpr double kMinExpiresDays = 1;
constexpr double kMaxExpiresDays = 365;

Response say(int status, const Said& s) { return json_error(status, s.code, s.message); }

Response validation(std::string_view where, std::string_view what) {
    return json_error(400, "VALIDATION_ERROR", "[" + std::string(where) + "] " + std::string(what));
}

// zod's name for the type of a JSON value, as in "expected string, received number".
std::string_view zod_type(const rapidjson::Value& v) {
    if (v.IsNull()) return "null";
    if (v.IsBool()) return "boolean";
    if (v.IsNumber()) return "number";
    if (v.IsString()) return "string";
    if (v.IsArray()) return "array";
    return "object";
}

// JavaScript's String.prototype.length: UTF-16 code units.
std::size_t js_length(std::string_view utf8) {
    std::size_t n = 0;
    for (unsigned char c : utf8) {
        if ((c & 0xC0) != 0x80) n += (c >= 0xF0) ? 2 : 1;
    }
    return n;
}

bool truthy(const rapidjson::Value& v) {
    if (v.IsNull()) return false;
    if (v.IsBool()) return v.GetBool();
    if (v.IsNumber()) return v.GetDouble() != 0;
    if (v.IsString()) return v.GetStringLength() != 0;
    return true;
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* name) {
    auto it = obj.FindMember(name);
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

enum class Type { string, number, boolean, any, permissions };
struct FieldRule {
    const char* name;
    Type type;
    bool nullable;
    bool required;
};

// The zod schemas of better-auth's create and update bodies (create-api-key.ts,
// update-api-key.ts); userId is coerced to a string, so any value passes.
constexpr FieldRule kCreateFields[] = {
    {"name", Type::string, false, false},           {"expiresIn", Type::number, true, false},
    {"userId", Type::any, true, false},             {"prefix", Type::string, false, false},
    {"remaining", Type::number, true, false},       {"metadata", Type::any, true, false},
    {"refillAmount", Type::number, false, false},   {"refillInterval", Type::number, false, false},
    {"rateLimitTimeWindow", Type::number, false, false},
    {"rateLimitMax", Type::number, false, false},
    {"rateLimitEnabled", Type::boolean, false, false},
    {"permissions", Type::permissions, false, false},
};
constexpr FieldRule kUpdateFields[] = {
    {"keyId", Type::string, false, true},           {"userId", Type::any, true, false},
    {"name", Type::string, false, false},           {"enabled", Type::boolean, false, false},
    {"remaining", Type::number, false, false},      {"refillAmount", Type::number, false, false},
    {"refillInterval", Type::number, false, false}, {"metadata", Type::any, true, false},
    {"expiresIn", Type::number, true, false},
    {"rateLimitEnabled", Type::boolean, false, false},
    {"rateLimitTimeWindow", Type::number, false, false},
    {"rateLimitMax", Type::number, false, false},   {"permissions", Type::permissions, true, false},
};

constexpr FieldRule kDeleteFields[] = {{"keyId", Type::string, false, true}};

std::optional<Response> check_types(std::span<const FieldRule> rules,
                                    const rapidjson::Value& body) {
    for (const FieldRule& f : rules) {
        const rapidjson::Value* v = member(body, f.name);
        const std::string where = std::string("body.") + f.name;
        if (!v) {
            if (f.required)
                return validation(where, "Invalid input: expected string, received undefined");
            continue;
        }
        if (v->IsNull() && f.nullable) continue;
        std::string_view expected;
        switch (f.type) {
            case Type::any: continue;
            case Type::string: expected = v->IsString() ? "" : "string"; break;
            case Type::number: expected = v->IsNumber() ? "" : "number"; break;
            case Type::boolean: expected = v->IsBool() ? "" : "boolean"; break;
            case Type::permissions: expected = v->IsObject() ? "" : "record"; break;
        }
        if (!expected.empty())
            return validation(where, "Invalid input: expected " + std::string(expected) +
                                         ", received " + std::string(zod_type(*v)));
    }
    if (const rapidjson::Value* p = member(body, "prefix"); p && p->IsString()) {
        for (char c : std::string_view(p->GetString(), p->GetStringLength())) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '_' || c == '-';
            if (!ok || p->GetStringLength() == 0)
                return validation("body.prefix",
                                  "Invalid prefix format, must be alphanumeric and contain only "
                                  "underscores and hyphens.");
        }
    }
    return std::nullopt;
}

bool present(const rapidjson::Value& body, const char* name) {
    return member(body, name) != nullptr;
}

std::optional<Response> check_expires_in(const rapidjson::Value& body) {
    const rapidjson::Value* e = member(body, "expiresIn");
    if (!e || !truthy(*e)) return std::nullopt;
    const double days = e->GetDouble() / 86400.0;
    if (days < kMinExpiresDays) return say(400, kExpiresSmall);
    if (days > kMaxExpiresDays) return say(400, kExpiresLarge);
    return std::nullopt;
}

std::optional<Response> check_name(const rapidjson::Value& body) {
    const rapidjson::Value* n = member(body, "name");
    if (!n || !truthy(*n)) return std::nullopt;
    if (js_length({n->GetString(), n->GetStringLength()}) > kMaxName) return say(400, kNameLength);
    return std::nullopt;
}

std::optional<Response> check_metadata(const rapidjson::Value& body) {
    const rapidjson::Value* m = member(body, "metadata");
    if (m && truthy(*m) && !m->IsObject() && !m->IsArray()) return say(400, kMetadataType);
    return std::nullopt;
}

}  // namespace

std::string iso8601(std::int64_t ms) {
    // Days since 1970-01-01 to a civil date (H. Hinnant's days_from_civil, inverted).
    std::int64_t days = ms / 86'400'000;
    std::int64_t rest = ms % 86'400'000;
    if (rest < 0) {
        rest += 86'400'000;
        days -= 1;
    }
    const std::int64_t z = days + 719'468;
    const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
    const std::int64_t doe = z - era * 146'097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    char buf[48];
    // toISOString: four-digit years, else a sign and six digits.
    const char* year_format = (year >= 0 && year <= 9999) ? "%04" PRId64 : "%+07" PRId64;
    int n = std::snprintf(buf, sizeof buf, year_format, year);
    std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n),
                  "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64 ":%02" PRId64
                  ".%03" PRId64 "Z",
                  month, day, rest / 3'600'000, rest / 60'000 % 60, rest / 1000 % 60, rest % 1000);
    return buf;
}

void write_token(JsonWriter& w, const TokenRecord& t, std::optional<std::string_view> key) {
    auto text = [&](const char* k, const std::optional<std::string>& v) {
        w.Key(k);
        v ? (void)w.String(v->data(), static_cast<rapidjson::SizeType>(v->size())) : (void)w.Null();
    };
    auto number = [&](const char* k, const std::optional<std::int64_t>& v) {
        w.Key(k);
        v ? (void)w.Int64(*v) : (void)w.Null();
    };
    auto date = [&](const char* k, const std::optional<std::int64_t>& v) {
        w.Key(k);
        if (!v) return (void)w.Null();
        const std::string s = iso8601(*v);
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    auto raw_json = [&](const char* k, const std::optional<std::string>& json) {
        w.Key(k);
        if (!json) return (void)w.Null();
        w.RawValue(json->data(), json->size(), rapidjson::kObjectType);
    };
    w.StartObject();
    text("name", t.name);
    text("start", t.start);
    text("prefix", t.prefix);
    if (key) {
        w.Key("key");
        w.String(key->data(), static_cast<rapidjson::SizeType>(key->size()));
    }
    w.Key("userId");
    w.String(t.user_id.data(), static_cast<rapidjson::SizeType>(t.user_id.size()));
    number("refillInterval", t.refill_interval);
    number("refillAmount", t.refill_amount);
    date("lastRefillAt", t.last_refill_at);
    w.Key("enabled");
    w.Bool(t.enabled);
    w.Key("rateLimitEnabled");  // better-auth's default for a NULL column is true
    w.Bool(t.rate_limit_enabled.value_or(true));
    number("rateLimitTimeWindow", t.rate_limit_time_window);
    number("rateLimitMax", t.rate_limit_max);
    w.Key("requestCount");
    w.Int64(t.request_count);
    number("remaining", t.remaining);
    date("lastRequest", t.last_request);
    date("expiresAt", t.expires_at);
    date("createdAt", t.created_at);
    date("updatedAt", t.updated_at);
    raw_json("permissions", std::nullopt);
    raw_json("metadata", t.metadata ? decode_metadata(*t.metadata) : std::nullopt);
    w.Key("id");
    w.String(t.id.data(), static_cast<rapidjson::SizeType>(t.id.size()));
    w.EndObject();
}

std::string token_json(const TokenRecord& t, std::optional<std::string_view> key) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    write_token(w, t, key);
    return {buf.GetString(), buf.GetSize()};
}

Response no_route() { return Response{.status = 404}; }

Response caller_refused(std::string_view endpoint, const Response& gvx_answer) {
    if (gvx_answer.status == 403) return say(403, kBadOrigin);
    if (gvx_answer.status != 401) return gvx_answer;
    // create and update look the session up themselves and say so; list, get and delete run
    // better-auth's session middleware, which answers 401 without a body.
    if (endpoint == "create" || endpoint == "update") return say(401, kNoSession);
    Response r{.status = 401};
    r.header("Content-Type", "application/json");
    return r;
}

Response body_refused(const Request& req, const Response& gvx_answer) {
    if (gvx_answer.status != 400) return gvx_answer;
    if (req.body.empty())
        return validation("body", "Invalid input: expected object, received undefined");
    rapidjson::Document doc;
    doc.Parse(req.body.data(), req.body.size());
    // Malformed JSON stays gvx's 400: better-auth 1.4.9 fails it with a bare 500.
    if (doc.HasParseError() || doc.IsObject()) return gvx_answer;
    return validation("body",
                      "Invalid input: expected object, received " + std::string(zod_type(doc)));
}

Response not_found() { return say(404, kNotFound); }

Response missing_query_id() {
    return validation("query.id", "Invalid input: expected string, received undefined");
}

std::optional<Response> check_body(std::string_view endpoint, const rapidjson::Value& body,
                                   std::string_view caller_id) {
    if (endpoint == "delete") return check_types(kDeleteFields, body);
    const bool create = endpoint == "create";
    if (auto err = check_types(create ? std::span<const FieldRule>(kCreateFields)
                                      : std::span<const FieldRule>(kUpdateFields),
                               body))
        return err;
    // A client may not act for another user, nor set what only the server may.
    if (const rapidjson::Value* u = member(body, "userId"); u && truthy(*u)) {
        const bool caller = u->IsString() &&
                            std::string_view(u->GetString(), u->GetStringLength()) == caller_id;
        if (!caller) return say(401, kNoSession);
    }
    for (const char* f : {"refillAmount", "refillInterval", "rateLimitMax", "rateLimitTimeWindow",
                          "rateLimitEnabled", "permissions"}) {
        if (present(body, f)) return say(400, kServerOnly);
    }
    if (const rapidjson::Value* r = member(body, "remaining"); r && (!create || !r->IsNull()))
        return say(400, kServerOnly);
    if (create) {
        if (auto err = check_metadata(body)) return err;
        if (auto err = check_expires_in(body)) return err;
        if (const rapidjson::Value* p = member(body, "prefix"); p && truthy(*p) &&
                                                               p->GetStringLength() > kMaxPrefix)
            return say(400, kPrefixLength);
        return check_name(body);
    }
    return std::nullopt;
}

std::optional<Response> check_update_values(const rapidjson::Value& body) {
    if (auto err = check_name(body)) return err;
    if (auto err = check_expires_in(body)) return err;
    if (auto err = check_metadata(body)) return err;
    for (const char* f : {"name", "enabled", "expiresIn", "expiresAt", "metadata"}) {
        if (present(body, f)) return std::nullopt;
    }
    return say(400, kNoValues);
}

Response store_error(const Error& e, const Response& gvx_answer) {
    if (e.code != Errc::invalid_argument) return gvx_answer;
    if (e.field == "name") return say(400, kNameLength);
    if (e.field == "prefix") return say(400, kPrefixLength);
    if (e.field == "metadata") return say(400, kMetadataType);
    return json_error(400, "VALIDATION_ERROR", e.message);
}

}  // namespace gvx::fcgi::better_auth
