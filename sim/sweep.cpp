#include "sim/sweep.hpp"

#include "sim/rng.hpp"

#include <boost/random/sobol.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace sim {

namespace {

/// @p n points of the @p dims-dimensional Sobol' sequence as doubles in (0, 1), after @p skip
/// points. Boost's generator starts after the all-zero point, at (0.5, ..., 0.5).
std::vector<double> sobol_points(std::size_t n, std::size_t dims, std::size_t skip) {
    boost::random::sobol gen(static_cast<unsigned>(dims));
    gen.discard(skip * dims);
    std::vector<double> out(n * dims);
    for (double& x : out) x = static_cast<double>(gen()) * 0x1p-64;
    return out;
}

/// Draws of the design, keyed by (seed, entity) in their own stream: the design never shares
/// numbers with the model's streams, and does not depend on the order points are made in.
Draws design_draws(std::uint32_t seed, const char* purpose, std::uint32_t entity) {
    return Rng(seed, 0).draws(entity, stream(purpose), 0);
}

void saltelli(Sweep& s) {
    const std::size_t k = s.k(), n = s.samples;
    // The point (0.5, ..., 0.5) is skipped: its halves A and B are equal, so it adds nothing.
    const std::vector<double> ab = sobol_points(n, 2 * k, 1);
    for (std::size_t j = 0; j < n; ++j) {
        const double* a = &ab[j * 2 * k];
        const double* b = a + k;
        auto row = [&](int role, const double* base, int from_b) {
            for (std::size_t i = 0; i < k; ++i) s.unit.push_back(static_cast<int>(i) == from_b ? b[i] : base[i]);
            s.role.push_back(role);
            s.sample.push_back(static_cast<std::int32_t>(j));
        };
        row(0, a, -1);
        row(1, b, -1);
        for (std::size_t i = 0; i < k; ++i) row(2 + static_cast<int>(i), a, static_cast<int>(i));
    }
}

void morris(Sweep& s, std::uint32_t seed) {
    const std::size_t k = s.k();
    const int p = s.levels;
    const double step = 1.0 / (p - 1), delta = p / (2.0 * (p - 1));
    const auto starts = static_cast<std::uint32_t>(p / 2);  // grid levels j / (p - 1) with j < p / 2 lie in [0, 1 - delta]
    for (std::size_t t = 0; t < s.samples; ++t) {
        Draws d = design_draws(seed, "sweep.morris", static_cast<std::uint32_t>(t));
        std::vector<double> x(k);
        std::vector<int> sign(k);
        for (std::size_t i = 0; i < k; ++i) {
            const double base = d.below(starts) * step;
            sign[i] = d.below(2) ? 1 : -1;
            x[i] = sign[i] > 0 ? base : base + delta;  // a downward move starts delta higher
        }
        std::vector<std::size_t> order(k);
        std::iota(order.begin(), order.end(), std::size_t{0});
        for (std::size_t i = k; i > 1; --i) std::swap(order[i - 1], order[d.below(static_cast<std::uint32_t>(i))]);
        auto emit = [&](int changed) {
            s.unit.insert(s.unit.end(), x.begin(), x.end());
            s.role.push_back(changed);
            s.sample.push_back(static_cast<std::int32_t>(t));
        };
        emit(-1);
        for (std::size_t m = 0; m < k; ++m) {
            const std::size_t i = order[m];
            x[i] = std::clamp(x[i] + sign[i] * delta, 0.0, 1.0);
            emit(static_cast<int>(i));
        }
    }
}

void latin_hypercube(Sweep& s, std::uint32_t seed) {
    const std::size_t k = s.k(), n = s.samples;
    s.unit.assign(n * k, 0.0);
    for (std::size_t i = 0; i < k; ++i) {
        Draws d = design_draws(seed, "sweep.latin_hypercube", static_cast<std::uint32_t>(i));
        std::vector<std::size_t> stratum(n);
        std::iota(stratum.begin(), stratum.end(), std::size_t{0});
        for (std::size_t j = n; j > 1; --j) std::swap(stratum[j - 1], stratum[d.below(static_cast<std::uint32_t>(j))]);
        for (std::size_t j = 0; j < n; ++j) {
            // uniform() is in (0, 1]: 1 - u in [0, 1) keeps the point inside its stratum.
            s.unit[j * k + i] = (static_cast<double>(stratum[j]) + (1.0 - d.uniform())) / static_cast<double>(n);
        }
    }
    for (std::size_t j = 0; j < n; ++j) {
        s.role.push_back(-1);
        s.sample.push_back(static_cast<std::int32_t>(j));
    }
}

void sobol(Sweep& s) {
    s.unit = sobol_points(s.samples, s.k(), 0);
    for (std::size_t j = 0; j < s.samples; ++j) {
        s.role.push_back(-1);
        s.sample.push_back(static_cast<std::int32_t>(j));
    }
}

/// Draw d of every parameter, keyed by (seed, d, the parameter's name); both points of a draw
/// (intervention and comparator) take the same values.
void psa(Sweep& s, std::uint32_t seed) {
    const std::size_t k = s.k();
    s.unit.assign(2 * s.samples * k, 0.0);
    for (std::size_t i = 0; i < k; ++i) {
        const std::string purpose = "psa." + s.parameters[i].path;
        for (std::size_t d = 0; d < s.samples; ++d) {
            Draws r = Rng(seed, 0).draws(static_cast<std::uint32_t>(d), stream(purpose), 0);
            const double u = 1.0 - r.uniform();  // in [0, 1)
            s.unit[(2 * d) * k + i] = s.unit[(2 * d + 1) * k + i] = u;
        }
    }
    for (std::size_t d = 0; d < s.samples; ++d)
        for (int arm = 0; arm < 2; ++arm) {
            s.role.push_back(arm);
            s.sample.push_back(static_cast<std::int32_t>(d));
        }
}

}  // namespace

std::size_t Sweep::points_for(const std::string& design, std::size_t samples, std::size_t k) {
    if (design == "saltelli") return samples * (k + 2);
    if (design == "morris") return samples * (k + 1);
    if (design == "psa") return 2 * samples;
    return samples;
}

double Sweep::value(std::size_t point, std::size_t i) const {
    const SweepParameter& p = parameters.at(i);
    const double u = unit.at(point * k() + i);
    if (design == "psa") {
        const double x = std::clamp(p.dist.quantile(u), p.lower, p.upper);
        return p.integer ? std::round(x) : x;
    }
    if (p.integer) {
        // The n = upper - lower + 1 integers each take an equal share of [0, 1].
        const double span = p.upper - p.lower;
        return p.lower + std::min(std::floor(u * (span + 1.0)), span);
    }
    return std::min(p.lower + u * (p.upper - p.lower), p.upper);
}

void make_design(Sweep& s, std::uint32_t seed) {
    s.unit.clear();
    s.role.clear();
    s.sample.clear();
    if (s.design == "saltelli") saltelli(s);
    else if (s.design == "morris") morris(s, seed);
    else if (s.design == "latin_hypercube") latin_hypercube(s, seed);
    else if (s.design == "sobol") sobol(s);
    else if (s.design == "psa") psa(s, seed);
    else throw std::logic_error("unknown sweep design " + s.design);
    if (s.role.size() != s.points() || s.unit.size() != s.points() * s.k()) throw std::logic_error("sweep design size");
}

}  // namespace sim
