#include "core/permissions.hpp"

#include <algorithm>
#include <cstdint>

#include "core/token.hpp"

namespace gvx {
namespace {

constexpr std::size_t kMaxNameInMessage = 64;

// A name from outside, for an error message: quoted, at most 64 bytes, printable ASCII only.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s.substr(0, kMaxNameInMessage)) out.push_back(c >= 0x20 && c <= 0x7E ? c : '?');
    if (s.size() > kMaxNameInMessage) out += "...";
    return out + "\"";
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Reads exactly one shape of JSON: {"name": ["string", ...], ...}, or (for stored columns)
// a JSON string whose text is that. Nothing nests deeper than two levels, so no recursion.
class ShapeReader {
   public:
    explicit ShapeReader(std::string_view text) : s_(text) {}

    Result<Permissions> object(bool last_duplicate_wins) {
        Permissions p;
        skip_space();
        if (!eat('{')) return malformed("must be a JSON object");
        skip_space();
        if (eat('}')) return finish(std::move(p));
        while (true) {
            skip_space();
            auto name = string();
            if (!name) return std::move(name).error();
            skip_space();
            if (!eat(':')) return malformed("expected ':' after a resource name");
            auto actions = array(*name);
            if (!actions) return std::move(actions).error();
            auto same = std::find_if(p.grants.begin(), p.grants.end(),
                                     [&](const auto& g) { return g.first == *name; });
            if (same != p.grants.end()) {
                if (!last_duplicate_wins)
                    return invalid("permissions: resource " + quoted(*name) + " is given twice");
                same->second = std::move(*actions);  // JSON.parse keeps the last one
            } else {
                if (p.grants.size() == kMaxPermissionResources)
                    return invalid("permissions: too many resources (at most " +
                                   std::to_string(kMaxPermissionResources) + ")");
                p.grants.emplace_back(std::move(*name), std::move(*actions));
            }
            skip_space();
            if (eat(',')) continue;
            if (eat('}')) return finish(std::move(p));
            return malformed("expected ',' or '}' in the object");
        }
    }

    // A top-level JSON string: its decoded text (better-auth double-encodes some columns).
    std::optional<std::string> top_level_string() {
        skip_space();
        if (i_ >= s_.size() || s_[i_] != '"') return std::nullopt;
        auto text = string();
        skip_space();
        if (!text || i_ != s_.size()) return std::nullopt;
        return std::move(*text);
    }

   private:
    Result<Permissions> finish(Permissions p) {
        skip_space();
        if (i_ != s_.size()) return malformed("unexpected text after the object");
        return p;
    }

    Result<std::vector<std::string>> array(const std::string& resource) {
        std::vector<std::string> actions;
        std::size_t given = 0;
        skip_space();
        if (!eat('['))
            return invalid("permissions: the actions of " + quoted(resource) +
                           " must be an array of strings");
        skip_space();
        if (eat(']')) return actions;
        while (true) {
            skip_space();
            auto action = string();
            if (!action)
                return invalid("permissions: the actions of " + quoted(resource) +
                               " must be an array of strings");
            if (++given > kMaxActionsPerResource)
                return invalid("permissions: too many actions for " + quoted(resource) +
                               " (at most " + std::to_string(kMaxActionsPerResource) + ")");
            if (std::find(actions.begin(), actions.end(), *action) == actions.end())
                actions.push_back(std::move(*action));
            skip_space();
            if (eat(',')) continue;
            if (eat(']')) return actions;
            return malformed("expected ',' or ']' in an array of actions");
        }
    }

    Result<std::string> string() {
        if (!eat('"')) return malformed("expected a string");
        std::string out;
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') {
                if (!is_valid_utf8(out)) return malformed("a string is not valid UTF-8");
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20)
                return malformed("a string contains a control character");
            if (c != '\\') {
                out.push_back(c);
                continue;
            }
            if (i_ >= s_.size()) break;
            switch (const char e = s_[i_++]) {
                case '"': out.push_back('"'); break;
                case '\\': out.push_back('\\'); break;
                case '/': out.push_back('/'); break;
                case 'b': out.push_back('\b'); break;
                case 'f': out.push_back('\f'); break;
                case 'n': out.push_back('\n'); break;
                case 'r': out.push_back('\r'); break;
                case 't': out.push_back('\t'); break;
                case 'u': {
                    auto cp = code_point();
                    if (!cp) return malformed("a string has a bad \\u escape");
                    if (*cp == 0) return malformed("a string contains a NUL character");
                    append_utf8(out, *cp);
                    break;
                }
                default:
                    (void)e;
                    return malformed("a string has a bad escape");
            }
        }
        return malformed("a string is not terminated");
    }

    // After "\u": one code point, joining a surrogate pair; nullopt for a lone surrogate.
    std::optional<std::uint32_t> code_point() {
        auto unit = hex4();
        if (!unit) return std::nullopt;
        if (*unit >= 0xDC00 && *unit <= 0xDFFF) return std::nullopt;
        if (*unit < 0xD800 || *unit > 0xDBFF) return *unit;
        if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return std::nullopt;
        i_ += 2;
        auto low = hex4();
        if (!low || *low < 0xDC00 || *low > 0xDFFF) return std::nullopt;
        return 0x10000 + ((*unit - 0xD800) << 10) + (*low - 0xDC00);
    }

    std::optional<std::uint32_t> hex4() {
        if (i_ + 4 > s_.size()) return std::nullopt;
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const int d = hex_digit(s_[i_++]);
            if (d < 0) return std::nullopt;
            v = v * 16 + static_cast<std::uint32_t>(d);
        }
        return v;
    }

    void skip_space() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
            ++i_;
    }
    bool eat(char c) {
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    static Error malformed(std::string_view why) {
        return invalid("permissions must be a JSON object of arrays of strings (" +
                       std::string(why) + ")");
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

Result<Permissions> read_shape(std::string_view json, bool last_duplicate_wins) {
    if (json.size() > kMaxPermissionsBytes)
        return invalid("permissions: too long (at most " + std::to_string(kMaxPermissionsBytes) +
                       " bytes)");
    return ShapeReader(json).object(last_duplicate_wins);
}

bool is_repo_action(std::string_view a) { return a == kReadAction || a == kWriteAction; }

void write_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20) {
            out += "\\u00";
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 0xF]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

}  // namespace

const std::vector<std::string>* Permissions::actions_for(std::string_view resource) const {
    for (const auto& [name, actions] : grants) {
        if (name == resource) return &actions;
    }
    return nullptr;
}

bool Permissions::grants_action(std::string_view resource, std::string_view action) const {
    const auto* actions = actions_for(resource);
    return actions && std::find(actions->begin(), actions->end(), action) != actions->end();
}

Permissions full_permissions() {
    Permissions p;
    p.grants.push_back({std::string(kRepoResource),
                        {std::string(kReadAction), std::string(kWriteAction)}});
    return p;
}

std::optional<std::string> repo_path_problem(std::string_view path) {
    if (path.empty()) return "is empty";
    if (path.size() > kMaxRepoPathBytes)
        return "is longer than " + std::to_string(kMaxRepoPathBytes) + " bytes";
    if (!is_valid_utf8(path)) return "is not valid UTF-8";
    for (char c : path) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) return "contains a control character";
        if (c == '%') return "contains '%' (write the path decoded, as git shows it)";
        if (c == '\\' || c == '?' || c == '#') return std::string("contains '") + c + "'";
    }
    if (path.front() == '/' || path.back() == '/') return "must not begin or end with '/'";
    std::string_view rest = path;
    while (true) {
        const std::size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (segment.empty()) return "contains an empty segment ('//')";
        if (segment == "." || segment == "..") return "contains a '.' or '..' segment";
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    if (path.ends_with(".git")) return "ends in \".git\" (name the repository without it)";
    return std::nullopt;
}

Result<Permissions> parse_permissions(std::string_view json) {
    auto p = read_shape(json, false);
    if (!p) return p;
    for (const auto& [resource, actions] : p->grants) {
        if (resource != kRepoResource) {
            if (!resource.starts_with(kRepoResourcePrefix))
                return invalid("permissions: unknown resource " + quoted(resource) +
                               " (gvx knows \"repo\" and \"repo:<path>\")");
            const std::string_view path =
                std::string_view(resource).substr(kRepoResourcePrefix.size());
            if (auto problem = repo_path_problem(path))
                return invalid("permissions: " + quoted(resource) + ": the repository path " +
                               *problem);
        }
        if (actions.empty())
            return invalid("permissions: " + quoted(resource) + " lists no actions");
        for (const std::string& a : actions) {
            if (!is_repo_action(a))
                return invalid("permissions: unknown action " + quoted(a) + " for " +
                               quoted(resource) + " (actions: \"read\", \"write\")");
        }
    }
    return p;
}

Result<Permissions> parse_permission_request(std::string_view json) {
    return read_shape(json, true);
}

StoredPermissions read_stored_permissions(std::optional<std::string_view> column) {
    StoredPermissions out;
    auto is_null_text = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
        return s == "null";
    };
    if (!column || is_null_text(*column)) {
        out.permissions = full_permissions();
        out.is_null = true;
        return out;
    }
    std::string_view text = *column;
    std::optional<std::string> inner;
    if (text.size() <= kMaxPermissionsBytes) {
        inner = ShapeReader(text).top_level_string();  // double-encoded
        if (inner) text = *inner;
    }
    auto p = read_shape(text, true);
    if (p) {
        out.permissions = std::move(*p);
    } else {
        out.readable = false;  // grants nothing
    }
    return out;
}

bool covers(const Permissions& granted, const Permissions& requested) {
    if (requested.grants.empty()) return false;  // better-auth: an empty request fails
    for (const auto& [resource, actions] : requested.grants) {
        const bool one_repo = resource.starts_with(kRepoResourcePrefix);
        if (!granted.actions_for(resource) && !(one_repo && granted.actions_for(kRepoResource)))
            return false;
        for (const std::string& a : actions) {
            if (!granted.grants_action(resource, a) &&
                !(one_repo && granted.grants_action(kRepoResource, a)))
                return false;
        }
    }
    return true;
}

std::string permissions_json(const Permissions& p) {
    std::string out = "{";
    for (std::size_t i = 0; i < p.grants.size(); ++i) {
        if (i) out.push_back(',');
        write_string(out, p.grants[i].first);
        out += ":[";
        const auto& actions = p.grants[i].second;
        for (std::size_t k = 0; k < actions.size(); ++k) {
            if (k) out.push_back(',');
            write_string(out, actions[k]);
        }
        out.push_back(']');
    }
    return out + "}";
}

}  // namespace gvx
