#include "sim/rng.hpp"

// The vector versions are x86-64's; elsewhere (WebAssembly among others) Rng::blocks is the
// scalar loop, with the same words.
#if defined(__x86_64__) && defined(__GNUC__)
#define THERASIM_RNG_X86 1
#include <immintrin.h>
#endif

#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string_view>

namespace sim {

namespace {

// Philox4x32-10 (Salmon et al. 2011, Random123): the multipliers and the Weyl key increments.
constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
constexpr int ROUNDS = 10;

/// Blocks of counters (e_k, s, step, 0) for k in [from, n), one at a time, where entity e_k is
/// @p ids[k], or first + k without a list of ids (as in every version below).
void blocks_scalar(const Philox::key_type& key, std::uint32_t first, const std::uint32_t* ids, std::size_t from, std::size_t n,
                   StreamId s, std::uint32_t step, std::uint32_t* w0, std::uint32_t* w1, std::uint32_t* w2, std::uint32_t* w3) {
    const Philox philox;
    for (std::size_t k = from; k < n; ++k) {
        const std::uint32_t entity = ids ? ids[k] : first + static_cast<std::uint32_t>(k);
        const auto r = philox(Philox::ctr_type{{entity, s.value, step, 0}}, key);
        w0[k] = r[0];
        w1[k] = r[1];
        w2[k] = r[2];
        w3[k] = r[3];
    }
}

#ifdef THERASIM_RNG_X86
// The vector versions keep each word of the counter in its own register (a lane per entity),
// so a round is two pairs of 32x32->64-bit multiplies (even and odd lanes), shifts and blends
// to split the products, and three xors; the compiler's own vectorisation of the scalar loop
// spent most of its instructions transposing the four-word counters.

__attribute__((target("avx2"))) inline void mulhilo(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
    const __m256i even = _mm256_mul_epu32(a, m);                        // lanes 0, 2, 4, 6 as 64-bit products
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);  // lanes 1, 3, 5, 7
    lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

__attribute__((target("avx2"))) void blocks_avx2(const Philox::key_type& key, std::uint32_t first, const std::uint32_t* ids, std::size_t n, StreamId s,
                                                 std::uint32_t step, std::uint32_t* w0, std::uint32_t* w1, std::uint32_t* w2,
                                                 std::uint32_t* w3) {
    constexpr std::size_t LANES = 8;
    const __m256i m0 = _mm256_set1_epi32(static_cast<int>(M0)), m1 = _mm256_set1_epi32(static_cast<int>(M1));
    __m256i k0[ROUNDS], k1[ROUNDS];
    for (int r = 0; r < ROUNDS; ++r) {
        k0[r] = _mm256_set1_epi32(static_cast<int>(key[0] + static_cast<std::uint32_t>(r) * W0));
        k1[r] = _mm256_set1_epi32(static_cast<int>(key[1] + static_cast<std::uint32_t>(r) * W1));
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    std::size_t k = 0;
    for (; k + LANES <= n; k += LANES) {
        __m256i x0 = ids ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ids + k))
                         : _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first + static_cast<std::uint32_t>(k))), lane);
        __m256i x1 = _mm256_set1_epi32(static_cast<int>(s.value)), x2 = _mm256_set1_epi32(static_cast<int>(step));
        __m256i x3 = _mm256_setzero_si256();
        for (int r = 0; r < ROUNDS; ++r) {
            __m256i hi0, lo0, hi1, lo1;
            mulhilo(x0, m0, hi0, lo0);
            mulhilo(x2, m1, hi1, lo1);
            x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), k0[r]);
            x1 = lo1;
            x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), k1[r]);
            x3 = lo0;
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w0 + k), x0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w1 + k), x1);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w2 + k), x2);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w3 + k), x3);
    }
    blocks_scalar(key, first, ids, k, n, s, step, w0, w1, w2, w3);
}

// GCC 12 warns that the intrinsics' own _mm512_undefined_epi32() is used uninitialised (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) inline void mulhilo(__m512i a, __m512i m, __m512i& hi, __m512i& lo) {
    const __m512i even = _mm512_mul_epu32(a, m);
    const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}

__attribute__((target("avx512f"))) void blocks_avx512(const Philox::key_type& key, std::uint32_t first, const std::uint32_t* ids, std::size_t n,
                                                      StreamId s, std::uint32_t step, std::uint32_t* w0, std::uint32_t* w1,
                                                      std::uint32_t* w2, std::uint32_t* w3) {
    constexpr std::size_t LANES = 16;
    const __m512i m0 = _mm512_set1_epi32(static_cast<int>(M0)), m1 = _mm512_set1_epi32(static_cast<int>(M1));
    __m512i k0[ROUNDS], k1[ROUNDS];
    for (int r = 0; r < ROUNDS; ++r) {
        k0[r] = _mm512_set1_epi32(static_cast<int>(key[0] + static_cast<std::uint32_t>(r) * W0));
        k1[r] = _mm512_set1_epi32(static_cast<int>(key[1] + static_cast<std::uint32_t>(r) * W1));
    }
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    std::size_t k = 0;
    for (; k + LANES <= n; k += LANES) {
        __m512i x0 = ids ? _mm512_loadu_si512(ids + k)
                         : _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(first + static_cast<std::uint32_t>(k))), lane);
        __m512i x1 = _mm512_set1_epi32(static_cast<int>(s.value)), x2 = _mm512_set1_epi32(static_cast<int>(step));
        __m512i x3 = _mm512_setzero_si512();
        for (int r = 0; r < ROUNDS; ++r) {
            __m512i hi0, lo0, hi1, lo1;
            mulhilo(x0, m0, hi0, lo0);
            mulhilo(x2, m1, hi1, lo1);
            x0 = _mm512_xor_si512(_mm512_xor_si512(hi1, x1), k0[r]);
            x1 = lo1;
            x2 = _mm512_xor_si512(_mm512_xor_si512(hi0, x3), k1[r]);
            x3 = lo0;
        }
        _mm512_storeu_si512(w0 + k, x0);
        _mm512_storeu_si512(w1 + k, x1);
        _mm512_storeu_si512(w2 + k, x2);
        _mm512_storeu_si512(w3 + k, x3);
    }
    blocks_scalar(key, first, ids, k, n, s, step, w0, w1, w2, w3);
}

#pragma GCC diagnostic pop
#endif  // THERASIM_RNG_X86

/// The ziggurat of Boost's normal_distribution<float> (Draws::normalf) in single precision:
/// layer i's width x[i] as the float the first try multiplies by, and the smallest float at or
/// above x[i + 1], so that a float x is below x[i + 1] exactly when it is below accept[i].
struct ZigguratF {
    std::array<float, 128> x{}, accept{};
    ZigguratF() {
        const double* t = boost::random::detail::normal_table<double>::table_x;
        for (std::size_t i = 0; i < 128; ++i) {
            x[i] = static_cast<float>(t[i]);
            float a = static_cast<float>(t[i + 1]);
            if (static_cast<double>(a) < t[i + 1]) a = std::nextafter(a, std::numeric_limits<float>::infinity());
            accept[i] = a;
        }
    }
};
const ZigguratF zig;

void normalf_first_try_scalar(const std::uint32_t* words, std::size_t from, std::size_t n, float* out, std::uint8_t* accepted) {
    for (std::size_t k = from; k < n; ++k) {
        const std::uint32_t u = words[k];
        const std::uint32_t layer = u & 0xFFu, i = layer >> 1;
        const float x = static_cast<float>(u >> 8) * (1.0f / 16777216.0f) * zig.x[i];
        const float sign = (layer & 1u) ? 1.0f : -1.0f;
        accepted[k] = x < zig.accept[i];
        out[k] = x * sign + 0.0f;  // as Draws::normalf: the sum turns -0 into +0
    }
}

#ifdef THERASIM_RNG_X86
__attribute__((target("avx2"))) void normalf_first_try_avx2(const std::uint32_t* words, std::size_t n, float* out,
                                                            std::uint8_t* accepted) {
    constexpr std::size_t LANES = 8;
    const __m256i low8 = _mm256_set1_epi32(0xFF), one = _mm256_set1_epi32(1);
    const __m256 scale = _mm256_set1_ps(1.0f / 16777216.0f), zero = _mm256_setzero_ps();
    const __m256 plus = _mm256_set1_ps(1.0f), minus = _mm256_set1_ps(-1.0f);
    std::size_t k = 0;
    for (; k + LANES <= n; k += LANES) {
        const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(words + k));
        const __m256i layer = _mm256_and_si256(u, low8);
        const __m256i i = _mm256_srli_epi32(layer, 1);
        const __m256 width = _mm256_i32gather_ps(zig.x.data(), i, 4);
        const __m256 bound = _mm256_i32gather_ps(zig.accept.data(), i, 4);
        const __m256 x = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(u, 8)), scale), width);
        const __m256 odd = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(layer, one), one));
        const __m256 sign = _mm256_blendv_ps(minus, plus, odd);
        _mm256_storeu_ps(out + k, _mm256_add_ps(_mm256_mul_ps(x, sign), zero));
        // all-ones lanes where accepted, narrowed to 8 bytes of 0 or 1
        const __m256i yes = _mm256_castps_si256(_mm256_cmp_ps(x, bound, _CMP_LT_OQ));
        const __m128i halves = _mm_packs_epi32(_mm256_castsi256_si128(yes), _mm256_extracti128_si256(yes, 1));
        const __m128i bytes = _mm_and_si128(_mm_packs_epi16(halves, halves), _mm_set1_epi8(1));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(accepted + k), bytes);
    }
    normalf_first_try_scalar(words, k, n, out, accepted);
}
#endif

detail::Isa best_isa() {
    if (detail::isa_supported(detail::Isa::avx512)) return detail::Isa::avx512;
    if (detail::isa_supported(detail::Isa::avx2)) return detail::Isa::avx2;
    return detail::Isa::scalar;
}

}  // namespace

namespace {
std::atomic<int> forced_isa{-1};  // force_isa's choice, or -1
}  // namespace

detail::Isa detail::active_isa() {
    if (const int forced = forced_isa.load(std::memory_order_relaxed); forced >= 0) return static_cast<Isa>(forced);
    static const Isa isa = [] {
        Isa best = best_isa();
        const char* forced = std::getenv("THERASIM_ISA");
        if (!forced) return best;
        const std::string_view name(forced);
        if (name != "scalar" && name != "avx2" && name != "avx512") {
            std::fprintf(stderr, "therasim: THERASIM_ISA=%s is not scalar, avx2 or avx512; using the processor's best\n", forced);
            return best;
        }
        const Isa want = name == "scalar" ? Isa::scalar : name == "avx2" ? Isa::avx2 : Isa::avx512;
        return std::min(want, best);
    }();
    return isa;
}

void detail::force_isa(std::optional<Isa> isa) {
    forced_isa.store(isa ? static_cast<int>(std::min(*isa, best_isa())) : -1, std::memory_order_relaxed);
}

void detail::normalf_first_try_with(Isa isa, const std::uint32_t* words, std::size_t n, float* out, std::uint8_t* accepted) {
#ifdef THERASIM_RNG_X86
    // One vector version: a 512-bit one measured no faster (the two gathers dominate).
    if (isa != Isa::scalar && isa_supported(Isa::avx2)) return normalf_first_try_avx2(words, n, out, accepted);
#else
    (void)isa;
#endif
    normalf_first_try_scalar(words, 0, n, out, accepted);
}

void normalf_first_try(const std::uint32_t* words, std::size_t n, float* out, std::uint8_t* accepted) {
    detail::normalf_first_try_with(detail::active_isa(), words, n, out, accepted);
}

bool detail::isa_supported(Isa isa) {
#ifdef THERASIM_RNG_X86
    switch (isa) {
        case Isa::avx512: return __builtin_cpu_supports("avx512f");
        case Isa::avx2: return __builtin_cpu_supports("avx2");
        default: return true;
    }
#else
    return isa == Isa::scalar;
#endif
}

namespace {
void blocks_any(detail::Isa isa, const Philox::key_type& key, std::uint32_t first, const std::uint32_t* ids, std::size_t n,
                StreamId s, std::uint32_t step, std::uint32_t* w0, std::uint32_t* w1, std::uint32_t* w2, std::uint32_t* w3) {
    if (!detail::isa_supported(isa)) isa = detail::Isa::scalar;
#ifdef THERASIM_RNG_X86
    if (isa == detail::Isa::avx512) return blocks_avx512(key, first, ids, n, s, step, w0, w1, w2, w3);
    if (isa == detail::Isa::avx2) return blocks_avx2(key, first, ids, n, s, step, w0, w1, w2, w3);
#endif
    blocks_scalar(key, first, ids, 0, n, s, step, w0, w1, w2, w3);
}
}  // namespace

void detail::blocks_with(Isa isa, const Philox::key_type& key, std::uint32_t first, std::size_t n, StreamId s, std::uint32_t step,
                         std::uint32_t* w0, std::uint32_t* w1, std::uint32_t* w2, std::uint32_t* w3) {
    blocks_any(isa, key, first, nullptr, n, s, step, w0, w1, w2, w3);
}

void detail::blocks_of_with(Isa isa, const Philox::key_type& key, const std::uint32_t* entities, std::size_t n, StreamId s,
                            std::uint32_t step, std::uint32_t* w0, std::uint32_t* w1, std::uint32_t* w2, std::uint32_t* w3) {
    blocks_any(isa, key, 0, entities, n, s, step, w0, w1, w2, w3);
}

// The version of detail::active_isa; Philox is integer arithmetic, so
// every version gives the same words (tests/sim/test_rng.cpp runs each against Random123).
void Rng::blocks(std::uint32_t first, std::size_t n, StreamId s, std::uint32_t step, std::uint32_t* w0, std::uint32_t* w1,
                 std::uint32_t* w2, std::uint32_t* w3) const {
    detail::blocks_with(detail::active_isa(), key_, first, n, s, step, w0, w1, w2, w3);
}

void Rng::blocks_of(const std::uint32_t* entities, std::size_t n, StreamId s, std::uint32_t step, std::uint32_t* w0,
                    std::uint32_t* w1, std::uint32_t* w2, std::uint32_t* w3) const {
    detail::blocks_of_with(detail::active_isa(), key_, entities, n, s, step, w0, w1, w2, w3);
}

const BlockStream& shared_block_stream(const Rng& rng, StreamId s, std::uint32_t step, std::size_t first, std::size_t n) {
    // Two per thread, allocated at their first use (32 KiB each: too large for static thread storage).
    thread_local std::array<std::unique_ptr<BlockStream>, 2> kept;
    thread_local std::size_t recent = 0;  // the one asked for last
    for (std::size_t k = 0; k < kept.size(); ++k)
        if (kept[k] && kept[k]->holds(rng, s, step, first, n)) {
            recent = k;
            return *kept[k];
        }
    recent = 1 - recent;
    if (kept[recent])
        kept[recent]->assign(rng, s, step, first, n);
    else
        kept[recent] = std::make_unique<BlockStream>(rng, s, step, first, n);
    return *kept[recent];
}

}  // namespace sim
