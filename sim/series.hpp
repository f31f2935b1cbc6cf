#pragma once
/// @file series.hpp
/// Per-step time series, grouped by the model's dimensions, reduced deterministically:
/// each block of agents adds into its own slot, and slots are summed in block order.

#include "sim/schema.hpp"

#include <cstddef>
#include <vector>

namespace sim {

/// The running sums of one block of agents for one step: add(group, series, value).
class Tally {
public:
    Tally(double* row, std::size_t n_series) : row_(row), n_series_(n_series) {}
    /// Adds @p value to series @p s of group @p g.
    void add(std::size_t g, int s, double value) { row_[g * n_series_ + static_cast<std::size_t>(s)] += value; }

private:
    double* row_;
    std::size_t n_series_;
};

/// Time series storage: sums per (step, group, series), and national-only values per (step, series).
class SeriesStore {
public:
    /// @param n_steps number of steps; rows are kept for steps 0..n_steps
    void init(const Schema& schema, std::size_t n_groups, std::size_t n_steps, std::size_t n_blocks);

    /// @return the tally slot of block @p b for the current step.
    Tally tally(std::size_t b) { return Tally(&partials_[b * width()], n_series_); }
    /// Sets national-only series @p s at @p step (from serial phases).
    void set_national(std::size_t step, int s, double v) { national_[step * n_series_ + static_cast<std::size_t>(s)] = v; }
    /// Adds into national-only series @p s at @p step.
    void add_national(std::size_t step, int s, double v) { national_[step * n_series_ + static_cast<std::size_t>(s)] += v; }
    /// Sums the block slots in block order into row @p step and clears them.
    void commit(std::size_t step);

    /// Sum of series @p s in group @p g at @p step.
    [[nodiscard]] double sum(std::size_t step, std::size_t g, std::size_t s) const {
        return sums_[(step * n_groups_ + g) * n_series_ + s];
    }
    /// National value of national-only series @p s at @p step.
    [[nodiscard]] double national(std::size_t step, std::size_t s) const { return national_[step * n_series_ + s]; }
    /// The value of a series as reported: a sum, or for a mean series its sum over the
    /// denominator's sum, for group @p g (or every group if g == ALL). NaN for an empty group.
    [[nodiscard]] double value(const Schema& schema, std::size_t step, std::size_t s, std::size_t g) const;
    static constexpr std::size_t ALL = static_cast<std::size_t>(-1);

    [[nodiscard]] std::size_t n_steps() const { return n_steps_; }
    [[nodiscard]] std::size_t n_groups() const { return n_groups_; }
    [[nodiscard]] std::size_t n_series() const { return n_series_; }

private:
    [[nodiscard]] std::size_t width() const { return n_groups_ * n_series_; }
    std::size_t n_groups_ = 0, n_series_ = 0, n_steps_ = 0, n_blocks_ = 0;
    std::vector<double> partials_;  // [block][group][series]
    std::vector<double> sums_;      // [step][group][series]
    std::vector<double> national_;  // [step][series]
};

}  // namespace sim
