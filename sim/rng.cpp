#include "sim/rng.hpp"

namespace sim {

// Compiled twice (AVX2 and baseline) and chosen at load time; the loop over counters is what
// the compiler vectorises. Philox is integer arithmetic, so both versions give the same words.
__attribute__((target_clones("avx2", "default"))) void Rng::blocks(std::uint32_t first, std::size_t n, StreamId s,
                                                                    std::uint32_t step, Words* out) const {
    const Philox philox;
    for (std::size_t k = 0; k < n; ++k) {
        const auto r = philox(Philox::ctr_type{{first + static_cast<std::uint32_t>(k), s.value, step, 0}}, key_);
        out[k] = {r[0], r[1], r[2], r[3]};
    }
}

}  // namespace sim
