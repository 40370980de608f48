#include "push/verdicts.hpp"

#include "lookup.hpp"

namespace gvx::push {

std::string_view state_name(TokenState s) {
    switch (s) {
        case TokenState::unknown: return "unknown";
        case TokenState::revoked: return "revoked";
        case TokenState::expired: return "expired";
        case TokenState::live: return "live";
    }
    return "unknown";
}

Result<Verdict> Verdicts::of(const std::string& key_hash) {
    if (auto it = seen_.find(key_hash); it != seen_.end()) return it->second;
    auto found = cli::token_by_key(store_, key_hash);
    if (!found) return std::move(found).error();
    Verdict v;
    if (*found) {
        const TokenRecord& t = **found;
        if (!t.enabled)
            v.state = TokenState::revoked;
        else if (t.expires_at && *t.expires_at <= now_)
            v.state = TokenState::expired;
        else
            v.state = TokenState::live;
        v.token = std::move(**found);
    }
    seen_.emplace(key_hash, v);
    return v;
}

Result<bool> Verdicts::revoke(const TokenRecord& token, std::string_view ip,
                              std::string_view where) {
    auto done = store_.disable_leaked(token, ClientInfo{.ip = ip, .user_agent = where}, now_);
    if (!done) return std::move(done).error();
    return *done;
}

}  // namespace gvx::push
