// Keyed counter-based streams: reproducible, independent of call order, and uniform.
#include "sim/rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace {
constexpr std::uint32_t SEED = 12345;
constexpr sim::StreamId A = sim::stream("test.a");
constexpr sim::StreamId B = sim::stream("test.b");
}  // namespace

TEST_CASE("a draw depends only on its key, not on the order of calls", "[rng]") {
    const sim::Rng rng(SEED);
    const double first = rng.uniform(3, A, 10);
    (void)rng.uniform(4, A, 10);
    (void)rng.uniform(3, B, 10);
    CHECK(rng.uniform(3, A, 10) == first);
    CHECK(sim::Rng(SEED).uniform(3, A, 10) == first);
}

TEST_CASE("seed, replicate, entity, stream and step each change the draw", "[rng]") {
    const sim::Rng rng(SEED);
    const double base = rng.uniform(3, A, 10);
    CHECK(sim::Rng(SEED + 1).uniform(3, A, 10) != base);
    CHECK(sim::Rng(SEED, 1).uniform(3, A, 10) != base);
    CHECK(rng.uniform(4, A, 10) != base);
    CHECK(rng.uniform(3, B, 10) != base);
    CHECK(rng.uniform(3, A, 11) != base);
}

TEST_CASE("uniforms pass a chi-square test of 20 equal bins", "[rng][statistical]") {
    // 200,000 draws over 20 bins: the statistic has 19 degrees of freedom; 43.8 is its 0.999 quantile.
    const sim::Rng rng(SEED);
    constexpr int N = 200000, BINS = 20;
    std::vector<int> count(BINS, 0);
    for (int i = 0; i < N; ++i) {
        const double u = rng.uniform(static_cast<std::uint32_t>(i), A, 0);
        REQUIRE(u > 0.0);
        REQUIRE(u <= 1.0);
        ++count[std::min(BINS - 1, static_cast<int>(u * BINS))];
    }
    double chi2 = 0;
    for (int c : count) chi2 += (c - N / BINS) * (c - N / BINS) / double(N / BINS);
    CHECK(chi2 < 43.8);
}

TEST_CASE("normals from Draws have mean 0 and variance 1", "[rng][statistical]") {
    // 100,000 draws: the standard error of the mean is 0.0032 and of the variance 0.0045;
    // tolerances are 5 standard errors.
    const sim::Rng rng(SEED);
    constexpr int N = 100000;
    double s = 0, s2 = 0;
    for (int i = 0; i < N; ++i) {
        auto g = rng.draws(static_cast<std::uint32_t>(i), B, 1);
        const double z = g.normal();
        s += z;
        s2 += z * z;
    }
    const double mean = s / N, var = s2 / N - mean * mean;
    CHECK(std::fabs(mean) < 0.016);
    CHECK(std::fabs(var - 1.0) < 0.023);
}

TEST_CASE("single-precision normals are Boost's, word for word, rejections included", "[rng]") {
    // Draws::normalf inlines the ziggurat's accepting first try: it must give Boost's value and
    // leave the stream where Boost leaves it (the next word is compared after every draw).
    const sim::Rng rng(SEED, 4);
    int rejected = 0;
    for (std::uint32_t e = 0; e < 20000; ++e) {
        auto a = rng.draws(e, A, 1);
        auto b = rng.draws(e, A, 1);
        for (int k = 0; k < 10; ++k) {
            auto peek = b;
            const std::uint32_t u = peek();  // the first word, and whether the first try accepts it
            const double* table_x = boost::random::detail::normal_table<double>::table_x;
            const auto layer = static_cast<int>((u & 0xFFu) >> 1);
            rejected += !(static_cast<float>(u >> 8) * (1.0f / 16777216.0f) * static_cast<float>(table_x[layer]) < table_x[layer + 1]);
            const float mine = a.normalf(), boost = boost::random::normal_distribution<float>()(b);
            REQUIRE(std::memcmp(&mine, &boost, sizeof mine) == 0);
            REQUIRE(a() == b());
        }
    }
    CHECK(rejected > 1000);  // about 2.8% of 200,000 draws: the slow path was exercised
}

TEST_CASE("every version of the normals' first try gives Draws::normalf's value, and flags exactly its rejections", "[rng]") {
    // Where a version accepts word k, its normal is the bits Draws::normalf gives from that first
    // word; where it rejects, Draws::normalf takes more than one word. Lengths that are and are
    // not multiples of the vector widths (8 and 16 lanes).
    const sim::Rng rng(SEED, 6);
    constexpr std::size_t N = 40000;
    std::vector<std::uint32_t> words(N);
    for (std::size_t k = 0; k < N; ++k) words[k] = rng.block(static_cast<std::uint32_t>(k), A, 2)[3];
    std::vector<float> expected(N);
    std::vector<std::uint8_t> one_word(N);
    for (std::size_t k = 0; k < N; ++k) {
        auto g = rng.draws(static_cast<std::uint32_t>(k), A, 2);
        expected[k] = g.normalf();
        auto next = rng.draws(static_cast<std::uint32_t>(k), A, 2);
        next();
        one_word[k] = g() == next();  // one word taken: both streams give the second word next
    }
    // The share of draws that take more than one word is the share of first tries the ziggurat
    // rejects: 1 - the mean over its 128 layers of x[i + 1] / x[i] (about 2.8%), within 4
    // binomial standard deviations (0.33 percentage points at 40,000 draws).
    const double* table_x = boost::random::detail::normal_table<double>::table_x;
    double kept = 0;
    for (int i = 0; i < 128; ++i) kept += table_x[i + 1] / table_x[i];
    const double p_reject = 1.0 - kept / 128.0;
    const double share = static_cast<double>(std::count(one_word.begin(), one_word.end(), 0)) / N;
    CHECK(p_reject == Approx(0.0276).margin(0.0005));
    CHECK(share == Approx(p_reject).margin(4.0 * std::sqrt(p_reject * (1.0 - p_reject) / N)));
    for (const auto isa : {sim::detail::Isa::scalar, sim::detail::Isa::avx2, sim::detail::Isa::avx512}) {
        if (!sim::detail::isa_supported(isa)) continue;
        for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{17}, std::size_t{2048}, N}) {
            std::vector<float> out(n);
            std::vector<std::uint8_t> accepted(n);
            sim::detail::normalf_first_try_with(isa, words.data(), n, out.data(), accepted.data());
            for (std::size_t k = 0; k < n; ++k) {
                REQUIRE(accepted[k] == one_word[k]);
                if (accepted[k]) REQUIRE(std::memcmp(&out[k], &expected[k], sizeof(float)) == 0);
            }
        }
    }
}

TEST_CASE("stream ids of distinct names differ", "[rng]") {
    CHECK(sim::stream("patient.relapse").value != sim::stream("patient.relapsE").value);
    CHECK(sim::stream("").value == 2166136261u);  // FNV-1a offset basis
}

TEST_CASE("vectorised blocks equal one-at-a-time Philox blocks, including a ragged tail", "[rng]") {
    const sim::Rng rng(SEED, 2);
    constexpr std::size_t N = 2000;  // not a multiple of any vector width
    constexpr std::uint32_t FIRST = 77, STEP = 9;
    const sim::BlockStream bs(rng, A, STEP, FIRST, N);
    for (std::size_t e = FIRST; e < FIRST + N; ++e) {
        REQUIRE(bs.words(e) == rng.block(static_cast<std::uint32_t>(e), A, STEP));
        REQUIRE(bs.uniform(e) == rng.uniform(static_cast<std::uint32_t>(e), A, STEP));
    }
    // Draws from a prefilled block continue exactly like Draws computed from scratch.
    auto a = bs.draws(FIRST + 5);
    auto b = rng.draws(FIRST + 5, A, STEP);
    for (int k = 0; k < 13; ++k) REQUIRE(a() == b());
}

TEST_CASE("every instruction set's version of the blocks gives Random123's words", "[rng]") {
    // Each version this processor runs, forced, against Random123 one block at a time, for
    // lengths that are and are not multiples of the vector widths (8 and 16 lanes).
    const sim::Rng rng(SEED, 3);
    constexpr std::uint32_t FIRST = 4294967000u, STEP = 4000000000u;  // counters that wrap around 2^32
    for (const auto isa : {sim::detail::Isa::scalar, sim::detail::Isa::avx2, sim::detail::Isa::avx512}) {
        if (!sim::detail::isa_supported(isa)) continue;
        for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{2047}, std::size_t{2048}}) {
            std::vector<std::uint32_t> w0(n), w1(n), w2(n), w3(n);
            sim::detail::blocks_with(isa, rng.key(), FIRST, n, B, STEP, w0.data(), w1.data(), w2.data(), w3.data());
            for (std::size_t k = 0; k < n; ++k) {
                const auto r = r123::Philox4x32()(r123::Philox4x32::ctr_type{{FIRST + static_cast<std::uint32_t>(k), B.value, STEP, 0}},
                                                  r123::Philox4x32::ukey_type{{SEED, 3}});
                REQUIRE(sim::Words{w0[k], w1[k], w2[k], w3[k]} == sim::Words{r[0], r[1], r[2], r[3]});
            }
        }
    }
}

TEST_CASE("every version of the blocks of a list of entities gives Random123's words", "[rng]") {
    const sim::Rng rng(SEED, 4);
    constexpr std::uint32_t STEP = 77;
    std::vector<std::uint32_t> ids;
    for (std::uint32_t k = 0; k < 1000; ++k) ids.push_back(k * 2654435761u);  // scattered, and not a multiple of 8 or 16
    for (const auto isa : {sim::detail::Isa::scalar, sim::detail::Isa::avx2, sim::detail::Isa::avx512}) {
        if (!sim::detail::isa_supported(isa)) continue;
        for (const std::size_t n : {std::size_t{0}, std::size_t{7}, std::size_t{16}, ids.size()}) {
            std::vector<std::uint32_t> w0(n), w1(n), w2(n), w3(n);
            sim::detail::blocks_of_with(isa, rng.key(), ids.data(), n, B, STEP, w0.data(), w1.data(), w2.data(), w3.data());
            for (std::size_t k = 0; k < n; ++k) REQUIRE(sim::Words{w0[k], w1[k], w2[k], w3[k]} == rng.block(ids[k], B, STEP));
        }
    }
}

TEST_CASE("blocks match Random123's Philox4x32-10", "[rng]") {
    // The engine's words are Random123's for counter (entity, stream, step, 0) and key (seed, replicate).
    const sim::Rng rng(SEED, 5);
    const auto w = rng.block(11, B, 3);
    const auto r = r123::Philox4x32()(r123::Philox4x32::ctr_type{{11, B.value, 3, 0}}, r123::Philox4x32::ukey_type{{SEED, 5}});
    CHECK(w == sim::Words{r[0], r[1], r[2], r[3]});
}
