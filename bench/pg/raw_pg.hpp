// The PostgreSQL baseline: a minimal libpq client issuing the statements of gvx's
// verification (the same SQL text, ext/pg/statements.cpp; the same two pipelined round trips,
// ext/pg/pg_store.cpp) with the least logic around them: no policy beyond enabled and expiry,
// no reconnection, no validation. What gvx costs above it is gvx's own overhead.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bench {

class RawPg {
   public:
    explicit RawPg(const std::string& uri);  // exits with a message when it cannot connect
    RawPg(const RawPg&) = delete;
    RawPg& operator=(const RawPg&) = delete;
    ~RawPg();

    // The owner's user_id when the token is valid now; records usage and activity.
    std::optional<std::string> verify(std::string_view token, std::string_view ip,
                                      std::string_view user_agent, std::int64_t now);
    PGconn* conn() const { return conn_; }

   private:
    PGconn* conn_;
};

// Milliseconds since the epoch: the "now" both contestants bind.
inline std::int64_t wall_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace bench
