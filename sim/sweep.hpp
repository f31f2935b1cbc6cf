#pragma once
/// @file sweep.hpp
/// Global sensitivity designs: the scenario's `sweep:` block names parameters and their ranges
/// and a design; the engine runs every design point (each with all the scenario's replicates) as
/// one ensemble. Every point draws from the same keyed streams (seed, replicate), so points differ
/// only by their parameter values (common random numbers), which is what makes elementary effects
/// and Sobol estimates from a few hundred runs usable.
///
/// Designs (k parameters, `samples` = N):
///   saltelli         N (k + 2) points: for each base sample s the rows A_s, B_s and AB_s^i (A_s
///                    with coordinate i taken from B_s), A and B being the two halves of a
///                    2k-dimensional Sobol' sequence from its second point on (the first,
///                    (0.5, ..., 0.5), has A = B) (Saltelli et al. 2010). First-order and total
///                    Sobol' indices.
///   morris           N (k + 1) points: N trajectories on a grid of `levels` levels, each moving
///                    one parameter at a time by Delta = levels / (2 (levels - 1)) (Morris 1991,
///                    with random directions). Elementary effects: mu*, sigma.
///   latin_hypercube  N points, one in each of N equal strata of every parameter (McKay et al.
///                    1979). Regression and rank-correlation indices.
///   sobol            N points of the k-dimensional Sobol' sequence (quasi-random; starting at
///                    (0.5, ..., 0.5), after the all-zero point). Regression and rank-correlation indices.
///   psa              probabilistic sensitivity analysis (the scenario's `psa:` block): N draws of
///                    every uncertain parameter from its distribution, each run twice: point 2d
///                    is the intervention (role 0), point 2d + 1 the comparator (role 1: the
///                    scenario with the block's `comparator:` overrides) with the same values.
///                    Draw d of parameter p is keyed by (seed, d, p's name), so it does not change
///                    when other parameters are added or removed.
/// The design depends only on the block and the scenario seed, never on threads.

#include "sim/distribution.hpp"
#include "sim/errors.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sim {

/// One swept parameter: a real or integer parameter and its range.
struct SweepParameter {
    std::string path;
    double lower = 0.0, upper = 0.0;
    bool integer = false;  ///< values are rounded to the nearest integer
    Location where;        ///< the entry in the `sweep:` block
    Distribution dist;     ///< psa: the distribution drawn from (lower and upper are then its range's limits)
};

/// A scenario's `sweep:` block and, once make_design() ran, its design points.
struct Sweep {
    std::string design;  ///< saltelli, morris, latin_hypercube, sobol or psa
    std::size_t samples = 0;
    int levels = 0;      ///< morris grid levels (0 for the other designs)
    std::vector<SweepParameter> parameters;
    Location where;      ///< the `sweep:` key

    std::vector<double> unit;           ///< [point][parameter] coordinates in [0, 1]
    std::vector<std::int32_t> role;     ///< per point: see docs/output.md (/sweep/role)
    std::vector<std::int32_t> sample;   ///< per point: base sample, trajectory or point number

    [[nodiscard]] std::size_t k() const { return parameters.size(); }
    [[nodiscard]] std::size_t points() const { return points_for(design, samples, k()); }
    /// The value parameter @p i takes at @p point: lower + u (upper - lower) for a real; for an
    /// integer, each of the upper - lower + 1 values takes an equal share of u in [0, 1]. In a
    /// psa, the quantile u of its distribution, kept within [lower, upper] (its declared range).
    [[nodiscard]] double value(std::size_t point, std::size_t i) const;

    /// @return the number of points of a design of @p samples over @p k parameters.
    static std::size_t points_for(const std::string& design, std::size_t samples, std::size_t k);
};

/// The designs a `sweep:` block may name (a psa comes from the `psa:` block).
inline const std::vector<std::string> SWEEP_DESIGNS = {"saltelli", "morris", "latin_hypercube", "sobol"};
/// Largest number of runs (points x replicates) a sweep may ask for.
inline constexpr std::size_t MAX_SWEEP_RUNS = 100000;

/// Fills @p s.unit, role and sample. Deterministic in (block, @p seed).
void make_design(Sweep& s, std::uint32_t seed);

}  // namespace sim
