#pragma once
// The model's agent types and typed views of their columns. Declarations (name, type,
// initial value, unit, meaning, output) are in agents.cpp; a view binds pointers by name
// once per run so kernels touch plain arrays.

#include "sim/model.hpp"

#include <array>
#include <cstdint>

namespace models {

/// The 8 DIALOG life domains, rated 1-7 (Priebe et al. 2007).
inline constexpr std::array<const char*, 8> LIFE_DOMAINS = {
    "mental_health", "physical_health", "job", "accommodation", "leisure", "friendships", "partner_family", "safety"};
inline constexpr std::size_t N_DOMAINS = LIFE_DOMAINS.size();

/// Diagnosis groups of patients on CPA.
inline constexpr std::array<const char*, 5> DIAGNOSES = {"schizophrenia_spectrum", "bipolar", "severe_depression",
                                                         "personality_disorder", "other"};
/// How a clinician responds to DIALOG ratings.
inline constexpr std::array<const char*, 4> APPROACHES = {"none", "client_centred", "cognitive_behavioural",
                                                          "solution_focused"};
/// Baseline severity subgroups (BPRS bands).
inline constexpr std::array<const char*, 3> SEVERITY = {"low", "moderate", "high"};

/// Declares the agent types patient, dyad, clinician, family, team and trust.
void declare_agents(sim::Schema& schema);

struct PatientView {
    std::size_t n = 0;
    std::int32_t *team, *region, *clinician, *family;
    float *age, *illness_years, *pref_partnership, *insight;
    std::uint8_t *male, *diagnosis, *negative_experiences, *severity, *intentional;
    std::int32_t* n_involuntary;
    float *symptoms_base, *symptoms, *days_to_discharge, *adherence;
    std::uint8_t *relapsed, *inpatient, *involuntary, *engaged, *contact, *dialog_session, *arm;
    std::int32_t *ti_discharged, *ti_dialog_due, *n_contacts, *n_dialog_sessions, *n_dialog_planned, *n_relapses,
        *n_admissions_voluntary, *n_admissions_involuntary, *n_disengagements, *n_dyads, *unmet_needs, *needs_met,
        *steps_engaged;
    std::array<float*, N_DOMAINS> qol_domain, qol_set;
    float *symptoms_start, *satisfaction_start;
    std::int32_t* unmet_needs_start;
    float *qol, *qol_start, *qol_shock, *sat_medication, *sat_practical_help, *sat_meetings, *satisfaction, *dialog_boost, *bed_days,
        *cost, *step_bed_days, *adherence_sum, *share_engaged, *mean_adherence;
    std::array<float*, 3> sat_offset;  // medication, practical help, meetings
    std::uint8_t* events;
    explicit PatientView(sim::AgentTable& t);
};

struct DyadView {
    std::int32_t *clinician, *clinician_hire, *ti_start;
    float *weeks_together, *chemistry, *bias_patient, *bias_clinician, *collaboration, *clinician_input, *non_support,
        *difficulties, *coercion_scar;
    float *star_p_collaboration, *star_p_input, *star_p_non_support, *star_c_collaboration, *star_c_input,
        *star_c_difficulties, *star_latent, *star_p, *star_c, *star_p_start, *star_c_start;
    explicit DyadView(sim::AgentTable& t);
};

struct ClinicianView {
    std::size_t n = 0;
    std::int32_t *team, *hire, *ti_hired, *caseload, *ti_trained, *ti_train_due;
    float *skill, *responsiveness, *style_partnership, *flexibility, *fidelity;
    std::uint8_t *approach, *dialog_trained, *supervised, *skills_trained, *dialog_ratings_only;
    std::int32_t* trial_arm;
    explicit ClinicianView(sim::AgentTable& t);
};

struct FamilyView {
    std::size_t n = 0;
    std::int32_t* patient;
    float *support, *ee, *ee_trait, *burden;
    std::uint8_t *high_ee, *intervention;
    explicit FamilyView(sim::AgentTable& t);
};

struct TeamView {
    std::size_t n = 0;
    std::int32_t *trust, *region, *n_clinicians, *n_patients, *first_patient, *first_clinician;
    float *contact_interval_weeks, *capacity, *need_rate, *coercion;
    explicit TeamView(sim::AgentTable& t);
};

struct TrustView {
    std::size_t n = 0;
    std::int32_t *region, *wave, *ti_dialog_start;
    explicit TrustView(sim::AgentTable& t);
};

}  // namespace models
