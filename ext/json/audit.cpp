#include "json/audit.hpp"

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
void opt_int(JsonWriter& w, std::string_view k, const std::optional<std::int64_t>& v) {
    key(w, k);
    if (v) w.Int64(*v);
    else w.Null();
}
// Permissions as the token object shows them: null (NULL: read and write everywhere) or the
// object as stored; unreadable text grants nothing and shows as {}.
void permissions(JsonWriter& w, const std::optional<std::string>& stored_text) {
    key(w, "permissions");
    const StoredPermissions stored = read_stored_permissions(stored_text);
    if (stored.is_null) {
        w.Null();
        return;
    }
    const std::string p = permissions_json(stored.permissions);
    w.RawValue(p.data(), p.size(), rapidjson::kObjectType);
}

template <class Body>
std::string object(Body&& body) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    body(w);
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

// A detail as stored: re-emitted if it parses as an object, else null (written by hand).
void detail(JsonWriter& w, const std::optional<std::string>& text) {
    key(w, "detail");
    if (!text || !nesting_within(*text, kMaxJsonDepth)) {
        w.Null();
        return;
    }
    rapidjson::Document doc;
    doc.Parse(text->data(), text->size());
    if (doc.HasParseError() || !doc.IsObject()) {
        w.Null();
        return;
    }
    rapidjson::StringBuffer buf;
    JsonWriter inner(buf);
    if (!doc.Accept(inner)) {
        w.Null();
        return;
    }
    w.RawValue(buf.GetString(), buf.GetSize(), rapidjson::kObjectType);
}

}  // namespace

std::string audit_detail_created(const TokenRecord& created) {
    return object([&](JsonWriter& w) {
        key(w, "prefix");
        str(w, created.prefix.value_or(""));
        opt_int(w, "expiresAt", created.expires_at);
        permissions(w, created.permissions);
    });
}

std::string audit_detail_changes(const TokenChanges& c) {
    return object([&](JsonWriter& w) {
        if (c.name) {
            key(w, "name");
            str(w, *c.name);
        }
        if (c.enabled) {
            key(w, "enabled");
            w.Bool(*c.enabled);
        }
        if (c.set_expires_at) opt_int(w, "expiresAt", c.expires_at);
        if (c.set_permissions) permissions(w, c.permissions);
        if (c.set_metadata) {
            key(w, "metadata");
            w.Bool(true);
        }
    });
}

std::string audit_detail_rotated(const TokenRecord& successor, std::int64_t grace_ms) {
    return object([&](JsonWriter& w) {
        key(w, "newKeyId");
        str(w, successor.id);
        key(w, "graceMs");
        w.Int64(grace_ms);
        opt_int(w, "expiresAt", successor.expires_at);
    });
}

std::string audit_detail_reason(std::string_view reason) {
    return object([&](JsonWriter& w) {
        key(w, "reason");
        str(w, reason);
    });
}

void write_audit(JsonWriter& w, const AuditRecord& e) {
    w.StartObject();
    key(w, "id");
    w.Int64(e.id);
    key(w, "at");
    w.Int64(e.at);
    key(w, "action");
    str(w, e.action);
    key(w, "keyId");
    str(w, e.key_id);
    key(w, "keyName");
    if (e.key_name) str(w, *e.key_name);
    else w.Null();
    key(w, "owner");
    str(w, e.owner);
    key(w, "actor");
    str(w, e.actor);
    key(w, "via");
    str(w, e.via);
    key(w, "ip");
    str(w, e.ip);
    key(w, "userAgent");
    str(w, e.user_agent);
    detail(w, e.detail);
    w.EndObject();
}

std::string audit_json(std::span<const AuditRecord> entries) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartArray();
    for (const AuditRecord& e : entries) write_audit(w, e);
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

}  // namespace gvx
