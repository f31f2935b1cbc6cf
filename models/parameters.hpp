#pragma once
// Every parameter of the behavioural model, declared once in parameters.cpp with its default,
// unit, range, meaning and source; the same declaration validates scenarios, fills this struct
// and generates docs/parameters.md.

#include "sim/params.hpp"
#include "sim/schema.hpp"

#include <array>
#include <string>
#include <vector>

namespace models {

/// Parameters of one region (a row of structure.regions).
struct Region {
    std::string name;
    double share = 0;      // share of CPA patients
    int n_trusts = 1;
    double coercion = 1;   // relative odds of involuntary admission
    double capacity = 1;   // relative capacity to act on needs
    double needs = 1;      // relative rate at which unmet needs arise (the centre's patients)
    double symptoms = 0;   // BPRS points added to the patients' stable symptom level
};

/// The weights of the paths by which the relationship and DIALOG act (docs/model.md).
struct Paths {
    double sessions;             ///< DIALOG sessions improve the discussed life domains (therapeutic meeting route)
    double moderation;           ///< the felt relationship scales what a session achieves (Goldsmith et al. 2015)
    double dialog_relationship;  ///< DIALOG's structured communication improves the relationship
    double direct;               ///< the relationship improves symptoms and quality of life directly
};

/// A hypothesis about the relationship's part in therapy, declared once: adding one is one
/// row here and a scenario (docs/extending.md). A blended row mixes the first two rows with
/// weight mechanism.direct_weight on the second.
struct Hypothesis {
    const char* name;
    const char* meaning;
    Paths paths;
    bool blend = false;
};
inline constexpr std::array<Hypothesis, 3> HYPOTHESES = {{
    {"basis",
     "the relationship is the basis of therapy: it acts through engagement and adherence and moderates what structured sessions achieve, with no effect of its own",
     {1.0, 1.0, 0.0, 0.0}},
    {"therapy_in_itself",
     "the relationship is therapy in itself: DIALOG improves the relationship, and the relationship improves symptoms and quality of life directly",
     {0.0, 0.0, 1.0, 1.0}},
    {"mixture", "both, with weight mechanism.direct_weight on therapy_in_itself", {0, 0, 0, 0}, true},
}};

struct Config {
    struct {
        long long n_patients;
        double age_mean, age_sd, p_male, illness_years_mean, p_negative_experiences, p_coercion_history, p_family;
        std::array<double, 5> diagnosis_mix;
        double eligibility_max_qol;
    } population;
    struct {
        std::vector<Region> regions;
        double team_size, caseload_mean, caseload_max;
        long long n_clinicians;
        double contact_interval_weeks, contact_interval_spread;
        bool match_preferences;
    } structure;
    struct {
        double base_mean, base_sd, cut_moderate, cut_high, relapse_increase, recovery_rate, noise_sd,
            nonadherence_increase;
    } symptoms;
    struct {
        double p_year_on_medication, p_year_off_medication, rel_high_ee, mean_duration_weeks, rel_remission_inpatient,
            prevalence_at_start;
        std::array<double, 5> rel_diagnosis;
    } relapse;
    struct {
        double p_per_week_in_relapse, rel_disengaged, share_involuntary, los_split_share, or_involuntary_disengaged,
            or_involuntary_history, or_involuntary_per_star, los_mean_days, los_shape, rel_los_involuntary,
            coercion_damage, scar_half_life_weeks;
    } admission;
    struct {
        double collaboration_base, input_base, non_support_base, difficulties_base, chemistry_sd, bias_patient_sd,
            bias_clinician_sd, continuity_gain, continuity_weeks, match_gain, skill_gain, responsiveness_gain,
            symptom_strain, dialog_gain, learning_rate, noise_sd, drift_without_contact, adherence_in_clinician_view,
            nonadherence_difficulties, initial_weeks_mean, perception_weight;
    } relationship;
    struct {
        double threshold, width, p_week_max, rel_young, rel_male, rel_after_discharge, after_discharge_weeks,
            family_protection, p_reengage_week, p_disengaged_at_start, rel_early,
            early_years;
    } engagement;
    struct {
        double threshold, slope, floor, ceiling, family_effect, rate, noise_sd, disengaged_level, inpatient_level,
            good_threshold, initial_mean, insight_sd, hysteresis, held_at;
    } adherence;
    struct {
        double mean_unmet_needs, p_need_week, rel_need_relapse, p_meet_per_contact, need_qol_effect, qol_per_unmet_need, qol_mean,
            qol_patient_sd, qol_domain_sd, qol_rate, qol_noise_sd, qol_shock_sd, qol_shock_rate, qol_symptom_effect,
            improved_threshold,
            sat_base, sat_item_sd, sat_relationship, sat_adherence, sat_needs, sat_dialog, sat_rate;
    } wellbeing;
    struct {
        double share_high_ee, high_ee_threshold, support_mean, burden_base, burden_symptoms, burden_inpatient,
            burden_relapse, burden_rate, ee_burden, ee_rate, support_loss_burden;
        bool intervention_enabled;
        double intervention_start_year, intervention_coverage, intervention_ee_reduction;
    } family;
    struct {
        double skill_mean, skill_sd, responsiveness_mean, responsiveness_sd, style_mean, style_sd, flexibility_mean,
            flexibility_sd, turnover_per_year, supervision_coverage;
        std::array<double, 3> approach_mix;  // none, client-centred, cognitive behavioural
        bool skills_training_enabled;
        std::string skills_training_design;  // all | cluster_randomised
        double skills_training_start_year, skills_training_coverage, skills_training_gain, skills_training_share_randomised,
            skills_training_star_gain;
    } clinicians;
    struct {
        bool enabled;
        std::string variant;  // dialog | dialog_plus
        std::string design;   // waves | cluster_randomised
        std::string control;  // usual_care | active
        double share_randomised, end_year;
        double interval_weeks_dialog, interval_weeks_plus;
        double start_year, duration_years;
        long long n_waves;
        double uptake, fidelity_initial, fidelity_sd, fidelity_half_life_years, supervision_drift, fidelity_floor,
            new_staff_delay_weeks, action_probability, boost_half_life_weeks, session_gain, spillover, alliance_moderation;
        long long domains_discussed;
        std::array<double, 4> approach_effect;
        double cost_training, cost_device, extra_minutes, cost_per_clinician_minute;
    } dialog;
    struct {
        std::string hypothesis;
        double direct_weight, star_reference, symptom_effect, qol_effect;
    } mechanism;
    struct {
        double bed_day, contact;
        long long price_year;
    } costs;
    struct {
        bool analyse;
        double attrition;
    } trial;

    /// The weights of the paths implied by the mechanism settings.
    [[nodiscard]] Paths paths() const;
    /// DIALOG session interval for the chosen variant.
    [[nodiscard]] double dialog_interval_weeks() const;
};

/// Declares every model parameter.
void declare_parameters(sim::Schema& schema);
/// Reads validated parameters into a Config.
Config load_config(const sim::Params& params);

}  // namespace models
