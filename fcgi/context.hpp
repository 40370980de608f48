// What every handler needs: the store, the options, the secret, the clock reading.
#pragma once

#include <cstdint>
#include <string_view>

#include "options.hpp"
#include "responses.hpp"
#include "token_store.hpp"

namespace gvx::fcgi {

struct Context {
    TokenStore& store;
    const Options& options;
    std::string_view session_secret;  // empty: cookies are not accepted
    std::int64_t now = 0;             // ms since the epoch, read once per request
};

}  // namespace gvx::fcgi
