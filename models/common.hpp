#pragma once
// Small numerical helpers shared by the model components.

#include "sim/rng.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

/// Before a column loop: its iterations are independent (its columns do not overlap), so the
/// compiler may vectorise it without checking. Only for GCC, which builds the native program;
/// clang (the fuzzing build, the WebAssembly explorer) checks for overlap itself, and would warn
/// about each loop it cannot vectorise.
#if defined(__clang__)
#define THERASIM_IVDEP
#elif defined(__GNUC__)
#define THERASIM_IVDEP _Pragma("GCC ivdep")
#else
#define THERASIM_IVDEP
#endif

namespace models {

/// Days in a year, for converting annual rates and horizons to steps.
inline constexpr double DAYS_PER_YEAR = 365.25;

/// std::clamp(@p v, @p lo, @p hi) for lo <= hi (signed zeros included), written as two selects of
/// values, which the compiler turns into vector min and max in a column loop.
template <class T>
[[gnu::always_inline]] inline T clamp(T v, T lo, T hi) {
    const T above = v < lo ? lo : v;
    return hi < above ? hi : above;
}
/// e^@p x from the four basic operations only (no FMA: the project compiles without contraction),
/// so it gives the same bits on every machine, in every instruction-set version of a kernel
/// and in WebAssembly, and it vectorises in a column loop. (The C library's exp is chosen at
/// run time: with FMA or without, on different machines.) Within 2 ulp of the exact value
/// (tests/models/test_common.cpp); 0 below -707 (e^x < 1e-307), +inf above log(DBL_MAX) (709.78),
/// NaN for NaN.
[[gnu::always_inline]] inline double portable_exp(double x) {
    // x = k ln 2 + r, |r| <= ln 2 / 2: k by rounding to nearest (adding and subtracting 1.5 x 2^52),
    // r in two parts (the high part of ln 2 has 11 trailing zero bits, so k x LN2_HI is exact).
    constexpr double LOG2E = 0x1.71547652b82fep0, LN2_HI = 0x1.62e42fefa3800p-1, LN2_LO = 0x1.ef35793c76730p-45;
    constexpr double SHIFT = 0x1.8p52, LOG_MAX = 0x1.62e42fefa39efp9;
    const double xc = clamp(x, -707.0, LOG_MAX);
    const double shifted = xc * LOG2E + SHIFT;
    const double kd = shifted - SHIFT;
    const double r = (xc - kd * LN2_HI) - kd * LN2_LO;
    // e^r by its Taylor series to r^13 (the first term left out is below 1e-17 relative).
    double q = 1.0 / 6227020800.0;
    q = q * r + 1.0 / 479001600.0;
    q = q * r + 1.0 / 39916800.0;
    q = q * r + 1.0 / 3628800.0;
    q = q * r + 1.0 / 362880.0;
    q = q * r + 1.0 / 40320.0;
    q = q * r + 1.0 / 5040.0;
    q = q * r + 1.0 / 720.0;
    q = q * r + 1.0 / 120.0;
    q = q * r + 1.0 / 24.0;
    q = q * r + 1.0 / 6.0;
    q = q * r + 0.5;
    q = q * r + 1.0;
    q = q * r + 1.0;
    // 2^k as 2^(k - 1) x 2, from exponent bits (k is in [-1020, 1024]; the product stays normal).
    std::int64_t k_bits;
    std::memcpy(&k_bits, &shifted, sizeof k_bits);
    std::int64_t shift_bits;
    std::memcpy(&shift_bits, &SHIFT, sizeof shift_bits);
    const std::uint64_t scale_bits = static_cast<std::uint64_t>(k_bits - shift_bits + 1022) << 52;
    double scale;
    std::memcpy(&scale, &scale_bits, sizeof scale);
    const double e = q * scale * 2.0;
    const double below = x < -707.0 ? 0.0 : e;
    const double above = x > LOG_MAX ? HUGE_VAL : below;
    return x != x ? x : above;
}
inline float clampf(double x, double lo, double hi) { return static_cast<float>(clamp(x, lo, hi)); }
inline double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }
/// Single-precision logistic for hot loops (results are deterministic; precision ~1e-7).
inline float logisticf(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline double logit(double p) { return std::log(p / (1.0 - p)); }

/// Hazard (per day) of an event with probability @p p within @p days.
inline double hazard_per_day(double p, double days) { return -std::log1p(-p) / days; }
/// Probability of at least one event in @p days at hazard @p h per day.
inline double prob_in(double h, double days) { return -std::expm1(-h * days); }
/// Probability per step of an event whose probability per year is @p p_year.
inline double per_step(double p_year, double step_days) {
    return prob_in(hazard_per_day(p_year, DAYS_PER_YEAR), step_days);
}
/// Fraction left after @p days of exponential decay with half-life @p half_life_days.
inline double decay(double days, double half_life_days) { return std::exp2(-days / half_life_days); }

/// Probability over @p weeks of an event with probability @p p_week per week.
inline double over_weeks(double p_week, double weeks) {
    return weeks == 1.0 ? p_week : 1.0 - std::pow(1.0 - p_week, weeks);
}

/// Whole steps in @p years (rounded).
inline int steps_in_years(double years, double step_days) {
    return static_cast<int>(std::lround(years * DAYS_PER_YEAR / step_days));
}

/// The model's named random streams: one per decision, so adding a rule never changes the
/// draws of the others, and two arms share every draw they do not change.
namespace streams {
inline constexpr sim::StreamId STRUCTURE = sim::stream("structure.allocation");
inline constexpr sim::StreamId PATIENT_TRAITS = sim::stream("patient.traits");
inline constexpr sim::StreamId FAMILY_TRAITS = sim::stream("family.traits");
inline constexpr sim::StreamId FAMILY_INTERVENTION = sim::stream("family.intervention");
inline constexpr sim::StreamId CLINICIAN_TRAITS = sim::stream("clinician.traits");
inline constexpr sim::StreamId CLINICIAN_TURNOVER = sim::stream("clinician.turnover");
inline constexpr sim::StreamId SKILLS_TRAINING = sim::stream("clinician.skills_training");
inline constexpr sim::StreamId SKILLS_RANDOMISATION = sim::stream("clinician.skills_randomisation");
inline constexpr sim::StreamId DYAD_PAIRING = sim::stream("dyad.pairing");
inline constexpr sim::StreamId RELATIONSHIP = sim::stream("dyad.relationship");
/// One block's words shared by four decisions of a patient's step, each at its own position
/// (STEP_*): every patient draws all four every step, so the positions never move and
/// scenarios that differ in an intervention still share them. The adherence noise comes last
/// because a normal may take more than one word.
inline constexpr sim::StreamId PATIENT_STEP = sim::stream("patient.step");
inline constexpr unsigned STEP_CONTACT = 0, STEP_ENGAGEMENT = 1, STEP_RELAPSE = 2, STEP_ADHERENCE = 3;
inline constexpr sim::StreamId ADMISSION = sim::stream("patient.admission");
/// New needs, needs met at routine meetings and the quality-of-life shock, then the actions
/// of a DIALOG session (a variable number, after the fixed ones).
inline constexpr sim::StreamId NEEDS = sim::stream("patient.needs");
/// The weekly noise of the eight life domains (12 bits each, in the first three words: QOL_DOMAIN_WORDS)
/// and then the symptoms' noise (a normal, which may take more words).
inline constexpr sim::StreamId QOL = sim::stream("patient.qol");
inline constexpr unsigned QOL_DOMAIN_WORDS = 3;
inline constexpr sim::StreamId DIALOG_WAVES = sim::stream("dialog.wave_order");
inline constexpr sim::StreamId DIALOG_UPTAKE = sim::stream("dialog.uptake");
inline constexpr sim::StreamId DIALOG_SESSION = sim::stream("dialog.session");
inline constexpr sim::StreamId DIALOG_ACTIONS = sim::stream("dialog.actions");
inline constexpr sim::StreamId DIALOG_RANDOMISATION = sim::stream("dialog.randomisation");
inline constexpr sim::StreamId TRIAL_ATTRITION = sim::stream("trial.attrition");
}  // namespace streams

}  // namespace models
