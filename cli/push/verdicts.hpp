// What a token seen in a push or a file is, by its hash in the database: only a live token
// stops a push. Revoked (deleted or disabled), expired and unknown ones pass: they are
// examples, test data and history.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "store.hpp"

namespace gvx::push {

enum class TokenState { unknown, revoked, expired, live };
std::string_view state_name(TokenState s);

struct Verdict {
    TokenState state = TokenState::unknown;
    std::optional<TokenRecord> token;  // when the database has it
};

// Looks tokens up without verifying them: no usage is counted and no activity recorded.
class Verdicts {
   public:
    Verdicts(Store& store, std::int64_t now) : store_(store), now_(now) {}
    // The verdict for a token with this key hash; each hash is looked up once.
    Result<Verdict> of(const std::string& key_hash);
    // Disables a live token and records LEAKED in its activity (see Store::disable_leaked).
    Result<bool> revoke(const TokenRecord& token, std::string_view ip, std::string_view where);

   private:
    Store& store_;
    std::int64_t now_;
    std::map<std::string, Verdict> seen_;
};

}  // namespace gvx::push
