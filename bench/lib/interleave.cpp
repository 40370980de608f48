#include "interleave.hpp"

#include "clock.hpp"
#include "sqlite_handles.hpp"
#include "stats.hpp"

namespace bench {

Interleaved::Interleaved(std::vector<Contestant> contestants, int reps,
                         std::size_t ops_per_block, int warmup_reps) {
    const std::size_t n = contestants.size();
    ns_per_op_.resize(n);
    std::vector<std::size_t> next_op(n, 0);
    for (int rep = -warmup_reps; rep < reps; ++rep) {
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t c = (k + static_cast<std::size_t>(rep + warmup_reps)) % n;
            const std::int64_t start = now_ns();
            for (std::size_t i = 0; i < ops_per_block; ++i) contestants[c].run_once(next_op[c]++);
            const double elapsed = static_cast<double>(now_ns() - start);
            if (contestants[c].after_block) contestants[c].after_block();
            if (rep >= 0) ns_per_op_[c].push_back(elapsed / static_cast<double>(ops_per_block));
        }
    }
    for (const Contestant& c : contestants) names_.push_back(c.name);
}

const std::vector<double>& Interleaved::samples(const std::string& name) const {
    for (std::size_t i = 0; i < names_.size(); ++i)
        if (names_[i] == name) return ns_per_op_[i];
    die("no such contestant", name);
}

double Interleaved::median_ns_per_op(const std::string& name) const {
    return median(samples(name));
}

double Interleaved::median_ratio(const std::string& a, const std::string& b) const {
    const auto& x = samples(a);
    const auto& y = samples(b);
    std::vector<double> ratios;
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) ratios.push_back(x[i] / y[i]);
    return median(ratios);
}

}  // namespace bench
