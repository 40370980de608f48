#include "api.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <variant>

#include "caller.hpp"
#include "core/limits.hpp"
#include "audit_api.hpp"
#include "json/json.hpp"
#include "wire_better_auth.hpp"

namespace gvx::fcgi {
namespace {

// Media types are case-insensitive (RFC 9110 §8.3.1): "Application/JSON; charset=utf-8" is JSON.
bool is_json_media_type(std::string_view type) {
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    constexpr std::string_view kJson = "application/json";
    if (type.size() != kJson.size()) return false;
    for (std::size_t i = 0; i < kJson.size(); ++i) {
        const char c = type[i] >= 'A' && type[i] <= 'Z' ? static_cast<char>(type[i] + 32) : type[i];
        if (c != kJson[i]) return false;
    }
    return true;
}

// A parsed JSON object body, or the 4xx explaining why there is none.
std::variant<rapidjson::Document, Response> json_body(const Request& req) {
    if (!is_json_media_type(req.content_type))
        return json_error(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
    if (!req.content_length)
        return json_error(411, "LENGTH_REQUIRED", "a Content-Length header is required");
    const auto length = parse_length(*req.content_length);
    if (!length) return json_error(400, "INVALID_CONTENT_LENGTH", "Content-Length is malformed");
    if (*length > kMaxBodyBytes)
        return json_error(413, "PAYLOAD_TOO_LARGE",
                          "the body must be at most " + std::to_string(kMaxBodyBytes) + " bytes");
    if (!req.body_read || req.body.size() != *length)
        return json_error(400, "TRUNCATED_BODY", "the body is shorter than its Content-Length");
    // RapidJSON's length-bounded parse takes a NUL byte for the end of the input, so
    // '{"name":"abc"}\0<anything>' would pass. JSON text never contains a raw NUL.
    if (req.body.find('\0') != std::string::npos)
        return json_error(400, "INVALID_JSON",
                          "the body is not valid JSON: it contains a NUL byte");
    if (!nesting_within(req.body, kMaxJsonDepth))
        return json_error(400, "INVALID_JSON", "the body is nested too deeply (at most " +
                                                   std::to_string(kMaxJsonDepth) + " levels)");
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(req.body.data(), req.body.size());
    if (doc.HasParseError())
        return json_error(400, "INVALID_JSON",
                          std::string("the body is not valid JSON: ") +
                              rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject()) return json_error(400, "INVALID_JSON", "the body must be a JSON object");
    return doc;
}

// A field of the body: absent, null, or present with the right type. Wrong types are errors
// that name the field.
template <class T>
struct Field {
    bool present = false;  // present and not null
    T value{};
    std::optional<Response> error;
};

Field<std::string_view> string_field(const rapidjson::Value& obj, const char* name) {
    Field<std::string_view> f;
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd() || it->value.IsNull()) return f;
    if (!it->value.IsString()) {
        f.error = invalid_field(std::string(name) + " must be a string");
        return f;
    }
    f.present = true;
    f.value = {it->value.GetString(), it->value.GetStringLength()};
    return f;
}

Field<std::int64_t> integer_field(const rapidjson::Value& obj, const char* name) {
    Field<std::int64_t> f;
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd() || it->value.IsNull()) return f;
    if (!it->value.IsInt64()) {
        f.error = invalid_field(std::string(name) + " must be an integer");
        return f;
    }
    f.present = true;
    f.value = it->value.GetInt64();
    return f;
}

Field<bool> bool_field(const rapidjson::Value& obj, const char* name) {
    Field<bool> f;
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd() || it->value.IsNull()) return f;
    if (!it->value.IsBool()) {
        f.error = invalid_field(std::string(name) + " must be true or false");
        return f;
    }
    f.present = true;
    f.value = it->value.GetBool();
    return f;
}

bool has_member(const rapidjson::Value& obj, const char* name) {
    return obj.FindMember(name) != obj.MemberEnd();
}

// better-auth's expiresIn, in seconds, as an expiry in ms; bounded so the sum cannot overflow.
std::variant<std::optional<std::int64_t>, Response> expires_in(const rapidjson::Value& body,
                                                               std::int64_t now) {
    const auto in = integer_field(body, "expiresIn");
    if (in.error) return *in.error;
    if (!in.present) return std::optional<std::int64_t>();
    if (in.value <= 0 || in.value > kMaxDurationSeconds)
        return invalid_field("expiresIn must be a positive number of seconds (at most 100 years)");
    return std::optional<std::int64_t>(now + in.value * 1000);
}

// A member as compact JSON text (metadata, permissions); nullopt when absent or null.
std::variant<std::optional<std::string>, Response> member_json(const rapidjson::Value& body,
                                                               const char* name) {
    auto it = body.FindMember(name);
    if (it == body.MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    // A number beyond double range parses as infinity, which the writer refuses half-way.
    if (!it->value.Accept(w))
        return invalid_field(std::string(name) +
                             " must not hold numbers beyond the range of a double");
    return std::optional<std::string>(std::string(buf.GetString(), buf.GetSize()));
}

// metadata: an object, or nothing.
std::variant<std::optional<std::string>, Response> metadata_field(const rapidjson::Value& body) {
    if (auto it = body.FindMember("metadata");
        it != body.MemberEnd() && !it->value.IsNull() && !it->value.IsObject())
        return invalid_field("metadata must be an object");
    return member_json(body, "metadata");
}

bool answers_as_better_auth(const Context& ctx) { return ctx.options.wire == Wire::better_auth; }

// The answers that differ with --wire: a token, a missing token, a refusal from the store.
Response token_answer(const Context& ctx, const TokenRecord& t,
                      std::optional<std::string_view> key = {}) {
    return json_ok(answers_as_better_auth(ctx) ? better_auth::token_json(t, key)
                                               : token_json(t, key));
}

Response no_such_token(const Context& ctx) {
    return answers_as_better_auth(ctx) ? better_auth::not_found()
                                       : json_error(404, "NOT_FOUND", "no such token");
}

Response failed(const Context& ctx, const Error& e) {
    if (!answers_as_better_auth(ctx)) return store_error(e);
    if (e.code == Errc::not_found) return better_auth::not_found();
    return better_auth::store_error(e, store_error(e));
}

// The request log names the token a call was about (its id, never its key).
Response logged(Response r, std::string_view token_id) {
    r.log.token_id = std::string(token_id);
    return r;
}

Response create(const Caller& caller, const rapidjson::Document& body, Context& ctx) {
    if (answers_as_better_auth(ctx)) {
        if (auto refused = better_auth::check_body("create", body, caller.user_id)) return *refused;
    }
    const auto name = string_field(body, "name");
    if (name.error) return *name.error;
    if (!name.present) return invalid_field("name is required");
    const auto prefix = string_field(body, "prefix");
    if (prefix.error) return *prefix.error;
    const auto expires_at = integer_field(body, "expiresAt");
    if (expires_at.error) return *expires_at.error;
    auto in = expires_in(body, ctx.now);
    if (auto* err = std::get_if<Response>(&in)) return *err;
    const auto in_at = std::get<std::optional<std::int64_t>>(in);
    if (expires_at.present && in_at) return invalid_field("give expiresAt or expiresIn, not both");

    NewToken t{.user_id = caller.user_id, .name = name.value};
    if (prefix.present) t.prefix = prefix.value;
    if (expires_at.present) t.expires_at = expires_at.value;  // the store checks it
    if (in_at) t.expires_at = in_at;
    auto metadata = metadata_field(body);
    if (auto* err = std::get_if<Response>(&metadata)) return *err;
    t.metadata = std::get<std::optional<std::string>>(metadata);
    // better-auth's permissions; the store validates them and names what is wrong.
    auto permissions = member_json(body, "permissions");
    if (auto* err = std::get_if<Response>(&permissions)) return *err;
    t.permissions = std::get<std::optional<std::string>>(permissions);
    if (answers_as_better_auth(ctx)) {
        // better-auth stores the rate-limit window and maximum in every row it creates.
        auto cfg = ctx.store.config();
        if (!cfg) return store_error(cfg.error());
        t.rate_limit_time_window = cfg->rate_limit_time_window;
        t.rate_limit_max = cfg->rate_limit_max;
    }
    auto created = ctx.store.create(t, ctx.now);
    if (!created) return failed(ctx, created.error());
    return logged(token_answer(ctx, created->record, created->key.view()), created->record.id);
}

Response remove(const Caller& caller, const rapidjson::Document& body, Context& ctx) {
    if (answers_as_better_auth(ctx)) {
        if (auto refused = better_auth::check_body("delete", body, caller.user_id)) return *refused;
    }
    const auto id = string_field(body, "keyId");
    if (id.error) return *id.error;
    if (!id.present) return invalid_field("keyId is required");
    auto deleted = ctx.store.revoke(id.value, std::string_view(caller.user_id));
    if (!deleted) return logged(failed(ctx, deleted.error()), id.value);
    if (!*deleted) return logged(no_such_token(ctx), id.value);
    return logged(json_ok(R"({"success":true})"), id.value);
}

Response update(const Caller& caller, const rapidjson::Document& body, Context& ctx) {
    if (answers_as_better_auth(ctx)) {
        if (auto refused = better_auth::check_body("update", body, caller.user_id)) return *refused;
    }
    const auto id = string_field(body, "keyId");
    if (id.error) return *id.error;
    if (!id.present) return invalid_field("keyId is required");
    if (answers_as_better_auth(ctx)) {
        // better-auth looks the token up before it checks the values.
        auto found = ctx.store.get(id.value, caller.user_id);
        if (!found) return failed(ctx, found.error());
        if (!*found) return no_such_token(ctx);
        if (auto refused = better_auth::check_update_values(body)) return *refused;
    }
    const auto name = string_field(body, "name");
    if (name.error) return *name.error;
    const auto enabled = bool_field(body, "enabled");
    if (enabled.error) return *enabled.error;
    const auto expires_at = integer_field(body, "expiresAt");
    if (expires_at.error) return *expires_at.error;
    // better-auth's server-only fields: refused by name rather than silently left alone.
    for (const char* fixed : {"prefix", "userId", "remaining", "refillAmount", "refillInterval",
                              "rateLimitEnabled", "rateLimitTimeWindow", "rateLimitMax"}) {
        if (has_member(body, fixed))
            return invalid_field(std::string(fixed) + " cannot be changed through /update");
    }
    TokenChanges c;
    if (name.present) c.name = name.value;
    if (enabled.present) c.enabled = enabled.value;
    if (has_member(body, "expiresAt")) {  // null: never expires
        c.set_expires_at = true;
        if (expires_at.present) c.expires_at = expires_at.value;  // the store checks it
    }
    auto in = expires_in(body, ctx.now);
    if (auto* err = std::get_if<Response>(&in)) return *err;
    if (const auto in_at = std::get<std::optional<std::int64_t>>(in)) {
        if (c.set_expires_at) return invalid_field("give expiresAt or expiresIn, not both");
        c.set_expires_at = true;
        c.expires_at = in_at;
    }
    if (has_member(body, "metadata")) {  // null: none
        auto metadata = metadata_field(body);
        if (auto* err = std::get_if<Response>(&metadata)) return *err;
        c.set_metadata = true;
        c.metadata = std::get<std::optional<std::string>>(metadata);
    }
    if (has_member(body, "permissions")) {  // null: read and write everywhere
        auto permissions = member_json(body, "permissions");
        if (auto* err = std::get_if<Response>(&permissions)) return *err;
        c.set_permissions = true;
        c.permissions = std::get<std::optional<std::string>>(permissions);
    }
    auto updated = ctx.store.update(id.value, caller.user_id, c, ctx.now);
    if (!updated) return logged(failed(ctx, updated.error()), id.value);
    if (!*updated) return logged(no_such_token(ctx), id.value);
    return logged(token_answer(ctx, **updated), id.value);
}

std::variant<std::string, Response> id_param(const Request& req, const Context& ctx) {
    auto id = query_param(req.query, "id");
    if (!id && answers_as_better_auth(ctx)) return better_auth::missing_query_id();
    if (!id || id->empty()) return invalid_field("the query parameter id is required");
    if (id->size() > kMaxIdBytes) return invalid_field("id is too long");
    return *id;
}

Response get(const Caller& caller, const Request& req, Context& ctx) {
    auto id = id_param(req, ctx);
    if (auto* err = std::get_if<Response>(&id)) return *err;
    const std::string& key_id = std::get<std::string>(id);
    auto token = ctx.store.get(key_id, caller.user_id);
    if (!token) return logged(failed(ctx, token.error()), key_id);
    if (!*token) return logged(no_such_token(ctx), key_id);
    return logged(token_answer(ctx, **token), key_id);
}

Response activity(const Caller& caller, const Request& req, Context& ctx) {
    auto id = id_param(req, ctx);
    if (auto* err = std::get_if<Response>(&id)) return *err;
    std::int64_t limit = kActivityLimit;
    if (auto l = query_param(req.query, "limit")) {
        const auto n = parse_length(*l);
        if (!n || *n < 1 || *n > static_cast<std::size_t>(kMaxActivityLimit))
            return invalid_field("limit must be a number from 1 to " +
                                 std::to_string(kMaxActivityLimit));
        limit = static_cast<std::int64_t>(*n);
    }
    auto entries = ctx.store.activity(std::get<std::string>(id), caller.user_id, limit);
    Response r = entries ? json_ok(activity_json(*entries)) : store_error(entries.error());
    r.log.token_id = std::get<std::string>(id);
    return r;
}

// GET /audit (audit_api.cpp).
Response audit(const Caller& caller, const Request& req, Context& ctx) {
    return audit_trail(caller.user_id, req, ctx);
}

// GET /self: the calling token's own object, never its key (SPEC §13).
Response self(const Caller& caller, const Request&, Context& ctx) {
    return token_answer(ctx, *caller.token);
}

// POST /rotate: a new token in the place of one of the caller's (a token: itself only).
Response rotate(const Caller& caller, const rapidjson::Document& body, Context& ctx) {
    const auto id = string_field(body, "keyId");
    if (id.error) return *id.error;
    std::string_view key_id = id.value;
    if (caller.token) {
        if (id.present && id.value != caller.token->id)
            return json_error(403, "FORBIDDEN", "a token can rotate only itself");
        key_id = caller.token->id;
    } else if (!id.present) {
        return invalid_field("keyId is required");
    }
    Rotation how;
    const auto grace = integer_field(body, "graceSeconds");
    if (grace.error) return invalid_field("graceSeconds must be a whole number of seconds");
    if (grace.present) {
        if (grace.value < 0 || grace.value > kMaxRotationGraceMs / 1000)
            return invalid_field("graceSeconds must be 0 to " +
                                 std::to_string(kMaxRotationGraceMs / 1000) + " (7 days)");
        how.grace_ms = grace.value * 1000;
    }
    auto in = expires_in(body, ctx.now);
    if (auto* err = std::get_if<Response>(&in)) return *err;
    how.expires_at = std::get<std::optional<std::int64_t>>(in);
    auto created = ctx.store.rotate(key_id, std::string_view(caller.user_id), how, ctx.now);
    if (!created) return logged(failed(ctx, created.error()), key_id);
    if (!*created) return logged(no_such_token(ctx), key_id);
    return logged(token_answer(ctx, (*created)->record, (*created)->key.view()), key_id);
}

Response list(const Caller& caller, const Request&, Context& ctx) {
    if (answers_as_better_auth(ctx)) {
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartArray();
        auto st = ctx.store.each_token(
            caller.user_id, [&](const TokenRecord& t) { better_auth::write_token(w, t); });
        if (!st) return failed(ctx, st.error());
        w.EndArray();
        return json_ok(std::string(buf.GetString(), buf.GetSize()));
    }
    TokenArrayJson json;
    auto st = ctx.store.each_token(caller.user_id, [&](const TokenRecord& t) { json.add(t); });
    if (!st) return store_error(st.error());
    return json_ok(json.take());
}

// A POST handler runs on the parsed JSON body, once the caller is known.
template <Response (*Handler)(const Caller&, const rapidjson::Document&, Context&)>
Response with_json_body(const Caller& caller, const Request& req, Context& ctx) {
    auto body = json_body(req);
    if (auto* err = std::get_if<Response>(&body)) {
        if (answers_as_better_auth(ctx)) return better_auth::body_refused(req, *err);
        return *err;
    }
    return Handler(caller, std::get<rapidjson::Document>(body), ctx);
}

// Who may call an endpoint (SPEC §13): a token never mints, lists or changes tokens, so a
// leaked one cannot outlive its expiry or widen itself; people sign in for that.
enum class Callers {
    people,  // a session cookie or REMOTE_USER; a token gets 403
    token,   // a token (Bearer or x-api-key) about itself; anyone else gets 401
    either,
};

struct Route {
    std::string_view name;  // the path under --api-base
    std::string_view method;
    Callers callers;
    Response (*handler)(const Caller&, const Request&, Context&);
};
constexpr Route kRoutes[] = {
    {"create", "POST", Callers::people, with_json_body<create>},
    {"list", "GET", Callers::people, list},
    {"delete", "POST", Callers::people, with_json_body<remove>},
    {"get", "GET", Callers::people, get},
    {"update", "POST", Callers::people, with_json_body<update>},
    {"activity", "GET", Callers::people, activity},
    {"audit", "GET", Callers::people, audit},
    {"self", "GET", Callers::token, self},
    {"rotate", "POST", Callers::either, with_json_body<rotate>},
};

// Who the caller is, for the audit trail: their user id, how they signed in, from where.
Actor actor_of(const Caller& caller, const Request& req) {
    const AuditVia via = caller.via == Caller::Via::cookie  ? AuditVia::session
                         : caller.via == Caller::Via::token ? AuditVia::token
                                                            : AuditVia::remote_user;
    return Actor{.user = caller.user_id, .via = via, .ip = req.remote_addr,
                 .user_agent = req.user_agent};
}

// The refusal for a caller the route does not take, if any.
std::optional<Response> refuse_caller(const Route& route, const Caller& caller) {
    const bool is_token = caller.via == Caller::Via::token;
    if (route.callers == Callers::people && is_token)
        return json_error(403, "FORBIDDEN",
                          "a token cannot " + std::string(route.name) +
                              " tokens: sign in (a session or the web server's login)");
    if (route.callers == Callers::token && !is_token) {
        Response r = json_error(401, "UNAUTHORIZED",
                                "send the token as Authorization: Bearer or x-api-key");
        r.header("WWW-Authenticate", "Bearer");
        return r;
    }
    return std::nullopt;
}

}  // namespace

Response handle_api(Request& req, Context& ctx, const BodyReader& read_body) {
    const std::string& base = ctx.options.api_base;
    if (req.path.size() <= base.size() + 1 || req.path.compare(0, base.size(), base) != 0 ||
        req.path[base.size()] != '/')
        return answers_as_better_auth(ctx) ? better_auth::no_route()
                                : json_error(404, "NOT_FOUND", "no such endpoint");
    const std::string_view endpoint = std::string_view(req.path).substr(base.size() + 1);
    const Route* route = nullptr;
    for (const Route& r : kRoutes) {
        if (r.name == endpoint) route = &r;
    }
    if (answers_as_better_auth(ctx) && (!route || req.method != route->method))
        return better_auth::no_route();
    if (!route) return json_error(404, "NOT_FOUND", "no such endpoint");
    if (req.method != route->method) {
        Response r = json_error(405, "METHOD_NOT_ALLOWED",
                                std::string("use ") + std::string(route->method));
        r.header("Allow", std::string(route->method));
        return r;
    }
    auto who = identify_caller(req, ctx);  // from the headers alone
    if (auto* err = std::get_if<Response>(&who)) {
        if (answers_as_better_auth(ctx)) return better_auth::caller_refused(endpoint, *err);
        return *err;
    }
    const Caller& caller = std::get<Caller>(who);
    std::optional<Response> refused = refuse_caller(*route, caller);
    if (!refused) read_request_body(req, read_body);
    // Changes this request makes are the caller's in the audit trail.
    const ActingAs acting(ctx.store, actor_of(caller, req));
    Response r = refused ? std::move(*refused) : route->handler(caller, req, ctx);
    r.log.user = caller.user_id;
    return r;
}

Response handle_api(const Request& req, Context& ctx) {
    Request copy = req;
    return handle_api(copy, ctx, [](char*, std::size_t) { return std::size_t{0}; });
}

}  // namespace gvx::fcgi
