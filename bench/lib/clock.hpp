// Monotonic time for measurements.
#pragma once

#include <chrono>
#include <cstdint>

namespace bench {

inline std::int64_t now_ns() {
    using namespace std::chrono;
    return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace bench
