#include "sim/series.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sim {

void SeriesStore::init(const Schema& schema, std::size_t n_groups, std::size_t n_steps, std::size_t n_blocks) {
    n_groups_ = n_groups;
    n_series_ = schema.series().size();
    n_steps_ = n_steps;
    n_blocks_ = n_blocks;
    partials_.assign(n_blocks * width(), 0.0);
    sums_.assign((n_steps + 1) * width(), 0.0);
    national_.assign((n_steps + 1) * n_series_, 0.0);
}

void SeriesStore::commit(std::size_t step) {
    double* out = &sums_[step * width()];
    for (std::size_t b = 0; b < n_blocks_; ++b) {
        const double* in = &partials_[b * width()];
        for (std::size_t i = 0; i < width(); ++i) out[i] += in[i];
    }
    std::fill(partials_.begin(), partials_.end(), 0.0);
}

double SeriesStore::value(const Schema& schema, std::size_t step, std::size_t s, std::size_t g) const {
    const SeriesSpec& spec = schema.series()[s];
    auto total = [&](std::size_t k) {
        if (!schema.series()[k].grouped) return national(step, k);
        if (g != ALL) return sum(step, g, k);
        double t = 0.0;
        for (std::size_t i = 0; i < n_groups_; ++i) t += sum(step, i, k);
        return t;
    };
    const double num = total(s);
    if (spec.stat == Stat::sum) return num;
    const double den = total(static_cast<std::size_t>(schema.series_index(spec.denominator)));
    return den > 0.0 ? num / den : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace sim
