// The two reads only the admin command needs, on the store's connection: every user that
// has tokens, and the token whose stored key (SHA-256 of the token) matches.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store.hpp"

namespace gvx::cli {

Result<std::vector<std::string>> users_with_tokens(Store& store);

// The token with this apikey.key, whoever owns it.
Result<std::optional<TokenRecord>> token_by_key(Store& store, std::string_view key_hash);

}  // namespace gvx::cli
