#pragma once
// The run-time context shared by the model's rules: validated parameters, rates converted to
// the step length, typed views of every agent table, and lookups built at init.

#include "models/agents.hpp"
#include "models/common.hpp"
#include "models/parameters.hpp"

#include <algorithm>
#include <vector>

namespace models {

/// Bit flags of patient.events: what happened to a patient during the current step.
namespace event {
inline constexpr std::uint8_t RELAPSE = 1;
inline constexpr std::uint8_t ADMIT_VOLUNTARY = 2;
inline constexpr std::uint8_t ADMIT_INVOLUNTARY = 4;
inline constexpr std::uint8_t DISENGAGE = 8;
inline constexpr std::uint8_t REENGAGE = 16;
inline constexpr std::uint8_t DIALOG_PLANNED = 32;
inline constexpr std::uint8_t DISCHARGE = 64;
}  // namespace event

/// Rates and probabilities converted once from per-week or per-year parameters to one step.
struct StepRates {
    double weeks = 1;                 // weeks per step
    double relapse_h_on = 0, relapse_h_off = 0;  // per day
    double p_admit = 0, p_remit = 0, p_disengage_max = 0, p_reengage = 0, p_turnover = 0, p_new_need = 0;
    double r_symptoms = 0, r_adherence = 0, r_qol = 0, r_qol_shock = 0, sd_qol_shock = 0, r_sat = 0, r_burden = 0, r_ee = 0, r_drift = 0;
    double sd_symptoms = 0, sd_adherence = 0, sd_qol = 0;
    double scar_decay = 1, boost_decay = 1;
    double odds_involuntary = 0, los_scale_voluntary = 0;
    int after_discharge_steps = 0, dialog_interval_steps = 1, new_staff_delay_steps = 0;
    Paths paths{};  // weights of the mechanism's paths (Config::paths)
};

/// Converts a per-week relaxation rate to one step.
inline double rate_per_step(double r_week, double weeks) { return 1.0 - std::pow(1.0 - r_week, weeks); }

struct Ctx {
    Config cfg;
    StepRates k;
    PatientView p;
    DyadView d;
    ClinicianView c;
    FamilyView f;
    TeamView team;
    TrustView trust;
    std::vector<std::vector<std::int32_t>> trust_posts;  // clinician posts of each trust
    std::size_t n_regions = 0;
    std::vector<double> p_meet;           // chance per step that an engaged patient of a post has a meeting
    std::vector<std::int32_t> post_arm;   // 1 if a post gives DIALOG (trained, not ratings only): refresh_post_arm
    std::vector<std::int32_t> post_trained;  // 1 if a post's clinician is trained in DIALOG: refresh_post_arm
    std::vector<double> log_keep_need;    // log(1 - chance a need is met at a meeting), per team
    // Relapse hazard per step at no adherence and log(h_on / h_off), per family kind (0 none,
    // 1 low EE, 2 high EE): each kind's average one-year risk at full and at no adherence is
    // the input (relapse.p_year_on/off_medication), with high/low EE hazard ratio rel_high_ee.
    std::array<float, 3> relapse_h_off_step{}, relapse_log_ratio{};
    /// Per family kind, a bound above every patient's relapse probability in a step (at any
    /// adherence and diagnosis): a uniform at or above it decides "no relapse" without the
    /// hazard being computed, and exactly as the hazard would (illness_step).
    std::array<double, 3> relapse_p_bound{};

    /// Outcomes a simulated trial analyses (trial.cpp OUTCOMES): quality of life, satisfaction,
    /// unmet needs, symptoms, STAR-P, STAR-C.
    static constexpr std::size_t N_TRIAL_OUTCOMES = 6;
    /// A trial's assessment: outcomes of every patient recorded at one step (trial.cpp).
    struct Assessment {
        int months = 0;
        std::uint32_t step = 0;
        bool done = false;
        std::array<std::vector<float>, N_TRIAL_OUTCOMES> outcomes;  // in the order of trial.cpp OUTCOMES
    };
    std::vector<Assessment> assessments;

    Ctx(Config config, sim::World& w);
    /// The felt relationship of patient @p i's dyad, which drives behaviour (engagement,
    /// adherence, coercion, satisfaction): the latent STAR total plus a small causal share of
    /// the patient's own rating offset (relationship.perception_weight).
    [[nodiscard]] float felt(std::size_t i) const {
        return d.star_latent[i] + perception_weight * (d.star_p[i] - d.star_latent[i]);
    }
    float perception_weight = 0;
    /// felt() of patients [@p first, @p first + @p n) into @p out (a column loop).
    [[gnu::always_inline]] void felt_column(std::size_t first, std::size_t n, float* out) const {
        const float *latent = d.star_latent + first, *star_p = d.star_p + first;
        const float weight = perception_weight;
THERASIM_IVDEP
        for (std::size_t j = 0; j < n; ++j) out[j] = latent[j] + weight * (star_p[j] - latent[j]);
    }
    /// support() of patients [@p first, @p first + @p n) into @p out (a column loop).
    [[gnu::always_inline]] void support_column(std::size_t first, std::size_t n, float* out) const {
        if (f.n == 0) {
            std::fill_n(out, n, 0.0f);
            return;
        }
        const std::int32_t* family = p.family + first;
        const double loss = cfg.family.support_loss_burden;
        for (std::size_t j = 0; j < n; ++j) {
            const std::int32_t fam = family[j];
            const std::size_t row = fam < 0 ? 0 : static_cast<std::size_t>(fam);  // a valid row whether or not it is used
            const float s = f.support[row] * static_cast<float>(1.0 - loss * f.burden[row]);
            out[j] = fam < 0 ? 0.0f : s;
        }
    }
    /// The version of the patient kernels that runs (models/simd.hpp).
    sim::detail::Isa isa = sim::detail::active_isa();
    /// Effective family support of patient @p i (0 without a family).
    [[nodiscard]] float support(std::size_t i) const {
        const std::int32_t fam = p.family[i];
        if (fam < 0) return 0.0f;
        return f.support[fam] * static_cast<float>(1.0 - cfg.family.support_loss_burden * f.burden[fam]);
    }
    /// The response approach of clinician post @p post at a DIALOG session: DIALOG+ has its own
    /// (approach 3); plain DIALOG the post's (dialog.approach_mix).
    [[nodiscard]] std::size_t approach_of(std::size_t post) const { return dialog_plus ? 3 : c.approach[post]; }
    bool dialog_plus = false;  // dialog.variant is dialog_plus
    /// Output group of patient @p i: (arm, region, severity).
    [[nodiscard]] std::size_t group(std::size_t i) const {
        return (static_cast<std::size_t>(p.arm[i]) * n_regions + static_cast<std::size_t>(p.region[i])) * SEVERITY.size() +
               p.severity[i];
    }
};

/// Computes the step rates of @p cfg for steps of @p step_days.
StepRates make_rates(const Config& cfg, double step_days);

}  // namespace models
