#pragma once
/// @file rng.hpp
/// Counter-based random streams. Every draw is keyed by (seed, replicate, entity, stream, step),
/// never by thread or memory slot, so results do not depend on the number of threads, and two
/// scenarios run with the same seed share every draw they do not change (common random numbers).

#include <limits>

// philox.h first: it defines the feature macros the other Random123 headers need.
#include <Random123/philox.h>

#include <Random123/MicroURNG.hpp>
#include <Random123/boxmuller.hpp>
#include <Random123/uniform.hpp>

#include <boost/random/gamma_distribution.hpp>
#include <boost/random/normal_distribution.hpp>

#include <array>
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

/// Draws of one (entity, stream, step). Uses Philox4x32-10; the first four 32-bit words come
/// from one block, more are produced on demand by Random123's MicroURNG, which Boost.Random
/// distributions take as their engine.
class Draws {
public:
    using Philox = r123::Philox4x32;
    using result_type = std::uint32_t;

    Draws(Philox::ctr_type ctr, Philox::ukey_type key) : urng_(ctr, key) {}

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type{0}; }
    /// Next raw 32-bit word (the UniformRandomBitGenerator interface).
    result_type operator()() { return urng_(); }

    /// @return a uniform double in (0, 1].
    double uniform() { return r123::u01<double>(urng_()); }
    /// @return true with probability @p p (p outside [0,1] behaves as clamped).
    bool bernoulli(double p) { return uniform() <= p; }
    /// @return a standard normal variate (Boost.Random's ziggurat).
    double normal() { return boost::random::normal_distribution<double>()(*this); }
    /// @return two standard normal floats from two words (Box-Muller, Random123).
    std::array<float, 2> normal2() {
        const auto f = r123::boxmuller(urng_(), urng_());
        return {f.x, f.y};
    }
    /// @return a gamma variate with the given @p shape and @p scale (both > 0).
    double gamma(double shape, double scale) { return boost::random::gamma_distribution<double>(shape, scale)(*this); }
    /// @return an index in [0, n) (n > 0), uniform up to 2^-32 bias.
    std::uint32_t below(std::uint32_t n) {
        return static_cast<std::uint32_t>((static_cast<std::uint64_t>(urng_()) * n) >> 32);
    }

private:
    r123::MicroURNG<Philox> urng_;
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
        return Draws(Draws::Philox::ctr_type{{entity, s.value, step, 0}}, key_);
    }
    /// @return one uniform in (0, 1] for (@p entity, @p s, @p step): one Philox block, no state.
    [[nodiscard]] double uniform(std::uint32_t entity, StreamId s, std::uint32_t step) const {
        const Draws::Philox::ctr_type ctr{{entity, s.value, step, 0}};
        return r123::u01<double>(Draws::Philox()(ctr, key_)[0]);
    }
    /// @return four uniforms in (0, 1] from one Philox block. A stream is read either with
    /// uniform()/uniform4() or with draws(), never both: they start from the same block.
    [[nodiscard]] std::array<float, 4> uniform4(std::uint32_t entity, StreamId s, std::uint32_t step) const {
        const Draws::Philox::ctr_type ctr{{entity, s.value, step, 0}};
        const auto r = Draws::Philox()(ctr, key_);
        return {r123::u01<float>(r[0]), r123::u01<float>(r[1]), r123::u01<float>(r[2]), r123::u01<float>(r[3])};
    }
    /// @return the raw 32-bit words of one Philox block (for callers that split words themselves).
    [[nodiscard]] std::array<std::uint32_t, 4> block(std::uint32_t entity, StreamId s, std::uint32_t step) const {
        const Draws::Philox::ctr_type ctr{{entity, s.value, step, 0}};
        const auto r = Draws::Philox()(ctr, key_);
        return {r[0], r[1], r[2], r[3]};
    }
    [[nodiscard]] std::uint32_t seed() const { return key_[0]; }
    [[nodiscard]] std::uint32_t replicate() const { return key_[1]; }

private:
    Draws::Philox::ukey_type key_;
};

}  // namespace sim
