#pragma once
// Patient kernels in three versions, for the baseline x86-64, for AVX2 and for AVX-512, chosen
// at run time (sim::detail::active_isa, which THERASIM_ISA can force). All are the same source:
// a body written as loops over a block's columns, which the compiler vectorises for each
// instruction set. The floating-point operations are the same, in the same order and without
// contraction, so all give the same bits (tests/models/test_determinism.cpp runs every version).

#include "models/context.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#define THERASIM_KERNEL_X86 1
// 512-bit vectors for the AVX-512 version (GCC and clang ask for them differently).
#if defined(__clang__)
#define THERASIM_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"), min_vector_width(512)))
#else
#define THERASIM_TARGET_AVX512 [[gnu::target("avx512f,avx512bw,avx512dq,avx512vl,prefer-vector-width=512")]]
#endif
#endif

/// Kernel @p name (void(Ctx&, sim::World&, const sim::Block&)) running @p body, an
/// always-inline function of the same signature, in the version Ctx::isa chooses. The vector
/// versions are flattened: what the body calls (the lambdas of its rare events, admit, start_dyad)
/// is compiled into them for their instruction set, not called as baseline x86-64 code.
#ifdef THERASIM_KERNEL_X86
#define THERASIM_KERNEL(name, body)                                                                          \
    namespace {                                                                                              \
    [[gnu::target("avx2"), gnu::flatten]] void name##_avx2(Ctx& x, sim::World& w, const sim::Block& b) {     \
        body(x, w, b);                                                                                       \
    }                                                                                                        \
    [[gnu::flatten]] THERASIM_TARGET_AVX512 void name##_avx512(Ctx& x, sim::World& w, const sim::Block& b) { \
        body(x, w, b);                                                                                       \
    }                                                                                                        \
    }                                                                                                        \
    void name(Ctx& x, sim::World& w, const sim::Block& b) {                                                  \
        switch (x.isa) {                                                                                     \
            case sim::detail::Isa::avx512: return name##_avx512(x, w, b);                                    \
            case sim::detail::Isa::avx2: return name##_avx2(x, w, b);                                        \
            default: return body(x, w, b);                                                                   \
        }                                                                                                    \
    }
#else
#define THERASIM_KERNEL(name, body) \
    void name(Ctx& x, sim::World& w, const sim::Block& b) { body(x, w, b); }
#endif

/// Marks a kernel body (always inlined into each version) and its column loops' helpers.
#define THERASIM_INLINE [[gnu::always_inline]] inline

#include <cstdint>
#include <cstring>

namespace models {
/// Calls @p f(j), in increasing order, for each j in [0, @p n) where @p flag[j] (0 or 1) is
/// @p value: eight flags at a time, so that a loop over the few patients with something to do
/// costs little for the others.
template <class F>
THERASIM_INLINE void for_each_flag(const std::uint8_t* flag, std::size_t n, std::uint8_t value, F&& f) {
    const std::uint64_t flip = value ? 0 : 0x0101010101010101u;  // turns the wanted value into 1
    std::size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        std::uint64_t word;
        std::memcpy(&word, flag + j, 8);
        word ^= flip;
        while (word != 0) {
            const int bit = __builtin_ctzll(word);
            f(j + static_cast<std::size_t>(bit / 8));
            word &= word - 1;  // each wanted byte is exactly 1: one set bit
        }
    }
    for (; j < n; ++j)
        if (flag[j] == value) f(j);
}

/// The uniform in (0, 1] of a random word: what BlockStream::uniform gives
/// (r123::u01<double>), as a function the compiler vectorises.
THERASIM_INLINE double u01(std::uint32_t word) { return static_cast<double>(word) * 0x1p-32 + 0x1p-33; }
}  // namespace models
