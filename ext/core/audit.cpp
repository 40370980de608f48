#include "core/audit.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <vector>

namespace gvx {

std::string_view audit_via(AuditVia via) {
    switch (via) {
        case AuditVia::session: return "session";
        case AuditVia::remote_user: return "remote_user";
        case AuditVia::token: return "token";
        case AuditVia::admin: return "admin";
        case AuditVia::sql: return "sql";
        case AuditVia::unknown: break;
    }
    return "unknown";
}

std::string_view audit_action(AuditAction action) {
    switch (action) {
        case AuditAction::create: return "create";
        case AuditAction::update: return "update";
        case AuditAction::disable: return "disable";
        case AuditAction::enable: return "enable";
        case AuditAction::rotate: return "rotate";
        case AuditAction::delete_: break;
    }
    return "delete";
}

std::string_view bounded_utf8(std::string_view s, std::size_t max) {
    if (s.size() <= max) return s;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

AuditAction audit_action_of(const TokenChanges& c) {
    const bool only_enabled = c.enabled && !c.name && !c.set_expires_at && !c.set_metadata &&
                              !c.set_permissions;
    if (!only_enabled) return AuditAction::update;
    return *c.enabled ? AuditAction::enable : AuditAction::disable;
}

std::int64_t audit_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string system_user_name() {
    const uid_t uid = getuid();
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    std::string name;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found && pw.pw_name)
        name = pw.pw_name;
    else
        name = "uid " + std::to_string(uid);
    // root through sudo: sudo names the person who asked (only root can set it otherwise).
    if (uid == 0) {
        const char* by = std::getenv("SUDO_USER");
        if (by && *by) name += std::string(" (sudo by ") + by + ")";
    }
    return name;
}

Actor system_actor(AuditVia via, std::string_view program) {
    return Actor{.user = system_user_name(), .via = via, .ip = {},
                 .user_agent = std::string(program)};
}

}  // namespace gvx
