// Interleaved measurement: every repetition runs one block of each contestant, in an order
// that rotates from one repetition to the next, so drift in a shared, noisy machine (other
// tenants, checkpoints, page cache) reaches all contestants alike. A contestant's figure is its
// median over repetitions; a comparison is the median of the per-repetition ratios. A
// contestant may put back, after each of its blocks and outside their time, the state every
// block is to start from (an empty WAL, an empty page cache), so no block inherits another's.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace bench {

struct Contestant {
    std::string name;
    std::function<void(std::size_t op)> run_once;  // op counts up across the whole run
    std::function<void()> after_block = {};        // optional; untimed, after each block
};

class Interleaved {
   public:
    // Runs warmup_reps unrecorded repetitions, then reps recorded ones, of ops_per_block each.
    Interleaved(std::vector<Contestant> contestants, int reps, std::size_t ops_per_block,
                int warmup_reps = 1);

    double median_ns_per_op(const std::string& name) const;
    // Median over repetitions of a's ns/op divided by b's in the same repetition.
    double median_ratio(const std::string& a, const std::string& b) const;

   private:
    const std::vector<double>& samples(const std::string& name) const;
    std::vector<std::string> names_;
    std::vector<std::vector<double>> ns_per_op_;  // [contestant][repetition]
};

}  // namespace bench
