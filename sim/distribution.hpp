#pragma once
/// @file distribution.hpp
/// Uncertainty distributions of parameters for probabilistic sensitivity analysis (PSA), the
/// families health technology assessment uses (Briggs, Claxton & Sculpher 2006, ch. 4): beta for
/// probabilities and shares, gamma or lognormal for costs, rates and durations, normal for
/// effects that may take either sign, uniform where only a range is known, fixed for none.
/// Each is given by its mean and standard deviation (method of moments), or a uniform by its
/// ends, so that a published mean and 95% interval translate directly (sd = width / 3.92).

#include <string>

namespace sim {

struct Distribution {
    enum class Kind { none, fixed, beta, gamma, lognormal, normal, uniform };
    Kind kind = Kind::none;
    double a = 0.0;     ///< mean (uniform: lower end)
    double b = 0.0;     ///< standard deviation (uniform: upper end)
    bool guess = false; ///< a guess, not taken from a published interval

    static Distribution beta(double mean, double sd) { return {Kind::beta, mean, sd}; }
    static Distribution gamma(double mean, double sd) { return {Kind::gamma, mean, sd}; }
    static Distribution lognormal(double mean, double sd) { return {Kind::lognormal, mean, sd}; }
    static Distribution normal(double mean, double sd) { return {Kind::normal, mean, sd}; }
    static Distribution uniform(double lower, double upper) { return {Kind::uniform, lower, upper}; }
    static Distribution fixed() { return {Kind::fixed, 0.0, 0.0}; }
    /// Marks the distribution as a guess (wide, not from a published interval).
    Distribution as_guess() const { Distribution d = *this; d.guess = true; return d; }

    /// @return true if the distribution is drawn from (not none, not fixed).
    [[nodiscard]] bool drawn() const { return kind != Kind::none && kind != Kind::fixed; }
    [[nodiscard]] double mean() const { return kind == Kind::uniform ? (a + b) / 2 : a; }
    /// The same family with its mean moved to @p m and its sd scaled by m / mean (the same
    /// coefficient of variation); a uniform is shifted. Used when a scenario changes a
    /// parameter's value: its declared uncertainty follows the value.
    [[nodiscard]] Distribution centred_at(double m) const;
    /// @return "" if the distribution is valid, else what is wrong ("beta: expected 0 < mean < 1").
    [[nodiscard]] std::string problem() const;
    /// The quantile at @p u in (0, 1) (clamped to [1e-9, 1 - 1e-9]). @pre problem() is empty.
    [[nodiscard]] double quantile(double u) const;
    /// "gamma(mean 450, sd 135)", "uniform(0.1, 0.3)", "fixed".
    [[nodiscard]] std::string text() const;
};

/// "beta", "gamma", ... (the YAML keys).
const char* to_string(Distribution::Kind k);

}  // namespace sim
