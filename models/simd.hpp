#pragma once
// Patient kernels in two versions, for the baseline x86-64 and for AVX2, chosen at run time
// (sim::detail::active_isa, which THERASIM_ISA can force). Both versions are the same source:
// a body written as loops over a block's columns, which the compiler vectorises for each
// instruction set. The floating-point operations are the same, in the same order and without
// contraction, so both give the same bits (tests/models/test_determinism.cpp runs every version).

#include "models/context.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#define THERASIM_KERNEL_AVX2 1
#endif

/// Kernel @p name (void(Ctx&, sim::World&, const sim::Block&)) running @p body, an
/// always-inline function of the same signature, in the version Ctx::avx2 chooses.
#ifdef THERASIM_KERNEL_AVX2
#define THERASIM_KERNEL(name, body)                                                                   \
    namespace {                                                                                      \
    [[gnu::target("avx2")]] void name##_avx2(Ctx& x, sim::World& w, const sim::Block& b) { body(x, w, b); } \
    }                                                                                                \
    void name(Ctx& x, sim::World& w, const sim::Block& b) {                                          \
        if (x.avx2)                                                                                  \
            name##_avx2(x, w, b);                                                                    \
        else                                                                                         \
            body(x, w, b);                                                                           \
    }
#else
#define THERASIM_KERNEL(name, body) \
    void name(Ctx& x, sim::World& w, const sim::Block& b) { body(x, w, b); }
#endif

/// Marks a kernel body (always inlined into each version) and its column loops' helpers.
#define THERASIM_INLINE [[gnu::always_inline]] inline

namespace models {
/// The uniform in (0, 1] of a random word: what BlockStream::uniform gives
/// (r123::u01<double>), as a function the compiler vectorises.
THERASIM_INLINE double u01(std::uint32_t word) { return static_cast<double>(word) * 0x1p-32 + 0x1p-33; }
}  // namespace models
