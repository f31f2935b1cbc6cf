#include "sim/rng.hpp"

#include <memory>

namespace sim {

// Compiled for AVX-512, AVX2 and the baseline and chosen at load time; the loop over counters
// is what the compiler vectorises, and writing each word to its own array keeps the stores
// contiguous. Philox is integer arithmetic, so every version gives the same words.
__attribute__((target_clones("avx512f", "avx2", "default"))) void Rng::blocks(std::uint32_t first, std::size_t n,
                                                                               StreamId s, std::uint32_t step,
                                                                               std::uint32_t* w0, std::uint32_t* w1,
                                                                               std::uint32_t* w2, std::uint32_t* w3) const {
    const Philox philox;
    for (std::size_t k = 0; k < n; ++k) {
        const auto r = philox(Philox::ctr_type{{first + static_cast<std::uint32_t>(k), s.value, step, 0}}, key_);
        w0[k] = r[0];
        w1[k] = r[1];
        w2[k] = r[2];
        w3[k] = r[3];
    }
}

const BlockStream& shared_block_stream(const Rng& rng, StreamId s, std::uint32_t step, std::size_t first, std::size_t n) {
    // One per thread, allocated at its first use (32 KiB: too large for static thread storage).
    thread_local std::unique_ptr<BlockStream> kept;
    if (!kept || !kept->holds(rng, s, step, first, n)) kept = std::make_unique<BlockStream>(rng, s, step, first, n);
    return *kept;
}

}  // namespace sim
