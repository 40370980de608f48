#include "core/validate.hpp"

#include "core/limits.hpp"
#include "core/permissions.hpp"
#include "core/name.hpp"
#include "core/token.hpp"

namespace gvx {
namespace {

Status check_name(std::string_view name) {
    if (auto st = check_text("name", name, kMaxNameBytes); !st) return st;
    const std::size_t chars = count_code_points(name);
    if (chars < kMinNameChars || chars > kMaxNameChars)
        return invalid_field("name", "must be " + std::to_string(kMinNameChars) + " to " +
                                         std::to_string(kMaxNameChars) + " characters (got " +
                                         std::to_string(chars) + ")");
    if (auto problem = name_problem(name)) return invalid_field("name", *problem);
    return Ok{};
}

Status check_metadata_size(const std::optional<std::string>& metadata) {
    if (metadata && metadata->size() > kMaxMetadataBytes)
        return invalid_field("metadata", "is too long (at most " +
                                             std::to_string(kMaxMetadataBytes) + " bytes of JSON)");
    return Ok{};
}

Status check_future(std::optional<std::int64_t> expires_at, std::int64_t now) {
    if (expires_at && *expires_at <= now)
        return invalid_field("expires_at", "must be in the future (milliseconds since the epoch)");
    return Ok{};
}

}  // namespace

Status check_text(std::string_view field, std::string_view v, std::size_t max_bytes) {
    const std::string f(field);
    if (v.size() > max_bytes)
        return invalid_field(f, "is too long (at most " + std::to_string(max_bytes) + " bytes)");
    if (v.find('\0') != std::string_view::npos) return invalid_field(f, "must not contain NUL bytes");
    if (!is_valid_utf8(v)) return invalid_field(f, "must be valid UTF-8");
    return Ok{};
}

Status validate(const NewToken& t, std::int64_t now) {
    if (t.user_id.empty()) return invalid_field("user_id", "must not be empty");
    GVX_TRY(check_text("user_id", t.user_id, kMaxUserIdBytes));
    GVX_TRY(check_name(t.name));
    if (!is_valid_prefix(t.prefix)) return prefix_error();
    GVX_TRY(check_future(t.expires_at, now));
    GVX_TRY(check_metadata_size(t.metadata));
    if (t.permissions) GVX_TRY(canonical_permissions(*t.permissions));
    if (t.rate_limit_time_window && *t.rate_limit_time_window <= 0)
        return invalid_field("rate_limit_time_window",
                             "must be a positive number of milliseconds");
    if (t.rate_limit_max && *t.rate_limit_max < 0)
        return invalid_field("rate_limit_max", "must not be negative");
    return Ok{};
}

Status validate(const TokenChanges& c, std::int64_t now) {
    if (c.name) GVX_TRY(check_name(*c.name));
    if (c.set_expires_at) GVX_TRY(check_future(c.expires_at, now));
    if (c.set_metadata) GVX_TRY(check_metadata_size(c.metadata));
    if (c.set_permissions && c.permissions) GVX_TRY(canonical_permissions(*c.permissions));
    return Ok{};
}

Result<std::string> canonical_permissions(std::string_view json) {
    auto p = parse_permissions(json);
    if (!p) return Error{Errc::invalid_argument, p.error().message, 0, "permissions"};
    return permissions_json(*p);
}

std::string printable(std::string_view s, std::size_t max) {
    std::string out(s.substr(0, max));
    for (char& c : out) {
        if (c < 0x20 || c > 0x7E) c = '?';
    }
    return out;
}

}  // namespace gvx
