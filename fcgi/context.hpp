// What every handler needs: the store, the options, the secret, the clock reading.
#pragma once

#include <cstdint>
#include <string_view>

#include "options.hpp"
#include "store.hpp"

namespace gvx::fcgi {

struct Context {
    Store& store;
    const Options& options;
    std::string_view session_secret;  // empty: cookies are not accepted
    std::int64_t now = 0;             // ms since the epoch, read once per request
};

// The response for a store error: 400 with the store's message, 404, 503 or a bare 500.
struct Response;
Response store_error(const Error& e);

}  // namespace gvx::fcgi
