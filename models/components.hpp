#pragma once
// The model's rules. Each patient rule runs on one block of patients inside the fused care
// sweep; serial rules run over the whole population in a fixed order.

#include "models/context.hpp"

#include <stdexcept>
#include <string>

namespace models {

// ---- population.cpp ----
/// The sizes of the service structure: regions, trusts, teams, posts and patients per team.
struct Plan {
    std::vector<std::int32_t> trust_region;
    std::vector<std::int32_t> team_trust, team_region, team_clinicians, team_patients;
    long long n_clinicians = 0;
};
/// An impossible structure (e.g. caseloads above the limit), with the key to blame.
struct PlanError : std::runtime_error {
    PlanError(std::string k, const std::string& what) : std::runtime_error(what), key(std::move(k)) {}
    std::string key;
};
/// Sizes the structure from the parameters without allocating agents. @throws PlanError
Plan plan_structure(const Config& cfg);
/// Creates trusts, teams, clinicians, patients, families and their first dyads (step 0).
void create_population(sim::World& w, const Config& cfg);

// ---- workforce.cpp ----
/// Draws the traits of the holder of clinician @p post hired at @p step.
void draw_clinician(const Config& cfg, const sim::Rng& rng, ClinicianView& c, std::size_t post, std::uint32_t step);
/// Serial: turnover (a new hire takes over the post; its patients start new dyads) and skills training.
void workforce_step(Ctx& x, sim::World& w);
/// Serial, after the rollout and workforce: Ctx::post_arm and Ctx::post_trained from each post's
/// DIALOG training.
void refresh_post_arm(Ctx& x);

// ---- dialog.cpp ----
/// Orders trusts into training waves (at init, when DIALOG is enabled).
void schedule_rollout(Ctx& x, const sim::World& w);
/// With clinicians.skills_training.design cluster_randomised: randomises each post to training (arm 1) or control.
void schedule_skills_trial(Ctx& x, const sim::World& w);
/// Serial: training waves, training of new hires, fidelity drift, training and device costs.
void rollout_step(Ctx& x, sim::World& w);
/// Patient: DIALOG session planning and delivery at a meeting.
void dialog_sessions(Ctx& x, sim::World& w, const sim::Block& b);

// ---- relationship.cpp ----
/// Starts the dyad of patient @p i with its post's current holder (initial: existing before the run).
void start_dyad(Ctx& x, const sim::Rng& rng, std::size_t i, std::uint32_t step, bool initial);
/// Computes the STAR-P and STAR-C views of patient @p i's dyad from its latent state.
void update_views(Ctx& x, std::size_t i);
/// Computes every dyad's per-factor views (star_p_collaboration ... star_c_difficulties), which
/// the weekly kernels do not keep (Views): at step 0 and at the end, for the agents' states.
void refresh_view_factors(Ctx& x);
/// Patient: new dyads after turnover, relationship change at meetings, coercion scars, continuity.
void relationship_step(Ctx& x, sim::World& w, const sim::Block& b);

// ---- care.cpp ----
/// Patient: whether the patient meets their care coordinator this step.
void contact_step(Ctx& x, sim::World& w, const sim::Block& b);
/// Patient: disengagement below the relationship threshold and re-engagement by outreach.
void engagement_step(Ctx& x, sim::World& w, const sim::Block& b);
/// Patient: adherence moves towards a target set by the relationship, family support and setting.
void adherence_step(Ctx& x, sim::World& w, const sim::Block& b);
/// Adherence class score of patient @p i: above 0 favours adherence, below 0 intentional non-adherence.
float adherence_score(const Ctx& x, std::size_t i);
/// Moves patient @p i to the other adherence class if their score has crossed 0 by the hysteresis.
void update_adherence_class(Ctx& x, std::size_t i);
/// Adherence target of patient @p i in their current state (class, engagement, admission).
float adherence_target(const Ctx& x, std::size_t i);

// ---- illness.cpp ----
/// Patient: relapse, admission (voluntary or involuntary), length of stay, remission, symptoms.
void illness_step(Ctx& x, sim::World& w, const sim::Block& b);

// ---- wellbeing.cpp ----
/// Patient: unmet needs arising and met (routine care, DIALOG actions), life domains, satisfaction.
void wellbeing_step(Ctx& x, sim::World& w, const sim::Block& b);

// ---- family.cpp ----
/// Family: burden follows the patient's illness and feeds expressed emotion; family intervention.
void family_step(Ctx& x, sim::World& w, const sim::Block& b);

// ---- trial.cpp ----
/// The arm coefficient of an ANCOVA and its cluster-robust standard error.
struct Fit {
    double effect = NAN;  ///< coefficient of arm (outcome units)
    double se = NAN;      ///< CR1 cluster-robust standard error
    double df = NAN;      ///< degrees of freedom for intervals: clusters - 1
};
/// OLS of @p y on (1, @p arm, @p base) with the cluster-robust (CR1) variance of the arm
/// coefficient: (X'X)^-1 [sum over clusters of (X_g'e_g)(X_g'e_g)'] (X'X)^-1 x G/(G-1) x (N-1)/(N-3).
/// Returns NaNs when there are fewer than 8 rows or 3 clusters or X'X is singular.
Fit ancova(const std::vector<double>& y, const std::vector<double>& arm, const std::vector<double>& base,
           const std::vector<std::int32_t>& cluster);
/// Months after randomisation at which simulated trials report effects (trial_*_d_m<months>),
/// those within the horizon: DIALOG+ assessed at 3, 6 and 12 months, DIALOG at 12.
inline constexpr std::array<int, 4> ASSESSMENT_MONTHS = {3, 6, 12, 24};
/// Declares the end-of-replicate metrics of a simulated trial.
void declare_trial_metrics(sim::Schema& s);
/// Plans the assessments of a trial (after the burn-in): the steps of ASSESSMENT_MONTHS within the horizon.
void start_trial_assessments(Ctx& x, const sim::World& w);
/// Serial: records every patient's outcomes at an assessment step.
void trial_assessment_step(Ctx& x, sim::World& w);
/// Analyses the replicate as its trial was: per outcome, the baseline-adjusted difference between
/// arms (ANCOVA) standardised by the baseline SD, with a confidence interval and p-value from
/// clinician-clustered (CR1) standard errors, overall and in the problematic-baseline subgroup.
void analyse_trial(Ctx& x, sim::World& w);

// ---- outputs.cpp ----
/// Declares the time series and grouping dimensions.
void declare_outputs(sim::Schema& s);
/// Patient (observer): adds each patient's state and events to its group's tally.
void observe_patients(Ctx& x, sim::World& w, const sim::Block& b);
/// Adds the end-of-step engagement and adherence to the run sums (steps 1..n); finalize turns
/// them into share_engaged and mean_adherence.
void accumulate_run_means(Ctx& x, sim::World& w, const sim::Block& b);

// ---- small rules called from several kernels: defined here so that every kernel inlines them ----
// STAR totals: 6 collaboration, 3 input and 3 negative items (reversed), mean item score 0-4.

/// STAR total from collaboration (6 items), input (3) and a reversed negative factor (3).
inline float star_total(float collaboration, float input, float negative) {
    return (6.0f * collaboration + 3.0f * input + 3.0f * (4.0f - negative)) / 12.0f;
}

/// Which columns a view loop writes: the totals the rules and the weekly outputs read (STAR-P,
/// STAR-C, the latent total), or also each factor's view, which only the agents' baseline and
/// final states hold: the weekly kernels leave those to refresh_view_factors at step 0 and at the
/// end (the same values: every change of a dyad's state is followed by its views' update).
enum class Views { totals, with_factors };

/// Computes the STAR-P view (latent state and the patient's offset) of dyads [@p first, @p first + @p n),
/// a column loop (update_patient_view is one dyad of it).
template <Views which = Views::with_factors>
[[gnu::always_inline]] inline void patient_view_columns(Ctx& x, std::size_t first, std::size_t n) {
    auto& d = x.d;
    const float *collaboration = d.collaboration + first, *input = d.clinician_input + first, *non_support = d.non_support + first,
                *bias = d.bias_patient + first;
    float *latent = d.star_latent + first, *p_collaboration = d.star_p_collaboration + first, *p_input = d.star_p_input + first,
          *p_non_support = d.star_p_non_support + first, *star_p = d.star_p + first;
    THERASIM_IVDEP
    for (std::size_t j = 0; j < n; ++j) {
        latent[j] = star_total(collaboration[j], input[j], non_support[j]);
        const float bp = bias[j];
        const float pc = clamp(collaboration[j] + bp, 0.0f, 4.0f), pi = clamp(input[j] + 0.8f * bp, 0.0f, 4.0f),
                    pn = clamp(non_support[j] - 0.5f * bp, 0.0f, 4.0f);
        if constexpr (which == Views::with_factors) {
            p_collaboration[j] = pc;
            p_input[j] = pi;
            p_non_support[j] = pn;
        }
        star_p[j] = star_total(pc, pi, pn);
    }
}
inline void update_patient_view(Ctx& x, std::size_t i) { patient_view_columns(x, i, 1); }

/// Computes the STAR-C view (latent state, the clinician's offset and the patient's adherence) of
/// dyads [@p first, @p first + @p n), a column loop (update_clinician_view is one dyad of it).
template <Views which = Views::with_factors>
[[gnu::always_inline]] inline void clinician_view_columns(Ctx& x, std::size_t first, std::size_t n) {
    auto& d = x.d;
    const auto in_view = static_cast<float>(x.cfg.relationship.adherence_in_clinician_view);
    const auto mean = static_cast<float>(x.cfg.adherence.initial_mean);
    const float *bias = d.bias_clinician + first, *adherence = x.p.adherence + first;
    const float *collaboration = d.collaboration + first, *input = d.clinician_input + first, *difficulties = d.difficulties + first;
    float *c_collaboration = d.star_c_collaboration + first, *c_input = d.star_c_input + first,
          *c_difficulties = d.star_c_difficulties + first, *star_c = d.star_c + first;
    THERASIM_IVDEP
    for (std::size_t j = 0; j < n; ++j) {
        const float bc = bias[j];
        // Clinicians see cooperation: adherence colours their rating of collaboration.
        const float adh_view = in_view * (adherence[j] - mean);
        const float cc = clamp(collaboration[j] + bc + adh_view, 0.0f, 4.0f), ci = clamp(input[j] + bc, 0.0f, 4.0f),
                    cd = clamp(difficulties[j] - 0.5f * bc, 0.0f, 4.0f);
        if constexpr (which == Views::with_factors) {
            c_collaboration[j] = cc;
            c_input[j] = ci;
            c_difficulties[j] = cd;
        }
        star_c[j] = star_total(cc, ci, cd);
    }
}
inline void update_clinician_view(Ctx& x, std::size_t i) { clinician_view_columns(x, i, 1); }

// The rules below are written in single precision, as the agents' state is: a column loop then
// works on 16 lanes (AVX-512) or 8 (AVX2) with no conversions. A parameter (double) is rounded
// to float once, before the loop.

/// Adherence class score (above 0 favours adherence, below 0 intentional non-adherence) of the
/// adherence parameters @p a, the felt relationship, family support (0 without a family) and insight.
[[gnu::always_inline]] inline float adherence_score_of(const auto& a, float felt, float support, float insight) {
    return static_cast<float>(a.slope) * (felt - static_cast<float>(a.threshold)) + static_cast<float>(a.family_effect) * support + insight;
}
/// Adherence target of the adherence parameters @p a in a patient's state (admission, engagement, class).
[[gnu::always_inline]] inline float adherence_target_of(const auto& a, bool inpatient, bool engaged, bool intentional) {
    const auto in_class = static_cast<float>(intentional ? a.floor : a.ceiling);
    const float outside = engaged ? in_class : static_cast<float>(a.disengaged_level);
    return inpatient ? static_cast<float>(a.inpatient_level) : outside;
}

/// Satisfaction targets (medication, practical help, meetings) of the wellbeing parameters @p wb,
/// the relationship's reference and adherence's mean, for a felt relationship, adherence, unmet
/// needs and DIALOG boost, with the patient's own offsets.
[[gnu::always_inline]] inline std::array<float, 3> satisfaction_targets_of(const auto& wb, float reference, float adherence_mean, float felt,
                                                                          float adherence, float unmet, float boost, float own_medication,
                                                                          float own_help, float own_meetings) {
    const auto base = static_cast<float>(wb.sat_base), relationship = static_cast<float>(wb.sat_relationship);
    const float rel = felt - reference;
    return {base + own_medication + relationship * rel + static_cast<float>(wb.sat_adherence) * (adherence - adherence_mean),
            base + own_help + 0.5f * relationship * rel - static_cast<float>(wb.sat_needs) * (unmet - static_cast<float>(wb.mean_unmet_needs)),
            base + own_meetings + relationship * rel + static_cast<float>(wb.sat_dialog) * boost};
}

/// Satisfaction targets (medication, practical help, meetings) of patient @p i, with their own offsets.
inline std::array<float, 3> satisfaction_targets(const Ctx& x, std::size_t i) {
    const auto& own = x.p.sat_offset;
    return satisfaction_targets_of(x.cfg.wellbeing, static_cast<float>(x.cfg.mechanism.star_reference),
                                   static_cast<float>(x.cfg.adherence.initial_mean), x.felt(i), x.p.adherence[i],
                                   static_cast<float>(x.p.unmet_needs[i]), x.p.dialog_boost[i], own[0][i], own[1][i], own[2][i]);
}

}  // namespace models
