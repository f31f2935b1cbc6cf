#pragma once
/// @file rng.hpp
/// Counter-based random streams. Every draw is keyed by (seed, replicate, entity, stream, step),
/// never by thread or memory slot, so results do not depend on the number of threads, and two
/// scenarios run with the same seed share every draw they do not change (common random numbers).

#include <limits>

// philox.h first: it defines the feature macros the other Random123 headers need.
#include <Random123/philox.h>

#include <Random123/boxmuller.hpp>
#include <Random123/uniform.hpp>

#include <boost/random/gamma_distribution.hpp>
#include <boost/random/normal_distribution.hpp>

#include <array>
#include <optional>
#include <cstdint>
#include <string_view>

namespace sim {

/// Identifies one decision's stream ("patient.relapse"). Derived from the name by FNV-1a, so
/// adding a stream never shifts another's draws.
struct StreamId {
    std::uint32_t value;
};

/// @return the stream id of @p name (32-bit FNV-1a).
constexpr StreamId stream(std::string_view name) {
    std::uint32_t h = 2166136261u;
    for (char c : name) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 16777619u;
    }
    return StreamId{h};
}

/// The Philox generator and its counter and key types.
using Philox = r123::Philox4x32;
/// One Philox block: four 32-bit words.
using Words = std::array<std::uint32_t, 4>;

/// Draws of one (entity, stream, step): the words of Philox blocks n = 0, 1, 2, ... of the
/// counter (entity, stream, step, n), last word of a block first (as Random123's MicroURNG
/// orders them). It is a UniformRandomBitGenerator, so Boost.Random distributions take it as
/// their engine. Block 0 may be handed in precomputed (see BlockStream).
class Draws {
public:
    using result_type = std::uint32_t;

    Draws(Philox::ctr_type ctr, Philox::key_type key) : ctr_(ctr), key_(key) {}
    /// Starts from an already computed block 0.
    Draws(Philox::ctr_type ctr, Philox::key_type key, const Words& block0) : ctr_(ctr), key_(key), words_(block0), left_(4), next_(1) {}
    /// Starts from an already computed block 0 of which the first 4 - @p left words (1 <= left
    /// <= 4) belong to other purposes of the same entity and step (see BlockStream::draws).
    Draws(Philox::ctr_type ctr, Philox::key_type key, const Words& block0, unsigned left)
        : ctr_(ctr), key_(key), words_(block0), left_(left), next_(1) {}

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type{0}; }
    /// Next raw 32-bit word (the UniformRandomBitGenerator interface).
    result_type operator()() {
        if (left_ == 0) refill();
        return words_[--left_];
    }

    /// @return a uniform double in (0, 1].
    double uniform() { return r123::u01<double>((*this)()); }
    /// @return true with probability @p p (p outside [0,1] behaves as clamped).
    bool bernoulli(double p) { return uniform() <= p; }
    /// @return a standard normal variate (Boost.Random's ziggurat; usually two words).
    double normal() { return boost::random::normal_distribution<double>()(*this); }
    /// @return a standard normal variate in single precision: exactly
    /// boost::random::normal_distribution<float>()(*this) (Boost.Random's ziggurat with a 24-bit
    /// uniform and an 8-bit layer and sign: one word in about 97% of draws, the mean over the
    /// layers of x[i + 1] / x[i], more when the ziggurat rejects). The accepting first try is
    /// inline; the rest is Boost's own code.
    float normalf() {
        const std::uint32_t u = (*this)();
        // Boost's generate_int_float_pair<float, 8> of one 32-bit word, then the first try.
        const double* const table_x = boost::random::detail::normal_table<double>::table_x;
        const auto layer = static_cast<int>(u & 0xFFu);
        const int i = layer >> 1, sign = (layer & 1) * 2 - 1;
        const float x = static_cast<float>(u >> 8) * (1.0f / 16777216.0f) * static_cast<float>(table_x[i]);
        if (x < table_x[i + 1]) return x * static_cast<float>(sign) * 1.0f + 0.0f;
        return normalf_rejected(u);
    }
    /// @return a gamma variate with the given @p shape and @p scale (both > 0).
    double gamma(double shape, double scale) { return boost::random::gamma_distribution<double>(shape, scale)(*this); }
    /// @return an index in [0, n) (n > 0), uniform up to 2^-32 bias.
    std::uint32_t below(std::uint32_t n) {
        return static_cast<std::uint32_t>((static_cast<std::uint64_t>((*this)()) * n) >> 32);
    }

private:
    /// A normal whose first word @p u the ziggurat's first try rejected: Boost's distribution
    /// run again on @p u and then on the words that follow it, so it takes the same words and
    /// gives the same value as Boost from the start.
    [[gnu::noinline, gnu::cold]] float normalf_rejected(std::uint32_t u) {
        struct Replay {
            using result_type = std::uint32_t;
            static constexpr result_type min() { return 0; }
            static constexpr result_type max() { return ~result_type{0}; }
            result_type operator()() {
                if (first) {
                    first = false;
                    return u;
                }
                return (*rest)();
            }
            Draws* rest;
            std::uint32_t u;
            bool first = true;
        } replay{this, u};
        return boost::random::normal_distribution<float>()(replay);
    }
    // Out of line and cold: most draws use only block 0 (handed in by BlockStream), and an inlined
    // refill would be computed speculatively in every patient loop whether it is used or not.
    [[gnu::noinline, gnu::cold]] void refill() {
        Philox::ctr_type c = ctr_;
        c[3] = next_++;
        const auto r = Philox()(c, key_);
        words_ = {r[0], r[1], r[2], r[3]};
        left_ = 4;
    }
    Philox::ctr_type ctr_;
    Philox::key_type key_;
    Words words_{};
    unsigned left_ = 0;
    std::uint32_t next_ = 0;
};

/// The run's random source: a Philox key made of the seed and the replicate number.
class Rng {
public:
    /// @param seed      the scenario seed
    /// @param replicate the replicate number (0 for a single run)
    explicit Rng(std::uint32_t seed, std::uint32_t replicate = 0) : key_{{seed, replicate}} {}

    /// @return the draws for @p entity in stream @p s at @p step.
    /// @param entity a stable id (creation order, post number), never a memory slot or thread id
    [[nodiscard]] Draws draws(std::uint32_t entity, StreamId s, std::uint32_t step) const {
        return Draws(counter(entity, s, step), key_);
    }
    /// @return block 0 of (@p entity, @p s, @p step): the words draws() starts with.
    [[nodiscard]] Words block(std::uint32_t entity, StreamId s, std::uint32_t step) const {
        const auto r = Philox()(counter(entity, s, step), key_);
        return {r[0], r[1], r[2], r[3]};
    }
    /// @return one uniform in (0, 1] for (@p entity, @p s, @p step): the first word draws() gives.
    [[nodiscard]] double uniform(std::uint32_t entity, StreamId s, std::uint32_t step) const {
        return r123::u01<double>(block(entity, s, step)[3]);
    }
    /// Fills @p w0..w3 [k] with the words of block 0 of (@p first + k, @p s, @p step) for k in
    /// [0, @p n), in one vectorised pass (AVX-512 or AVX2 where the processor has them, chosen at
    /// run time; the integer results are the same on every path: detail::blocks_with).
    void blocks(std::uint32_t first, std::size_t n, StreamId s, std::uint32_t step, std::uint32_t* w0, std::uint32_t* w1,
                std::uint32_t* w2, std::uint32_t* w3) const;
    /// As blocks() for the entities @p entities[0, @p n) (any ids, in any order): for a rule that
    /// draws for a few entities of a block only (those at a meeting, say).
    void blocks_of(const std::uint32_t* entities, std::size_t n, StreamId s, std::uint32_t step, std::uint32_t* w0,
                   std::uint32_t* w1, std::uint32_t* w2, std::uint32_t* w3) const;

    [[nodiscard]] std::uint32_t seed() const { return key_[0]; }
    [[nodiscard]] std::uint32_t replicate() const { return key_[1]; }
    [[nodiscard]] const Philox::key_type& key() const { return key_; }
    [[nodiscard]] static Philox::ctr_type counter(std::uint32_t entity, StreamId s, std::uint32_t step) {
        return Philox::ctr_type{{entity, s.value, step, 0}};
    }

private:
    Philox::key_type key_;
};

/// The first try of Draws::normalf for each of @p n first words @p words: where @p accepted[k]
/// is 1, @p out[k] is exactly the normal Draws::normalf gives when its first word is words[k];
/// where it is 0 the ziggurat rejected that try and the draw takes more words (draw it again
/// with Draws::normalf). About 2.8% of words are rejected. For kernels that loop over a block's
/// columns; vectorised like Rng::blocks.
void normalf_first_try(const std::uint32_t* words, std::size_t n, float* out, std::uint8_t* accepted);

namespace detail {
/// Instruction sets the engine (Rng::blocks, normalf_first_try) and the model's kernels have
/// versions for. Every version gives the same bits: integer arithmetic, and floating-point
/// operations in the same order, without contraction (CMakeLists.txt).
enum class Isa { scalar, avx2, avx512 };
/// @return true if this processor runs @p isa's version
bool isa_supported(Isa isa);
/// The instruction set in use: the best this processor has, or the one the environment variable
/// THERASIM_ISA names (scalar, avx2 or avx512; a set the processor lacks falls back to the best
/// it has below it), so that tests can run every version. Read once.
Isa active_isa();
/// Makes active_isa return @p isa from now on (or the best this processor has below it), or
/// with std::nullopt what it returned before: for tests that run every version in one process.
/// Not to be called while a simulation runs.
void force_isa(std::optional<Isa> isa);
/// Rng::blocks with key @p key in @p isa's version (the scalar one if the processor lacks it):
/// for tests that check every version gives the same words.
void blocks_with(Isa isa, const Philox::key_type& key, std::uint32_t first, std::size_t n, StreamId s, std::uint32_t step,
                 std::uint32_t* w0, std::uint32_t* w1, std::uint32_t* w2, std::uint32_t* w3);
/// Rng::blocks_of in @p isa's version (as blocks_with).
void blocks_of_with(Isa isa, const Philox::key_type& key, const std::uint32_t* entities, std::size_t n, StreamId s,
                    std::uint32_t step, std::uint32_t* w0, std::uint32_t* w1, std::uint32_t* w2, std::uint32_t* w3);
/// normalf_first_try in @p isa's version (as blocks_with).
void normalf_first_try_with(Isa isa, const std::uint32_t* words, std::size_t n, float* out, std::uint8_t* accepted);
}  // namespace detail

/// Block 0 of one stream and step for a contiguous range of entities, computed in one
/// vectorised pass. Gives exactly the draws Rng::uniform() and Rng::draws() would.
class BlockStream {
public:
    /// Entities [@p first, @p first + @p n) of stream @p s at @p step; n <= CAPACITY.
    BlockStream(const Rng& rng, StreamId s, std::uint32_t step, std::size_t first, std::size_t n) { assign(rng, s, step, first, n); }
    /// Recomputes this for entities [@p first, @p first + @p n) of stream @p s at @p step, in place.
    void assign(const Rng& rng, StreamId s, std::uint32_t step, std::size_t first, std::size_t n) {
        key_ = rng.key();
        s_ = s;
        step_ = step;
        first_ = first;
        n_ = n;
        rng.blocks(static_cast<std::uint32_t>(first), n, s, step, w_[0].data(), w_[1].data(), w_[2].data(), w_[3].data());
    }
    /// Uniform in (0, 1] for entity @p e (same as Rng::uniform).
    [[nodiscard]] double uniform(std::size_t e) const { return r123::u01<double>(w_[3][e - first_]); }
    /// Uniform in (0, 1] from word @p n (0-3, in the order Draws gives them) of entity @p e's
    /// block 0: a stream whose words several purposes share, each at a fixed position.
    [[nodiscard]] double uniform(std::size_t e, unsigned n) const { return r123::u01<double>(w_[3 - n][e - first_]); }
    /// Draws for entity @p e (same as Rng::draws).
    [[nodiscard]] Draws draws(std::size_t e) const {
        return Draws(Rng::counter(static_cast<std::uint32_t>(e), s_, step_), key_, words(e));
    }
    /// Draws for entity @p e that start at word @p from (0-3) of block 0 and continue with
    /// blocks 1, 2, ...: the last purpose of a shared stream, which may take a variable number
    /// of words, after the purposes that take words 0 .. from - 1.
    [[nodiscard]] Draws draws(std::size_t e, unsigned from) const {
        return Draws(Rng::counter(static_cast<std::uint32_t>(e), s_, step_), key_, words(e), 4 - from);
    }
    /// Word @p j (0-3, as words()[j]) of every entity's block 0, entity @p e at index e - first:
    /// for kernels that loop over a block's columns.
    [[nodiscard]] const std::uint32_t* words_column(unsigned j) const { return w_[j].data(); }
    /// @return true if this holds block 0 of stream @p s at @p step for entities [@p first, @p first + @p n) of @p rng's key.
    [[nodiscard]] bool holds(const Rng& rng, StreamId s, std::uint32_t step, std::size_t first, std::size_t n) const {
        return s.value == s_.value && step == step_ && first == first_ && n == n_ && rng.key() == key_;
    }
    /// The raw block 0 words of entity @p e.
    [[nodiscard]] Words words(std::size_t e) const {
        const std::size_t k = e - first_;
        return {w_[0][k], w_[1][k], w_[2][k], w_[3][k]};
    }

    static constexpr std::size_t CAPACITY = 2048;

private:
    Philox::key_type key_;
    StreamId s_;
    std::uint32_t step_;
    std::size_t first_;
    std::size_t n_;
    std::array<std::array<std::uint32_t, CAPACITY>, 4> w_;  // word j of every entity's block 0
};

/// Block 0 of stream @p s at @p step for entities [@p first, @p first + @p n), kept for the
/// calling thread: the kernels of one block that share a stream's words (each purpose at its
/// own position) compute them once. A thread keeps two, so two streams can be shared across
/// the same kernels (the one asked for least recently is replaced). The words are those of BlockStream(rng, s, step, first, n)
/// whichever thread or order asks, so sharing never changes a result.
/// @warning the reference is valid until the same thread has asked for two other streams,
/// steps, blocks or keys
const BlockStream& shared_block_stream(const Rng& rng, StreamId s, std::uint32_t step, std::size_t first, std::size_t n);

}  // namespace sim
