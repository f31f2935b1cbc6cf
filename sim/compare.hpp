#pragma once
/// @file compare.hpp
/// `therasim compare`: the yearly outcomes of one run, or what one or more interventions change
/// against a comparator, paired replicate by replicate, findings first.

#include <iosfwd>
#include <string>
#include <vector>

namespace sim {

/// Options of `therasim compare`.
struct CompareOptions {
    /// Results files. One: its yearly outcomes. Several: the interventions, then the comparator last.
    std::vector<std::string> files;
    bool unpaired = false;         ///< compare runs that cannot be paired, as unpaired means
    double discount_rate = 0.035;  ///< annual rate for costs and outcomes (NICE reference case)
    std::string csv;               ///< also write every figure shown as CSV here ("": no)
    bool overwrite = false;        ///< let --csv replace an existing file
    double population = 0;         ///< scale counts to this many patients (national totals); 0: the run's own
    std::string price_year_parameter;  ///< the model's parameter of the costs' price year (Schema), "" if none
};

/// NICE-style discount factor of year @p year (1 = the first year, not discounted):
/// 1 / (1 + rate)^(year - 1).
double discount_factor(double rate, std::size_t year);

/// Year (1..n_years) of each step of the time axis @p days (step 0, the baseline, gets 0) and
/// the number of years: a step belongs to the year its day falls in, and the run has as many
/// years as hold the middle of its last step (261 weekly steps end a day after 5 years: 5).
std::vector<std::size_t> year_of_steps(const std::vector<double>& days, std::size_t& n_years);

/// Prints the comparison. With several files, refuses (UsageError, exit 2) runs that cannot be
/// paired replicate by replicate: different seeds, numbers of replicates, populations, horizons
/// or step lengths, unless @c unpaired is set.
/// @throws UsageError, RunError if a file cannot be read or the CSV cannot be written
void print_comparison(std::ostream& out, const CompareOptions& options);

}  // namespace sim
