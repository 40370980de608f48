#include "core/git_access.hpp"

#include <array>

namespace gvx {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %XX decoding (and '+' as a space where plus_is_space: git decodes query parameters so);
// nullopt for a malformed escape.
std::optional<std::string> decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+' && plus_is_space) {
            out.push_back(' ');
        } else if (s[i] != '%') {
            out.push_back(s[i]);
        } else {
            if (i + 2 >= s.size()) return std::nullopt;
            const int hi = hex_digit(s[i + 1]);
            const int lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        }
    }
    return out;
}

bool is_hex(std::string_view s, std::size_t n) {
    if (s.size() != n) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

// An encoded '/' or '\\' would be a separator to some servers and not to others.
bool has_encoded_separator(std::string_view raw) {
    for (std::size_t i = 0; i + 2 < raw.size(); ++i) {
        if (raw[i] != '%') continue;
        const char a = raw[i + 1];
        const char b = static_cast<char>(raw[i + 2] | 0x20);  // lower case
        if ((a == '2' && b == 'f') || (a == '5' && b == 'c')) return true;
    }
    return false;
}

// Segments separated by single '/', none empty, "." or "..".
bool plain_segments(std::string_view s) {
    while (true) {
        const std::size_t slash = s.find('/');
        const std::string_view segment = s.substr(0, slash);
        if (segment.empty() || segment == "." || segment == "..") return false;
        if (slash == std::string_view::npos) return true;
        s.remove_prefix(slash + 1);
    }
}

enum class Endpoint { none, read, write, info_refs };

// git-http-backend's endpoints (its "services" table), as path suffixes after the repository.
// On success, rest is shortened to the repository part.
Endpoint endpoint_of(std::string_view& rest) {
    struct Fixed {
        std::string_view suffix;
        Endpoint endpoint;
    };
    static constexpr std::array<Fixed, 7> kFixed = {{
        {"/info/refs", Endpoint::info_refs},
        {"/git-upload-pack", Endpoint::read},
        {"/git-receive-pack", Endpoint::write},
        {"/HEAD", Endpoint::read},
        {"/objects/info/alternates", Endpoint::read},
        {"/objects/info/http-alternates", Endpoint::read},
        {"/objects/info/packs", Endpoint::read},
    }};
    for (const Fixed& f : kFixed) {
        if (rest.ends_with(f.suffix)) {
            rest.remove_suffix(f.suffix.size());
            return f.endpoint;
        }
    }
    // /objects/xx/<38 or 62 hex> (loose objects, SHA-1 or SHA-256)
    const std::size_t objects = rest.rfind("/objects/");
    if (objects == std::string_view::npos) return Endpoint::none;
    const std::string_view tail = rest.substr(objects + 9);
    const std::size_t slash = tail.find('/');
    if (slash == 2 && is_hex(tail.substr(0, 2), 2) &&
        (is_hex(tail.substr(3), 38) || is_hex(tail.substr(3), 62))) {
        rest = rest.substr(0, objects);
        return Endpoint::read;
    }
    // /objects/pack/pack-<40 or 64 hex>.pack or .idx
    constexpr std::string_view kPack = "pack/pack-";
    if (tail.starts_with(kPack)) {
        std::string_view name = tail.substr(kPack.size());
        if (name.ends_with(".pack")) name.remove_suffix(5);
        else if (name.ends_with(".idx")) name.remove_suffix(4);
        else return Endpoint::none;
        if (is_hex(name, 40) || is_hex(name, 64)) {
            rest = rest.substr(0, objects);
            return Endpoint::read;
        }
    }
    return Endpoint::none;
}

// info/refs: a read only when every "service" parameter is exactly git-upload-pack (or there
// is none: dumb HTTP). git-http-backend decodes names and values and keeps the last one.
bool info_refs_is_read(std::string_view query) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const std::size_t eq = pair.find('=');
        const auto name = decode(pair.substr(0, eq), true);
        if (!name) return false;
        if (*name == "service") {
            if (eq == std::string_view::npos) return false;
            const auto value = decode(pair.substr(eq + 1), true);
            if (!value || *value != "git-upload-pack") return false;
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return true;
}

GitNeed read_write_anywhere() {
    return GitNeed{{std::string(kReadAction), std::string(kWriteAction)}, std::nullopt};
}

}  // namespace

GitNeed git_need(std::string_view git_root, std::string_view path, std::string_view query) {
    if (has_encoded_separator(path)) return read_write_anywhere();
    const auto decoded = decode(path, false);
    if (!decoded) return read_write_anywhere();
    for (char c : *decoded) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || c == '\\') return read_write_anywhere();
    }
    if (!decoded->starts_with(git_root) || decoded->size() == git_root.size())
        return read_write_anywhere();
    std::string_view rest = std::string_view(*decoded).substr(git_root.size());
    if (!plain_segments(rest)) return read_write_anywhere();

    const Endpoint endpoint = endpoint_of(rest);
    std::string action;
    switch (endpoint) {
        case Endpoint::none: return read_write_anywhere();
        case Endpoint::read: action = kReadAction; break;
        case Endpoint::write: action = kWriteAction; break;
        case Endpoint::info_refs:
            action = info_refs_is_read(query) ? kReadAction : kWriteAction;
            break;
    }
    GitNeed need{{action}, std::nullopt};
    std::string_view repository = rest;
    if (repository.ends_with(".git")) repository.remove_suffix(4);
    if (!repo_path_problem(repository)) need.repository = std::string(repository);
    return need;
}

Permissions git_permission_request(const GitNeed& need) {
    Permissions p;
    std::string resource(kRepoResource);
    if (need.repository) resource = std::string(kRepoResourcePrefix) + *need.repository;
    p.grants.emplace_back(std::move(resource), need.actions);
    return p;
}

std::optional<std::string> normalize_git_root(std::string_view root) {
    if (root.empty() || root.front() != '/') return std::nullopt;
    for (char c : root) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u == 0x7F || c == '%' || c == '?' || c == '#' || c == '\\')
            return std::nullopt;
    }
    std::string out(root);
    if (out.back() != '/') out.push_back('/');
    if (out != "/" && !plain_segments(std::string_view(out).substr(1, out.size() - 2)))
        return std::nullopt;
    return out;
}

}  // namespace gvx
