#include "models/agents.hpp"

#include <string>

namespace models {

using sim::ColumnType;
using sim::Output;
constexpr auto F32 = ColumnType::f32;
constexpr auto I32 = ColumnType::i32;
constexpr auto U8 = ColumnType::u8;
constexpr auto BASE = Output::baseline_and_final;
constexpr auto FINAL = Output::final_state;
constexpr auto NONE = Output::none;

namespace {
sim::AttributeSpec& ranged(sim::AttributeSpec& a, double lo, double hi) {
    a.min = lo;
    a.max = hi;
    return a;
}
sim::AttributeSpec& traced(sim::AttributeSpec& a) {
    a.traced = true;
    return a;
}
}  // namespace

void declare_agents(sim::Schema& s) {
    auto& p = s.agent("patient", "Patient on the Care Programme Approach");
    //                name                        type init  unit             meaning                                                     output
    p.add("team",                      I32, 0,   "",               "Community mental health team (row of team)",                 FINAL);
    p.add("region",                    I32, 0,   "",               "Region (index into structure.regions)",                      FINAL);
    p.add("clinician",                 I32, 0,   "",               "Care coordinator post (row of clinician)",                   FINAL);
    p.add("family",                    I32, -1,  "",               "Family (row of family), -1 if none",                         FINAL);
    ranged(p.add("age",                F32, 40,  "years",          "Age at the start of the run",                                FINAL), 16, 100);
    p.add("male",                      U8,  0,   "",               "1 if male",                                                  FINAL);
    ranged(p.add("diagnosis",          U8,  0,   "",               "Diagnosis group: 0 schizophrenia spectrum, 1 bipolar, 2 severe depression, 3 personality disorder, 4 other", FINAL), 0, 4);
    ranged(p.add("illness_years",      F32, 0,   "years",          "Duration of illness at the start",                           FINAL), 0, 90);
    p.add("negative_experiences",      U8,  0,   "",               "1 if negative past experiences of treatment",                FINAL);
    ranged(p.add("n_involuntary",      I32, 0,   "admissions",     "Involuntary admissions so far (coercion history)",           BASE), 0, 1e6);
    p.add("insight",                   F32, 0,   "logit",          "Insight and attitude to treatment: offset of the adherence target", FINAL);
    ranged(traced(p.add("intentional", U8, 0, "",               "1 while non-adherence is intentional (the adherence class)", BASE)), 0, 1);
    ranged(p.add("pref_partnership",   F32, 0.5, "0-1",            "Preference for partnership (1) vs paternalistic (0) decisions", FINAL), 0, 1);
    ranged(p.add("severity",           U8,  0,   "",               "Baseline severity subgroup: 0 low, 1 moderate, 2 high (BPRS bands)", FINAL), 0, 2);
    ranged(p.add("symptoms_base",      F32, 40,  "BPRS (18-126)",  "Symptom level when stable (trait)",                          FINAL), 18, 126);
    ranged(traced(p.add("symptoms",    F32, 40,  "BPRS (18-126)",  "Symptom severity",                                           BASE)), 18, 126);
    ranged(traced(p.add("relapsed",    U8,  0,   "",               "1 while in a relapse",                                       BASE)), 0, 1);
    ranged(traced(p.add("inpatient",   U8,  0,   "",               "1 while admitted",                                           BASE)), 0, 1);
    ranged(traced(p.add("involuntary", U8,  0,   "",               "1 if the current admission is involuntary",                  FINAL)), 0, 1);
    ranged(p.add("days_to_discharge",  F32, 0,   "days",           "Remaining length of stay",                                   NONE), -7, 1e5);
    p.add("ti_discharged",             I32, -100000, "step",       "Step of the last discharge",                                 NONE);
    ranged(traced(p.add("adherence",   F32, 0.6, "fraction",       "Fraction of prescribed treatment taken",                     BASE)), 0, 1);
    ranged(traced(p.add("engaged",     U8,  1,   "",               "1 if engaged with the service",                              BASE)), 0, 1);
    ranged(p.add("contact",            U8,  0,   "",               "1 if the patient met their care coordinator this step",      NONE), 0, 1);
    ranged(p.add("dialog_session",     U8,  0,   "",               "1 if a DIALOG session was delivered this step",              NONE), 0, 1);
    ranged(traced(p.add("arm",         U8,  0,   "",               "Exposure: 1 if the care coordinator is DIALOG-trained",      BASE)), 0, 1);
    p.add("ti_dialog_due",             I32, -1,  "step",           "Step at which the next DIALOG session is due (-1: none)",   NONE);
    ranged(p.add("n_contacts",         I32, 0,   "contacts",       "Meetings with the care coordinator during the run",          FINAL), 0, 1e6);
    ranged(traced(p.add("n_dialog_sessions", I32, 0, "sessions",   "DIALOG sessions delivered during the run",                   FINAL)), 0, 1e6);
    ranged(p.add("n_dialog_planned",   I32, 0,   "sessions",       "DIALOG sessions planned (due) during the run",               FINAL), 0, 1e6);
    ranged(p.add("n_relapses",         I32, 0,   "relapses",       "Relapses during the run",                                    FINAL), 0, 1e6);
    ranged(p.add("n_admissions_voluntary",   I32, 0, "admissions", "Voluntary admissions during the run",                        FINAL), 0, 1e6);
    ranged(p.add("n_admissions_involuntary", I32, 0, "admissions", "Involuntary admissions during the run",                      FINAL), 0, 1e6);
    ranged(p.add("n_disengagements",   I32, 0,   "events",         "Times the patient disengaged during the run",                FINAL), 0, 1e6);
    // Mediators over the whole run (for mediation analysis): running sums during the run,
    // divided by the number of steps at the end.
    ranged(p.add("steps_engaged",      I32, 0,   "steps",          "Steps (1..n) at whose end the patient was engaged",          NONE), 0, 1e7);
    ranged(p.add("adherence_sum",      F32, 0,   "fraction x steps", "Sum over steps 1..n of adherence",                        NONE), 0, 1e7);
    ranged(p.add("share_engaged",      F32, 0,   "fraction",       "Share of steps 1..n at whose end the patient was engaged",   FINAL), 0, 1);
    ranged(p.add("mean_adherence",     F32, 0,   "fraction",       "Mean adherence over steps 1..n",                             FINAL), 0, 1);
    ranged(p.add("n_dyads",            I32, 1,   "clinicians",     "Care coordinators the patient has had (including the first)", FINAL), 1, 1e6);
    ranged(traced(p.add("unmet_needs", I32, 0,   "needs (0-22)",   "Unmet needs (CAN-like count)",                               BASE)), 0, 22);
    ranged(p.add("needs_met",          I32, 0,   "needs",          "Needs met during the run",                                   FINAL), 0, 1e6);
    for (const char* d : LIFE_DOMAINS) {
        const std::string name(d);
        ranged(p.add("qol_" + name,     F32, 4,  "rating (1-7)",   "Satisfaction with life domain: " + name,                     BASE), 1, 7);
        ranged(p.add("qol_set_" + name, F32, 4,  "rating (1-7)",   "Current set point of life domain " + name + " (moved by needs arising and met)", NONE), 1, 7);
    }
    ranged(traced(p.add("qol",         F32, 4,   "rating (1-7)",   "Subjective quality of life: mean of the 8 life domains (MANSA-like)", BASE)), 1, 7);
    p.add("qol_shock",                 F32, 0,   "rating points",  "Current shared deviation of all life domains (life events, mood)", NONE);
    ranged(p.add("symptoms_start",     F32, 40,  "BPRS (18-126)",  "Symptoms at step 0",                                         NONE), 18, 126);
    ranged(p.add("satisfaction_start", F32, 4,   "rating (1-7)",   "Treatment satisfaction at step 0",                           NONE), 1, 7);
    ranged(p.add("unmet_needs_start",  I32, 0,   "needs",          "Unmet needs at step 0",                                      NONE), 0, 22);
    ranged(p.add("qol_start",          F32, 4,   "rating (1-7)",   "Quality of life at step 0",                                  NONE), 1, 7);
    ranged(p.add("sat_medication",     F32, 4,   "rating (1-7)",   "Satisfaction with medication",                               BASE), 1, 7);
    ranged(p.add("sat_practical_help", F32, 4,   "rating (1-7)",   "Satisfaction with practical help",                           BASE), 1, 7);
    ranged(p.add("sat_meetings",       F32, 4,   "rating (1-7)",   "Satisfaction with meetings with professionals",              BASE), 1, 7);
    p.add("sat_offset_medication",     F32, 0,   "rating points",  "The patient's own offset in rating satisfaction with medication", FINAL);
    p.add("sat_offset_practical_help", F32, 0,   "rating points",  "The patient's own offset in rating satisfaction with practical help", FINAL);
    p.add("sat_offset_meetings",       F32, 0,   "rating points",  "The patient's own offset in rating satisfaction with meetings", FINAL);
    ranged(traced(p.add("satisfaction",F32, 4,   "rating (1-7)",   "Treatment satisfaction: mean of the 3 treatment items",      BASE)), 1, 7);
    ranged(p.add("events",             U8,  0,   "",               "Events of this step (bit flags, see models/context.hpp)",    NONE), 0, 255);
    ranged(p.add("step_bed_days",      F32, 0,   "days",           "Inpatient days in this step",                                NONE), 0, 366);
    ranged(p.add("dialog_boost",       F32, 0,   "",               "Recent structured-communication dose (decays between sessions)", NONE), 0, 100);
    ranged(p.add("bed_days",           F32, 0,   "days",           "Inpatient days during the run",                              FINAL), 0, 1e6);
    ranged(p.add("cost",               F32, 0,   "GBP",            "Patient-attributable cost during the run (bed-days, contacts, DIALOG time)", FINAL), 0, 1e12);

    auto& d = s.agent("dyad", "Current patient-clinician relationship (row = patient)");
    d.add("clinician",                 I32, 0,   "",               "Care coordinator post of the dyad",                          FINAL);
    d.add("clinician_hire",            I32, 0,   "",               "Hire number of the post holder (a new holder starts a new dyad)", FINAL);
    d.add("ti_start",                  I32, 0,   "step",           "Step the dyad started (negative: before the run)",           FINAL);
    ranged(d.add("weeks_together",     F32, 0,   "weeks",          "Time the dyad has existed",                                  FINAL), 0, 1e5);
    d.add("chemistry",                 F32, 0,   "STAR points",    "Dyad 'chemistry': fixed offset of collaboration drawn at pairing", FINAL);
    d.add("bias_patient",              F32, 0,   "STAR points",    "Patient's view-specific offset in rating this relationship", FINAL);
    d.add("bias_clinician",            F32, 0,   "STAR points",    "Clinician's view-specific offset in rating this relationship", FINAL);
    ranged(d.add("collaboration",      F32, 3,   "0-4",            "Shared positive collaboration (latent)",                     FINAL), 0, 4);
    ranged(d.add("clinician_input",    F32, 3,   "0-4",            "Shared positive clinician input (latent)",                   FINAL), 0, 4);
    ranged(d.add("non_support",        F32, 1,   "0-4",            "Shared non-supportive clinician input (latent)",             FINAL), 0, 4);
    ranged(d.add("difficulties",       F32, 1,   "0-4",            "Shared emotional difficulties (latent)",                     FINAL), 0, 4);
    ranged(d.add("coercion_scar",      F32, 0,   "STAR points",    "Damage from coercive events, fading with time",              FINAL), 0, 4);
    ranged(d.add("star_p_collaboration", F32, 3, "0-4",            "STAR-P positive collaboration (mean item score)",            BASE), 0, 4);
    ranged(d.add("star_p_input",       F32, 3,   "0-4",            "STAR-P positive clinician input",                            BASE), 0, 4);
    ranged(d.add("star_p_non_support", F32, 1,   "0-4",            "STAR-P non-supportive clinician input",                      BASE), 0, 4);
    ranged(d.add("star_c_collaboration", F32, 3, "0-4",            "STAR-C positive collaboration",                              BASE), 0, 4);
    ranged(d.add("star_c_input",       F32, 3,   "0-4",            "STAR-C positive clinician input",                            BASE), 0, 4);
    ranged(d.add("star_c_difficulties",F32, 1,   "0-4",            "STAR-C emotional difficulties",                              BASE), 0, 4);
    ranged(traced(d.add("star_latent", F32, 3,   "0-4",            "The relationship as both share it: STAR total of the latent factors, without either view's offset", BASE)), 0, 4);
    ranged(traced(d.add("star_p",      F32, 3,   "0-4",            "STAR-P total (mean of 12 items, negative items reversed)",   BASE)), 0, 4);
    ranged(traced(d.add("star_c",      F32, 3,   "0-4",            "STAR-C total (mean of 12 items, negative items reversed)",   BASE)), 0, 4);
    ranged(d.add("star_p_start",       F32, 3,   "0-4",            "STAR-P total at step 0 (the baseline of a trial)",          NONE), 0, 4);
    ranged(d.add("star_c_start",       F32, 3,   "0-4",            "STAR-C total at step 0 (the baseline of a trial)",          NONE), 0, 4);

    auto& c = s.agent("clinician", "Care coordinator post (a new hire takes over the post and its caseload)");
    c.add("team",                      I32, 0,   "",               "Team (row of team)",                                         FINAL);
    ranged(c.add("hire",               I32, 0,   "",               "Hire number: 0 for the holder at the start, +1 per turnover", FINAL), 0, 1e6);
    c.add("ti_hired",                  I32, 0,   "step",           "Step the current holder was hired (<= 0: before the run)",   FINAL);
    ranged(c.add("caseload",           I32, 0,   "patients",       "Patients allocated to the post",                             FINAL), 0, 1e6);
    ranged(c.add("skill",              F32, 0.5, "0-1",            "Communication skill",                                        FINAL), 0, 1);
    ranged(c.add("responsiveness",     F32, 0.5, "0-1",            "Responsiveness to the patient's own concerns",               FINAL), 0, 1);
    ranged(c.add("style_partnership",  F32, 0.5, "0-1",            "Decision style: 1 partnership, 0 paternalistic",             FINAL), 0, 1);
    ranged(c.add("flexibility",        F32, 0.4, "0-1",            "Flexibility to adapt the style to the patient's preference", FINAL), 0, 1);
    ranged(c.add("approach",           U8,  0,   "",               "Response to DIALOG ratings: 0 none, 1 client-centred, 2 cognitive behavioural, 3 solution-focused", FINAL), 0, 3);
    ranged(c.add("dialog_trained",     U8,  0,   "",               "1 if trained in and using DIALOG",                           FINAL), 0, 1);
    c.add("ti_trained",                I32, -1,  "step",           "Step of DIALOG training (-1: never)",                        FINAL);
    c.add("ti_train_due",              I32, -1,  "step",           "Step at which a new hire in a rolled-out trust is trained (-1: none)", NONE);
    ranged(c.add("fidelity",           F32, 0,   "probability",    "Probability that a planned DIALOG session is delivered",     FINAL), 0, 1);
    c.add("trial_arm",                 I32, -1,  "",               "Randomised arm of the post: 1 DIALOG, 0 control, -1 not randomised", FINAL);
    ranged(c.add("dialog_ratings_only",U8,  0,   "",               "1 if the post's patients only rate the DIALOG scale (active control)", FINAL), 0, 1);
    ranged(c.add("supervised",         U8,  0,   "",               "1 if the clinician receives regular supervision",            FINAL), 0, 1);
    ranged(c.add("skills_trained",     U8,  0,   "",               "1 if the clinician had communication-skills training",       FINAL), 0, 1);

    auto& f = s.agent("family", "Family or carers of a patient");
    f.add("patient",                   I32, 0,   "",               "Patient (row of patient)",                                   FINAL);
    ranged(f.add("support",            F32, 0.5, "0-1",            "Support for engagement and adherence",                       BASE), 0, 1);
    ranged(f.add("ee",                 F32, 0.4, "0-1",            "Expressed emotion (criticism, hostility, over-involvement)", BASE), 0, 1);
    ranged(f.add("ee_trait",           F32, 0.4, "0-1",            "Expressed emotion the family tends to when burden is typical", FINAL), 0, 1);
    ranged(f.add("burden",             F32, 0.3, "0-1",            "Carer burden",                                               BASE), 0, 1);
    ranged(f.add("high_ee",            U8,  0,   "",               "1 if expressed emotion is high (ee at or above family.high_ee_threshold)", BASE), 0, 1);
    ranged(f.add("intervention",       U8,  0,   "",               "1 if the family received a family intervention",             FINAL), 0, 1);

    auto& t = s.agent("team", "Community mental health team");
    t.add("trust",                     I32, 0,   "",               "Provider trust (row of trust)",                              FINAL);
    t.add("region",                    I32, 0,   "",               "Region (index into structure.regions)",                      FINAL);
    t.add("n_clinicians",              I32, 0,   "clinicians",     "Care coordinator posts",                                     FINAL);
    t.add("n_patients",                I32, 0,   "patients",       "Patients on CPA",                                            FINAL);
    t.add("first_patient",             I32, 0,   "",               "Row of the team's first patient (patients are stored by team)", NONE);
    t.add("first_clinician",           I32, 0,   "",               "Row of the team's first clinician post",                     NONE);
    t.add("contact_interval_weeks",    F32, 2,   "weeks",          "Usual interval between meetings (team norm)",                FINAL);
    t.add("capacity",                  F32, 1,   "relative",       "Capacity to act on identified needs",                        FINAL);
    t.add("need_rate",                 F32, 1,   "relative",       "Rate at which its patients' unmet needs arise",              FINAL);
    t.add("coercion",                  F32, 1,   "relative odds",  "Use of involuntary admission relative to average",           FINAL);

    auto& r = s.agent("trust", "Provider trust (the unit of the DIALOG rollout)");
    r.add("region",                    I32, 0,   "",               "Region (index into structure.regions)",                      FINAL);
    r.add("wave",                      I32, -1,  "",               "DIALOG training wave (-1: not rolled out)",                  FINAL);
    r.add("ti_dialog_start",           I32, -1,  "step",           "Step DIALOG training starts (-1: never)",                    FINAL);
}

PatientView::PatientView(sim::AgentTable& t) : n(t.size()) {
    team = t.column<std::int32_t>("team");
    region = t.column<std::int32_t>("region");
    clinician = t.column<std::int32_t>("clinician");
    family = t.column<std::int32_t>("family");
    age = t.column<float>("age");
    male = t.column<std::uint8_t>("male");
    diagnosis = t.column<std::uint8_t>("diagnosis");
    illness_years = t.column<float>("illness_years");
    negative_experiences = t.column<std::uint8_t>("negative_experiences");
    n_involuntary = t.column<std::int32_t>("n_involuntary");
    pref_partnership = t.column<float>("pref_partnership");
    insight = t.column<float>("insight");
    intentional = t.column<std::uint8_t>("intentional");
    severity = t.column<std::uint8_t>("severity");
    symptoms_base = t.column<float>("symptoms_base");
    symptoms = t.column<float>("symptoms");
    relapsed = t.column<std::uint8_t>("relapsed");
    inpatient = t.column<std::uint8_t>("inpatient");
    involuntary = t.column<std::uint8_t>("involuntary");
    days_to_discharge = t.column<float>("days_to_discharge");
    ti_discharged = t.column<std::int32_t>("ti_discharged");
    adherence = t.column<float>("adherence");
    engaged = t.column<std::uint8_t>("engaged");
    contact = t.column<std::uint8_t>("contact");
    dialog_session = t.column<std::uint8_t>("dialog_session");
    arm = t.column<std::uint8_t>("arm");
    ti_dialog_due = t.column<std::int32_t>("ti_dialog_due");
    n_contacts = t.column<std::int32_t>("n_contacts");
    n_dialog_sessions = t.column<std::int32_t>("n_dialog_sessions");
    n_dialog_planned = t.column<std::int32_t>("n_dialog_planned");
    n_relapses = t.column<std::int32_t>("n_relapses");
    n_admissions_voluntary = t.column<std::int32_t>("n_admissions_voluntary");
    n_admissions_involuntary = t.column<std::int32_t>("n_admissions_involuntary");
    n_disengagements = t.column<std::int32_t>("n_disengagements");
    n_dyads = t.column<std::int32_t>("n_dyads");
    steps_engaged = t.column<std::int32_t>("steps_engaged");
    adherence_sum = t.column<float>("adherence_sum");
    share_engaged = t.column<float>("share_engaged");
    mean_adherence = t.column<float>("mean_adherence");
    unmet_needs = t.column<std::int32_t>("unmet_needs");
    needs_met = t.column<std::int32_t>("needs_met");
    for (std::size_t k = 0; k < N_DOMAINS; ++k) {
        qol_domain[k] = t.column<float>(std::string("qol_") + LIFE_DOMAINS[k]);
        qol_set[k] = t.column<float>(std::string("qol_set_") + LIFE_DOMAINS[k]);
    }
    qol = t.column<float>("qol");
    qol_start = t.column<float>("qol_start");
    symptoms_start = t.column<float>("symptoms_start");
    satisfaction_start = t.column<float>("satisfaction_start");
    unmet_needs_start = t.column<std::int32_t>("unmet_needs_start");
    qol_shock = t.column<float>("qol_shock");
    sat_medication = t.column<float>("sat_medication");
    sat_practical_help = t.column<float>("sat_practical_help");
    sat_meetings = t.column<float>("sat_meetings");
    satisfaction = t.column<float>("satisfaction");
    sat_offset = {t.column<float>("sat_offset_medication"), t.column<float>("sat_offset_practical_help"),
                  t.column<float>("sat_offset_meetings")};
    dialog_boost = t.column<float>("dialog_boost");
    events = t.column<std::uint8_t>("events");
    step_bed_days = t.column<float>("step_bed_days");
    bed_days = t.column<float>("bed_days");
    cost = t.column<float>("cost");
}

DyadView::DyadView(sim::AgentTable& t) {
    clinician = t.column<std::int32_t>("clinician");
    clinician_hire = t.column<std::int32_t>("clinician_hire");
    ti_start = t.column<std::int32_t>("ti_start");
    weeks_together = t.column<float>("weeks_together");
    chemistry = t.column<float>("chemistry");
    bias_patient = t.column<float>("bias_patient");
    bias_clinician = t.column<float>("bias_clinician");
    collaboration = t.column<float>("collaboration");
    clinician_input = t.column<float>("clinician_input");
    non_support = t.column<float>("non_support");
    difficulties = t.column<float>("difficulties");
    coercion_scar = t.column<float>("coercion_scar");
    star_p_collaboration = t.column<float>("star_p_collaboration");
    star_p_input = t.column<float>("star_p_input");
    star_p_non_support = t.column<float>("star_p_non_support");
    star_c_collaboration = t.column<float>("star_c_collaboration");
    star_c_input = t.column<float>("star_c_input");
    star_c_difficulties = t.column<float>("star_c_difficulties");
    star_latent = t.column<float>("star_latent");
    star_p = t.column<float>("star_p");
    star_c = t.column<float>("star_c");
    star_p_start = t.column<float>("star_p_start");
    star_c_start = t.column<float>("star_c_start");
}

ClinicianView::ClinicianView(sim::AgentTable& t) : n(t.size()) {
    team = t.column<std::int32_t>("team");
    hire = t.column<std::int32_t>("hire");
    ti_hired = t.column<std::int32_t>("ti_hired");
    caseload = t.column<std::int32_t>("caseload");
    ti_trained = t.column<std::int32_t>("ti_trained");
    ti_train_due = t.column<std::int32_t>("ti_train_due");
    skill = t.column<float>("skill");
    responsiveness = t.column<float>("responsiveness");
    style_partnership = t.column<float>("style_partnership");
    flexibility = t.column<float>("flexibility");
    fidelity = t.column<float>("fidelity");
    approach = t.column<std::uint8_t>("approach");
    dialog_trained = t.column<std::uint8_t>("dialog_trained");
    supervised = t.column<std::uint8_t>("supervised");
    skills_trained = t.column<std::uint8_t>("skills_trained");
    trial_arm = t.column<std::int32_t>("trial_arm");
    dialog_ratings_only = t.column<std::uint8_t>("dialog_ratings_only");
}

FamilyView::FamilyView(sim::AgentTable& t) : n(t.size()) {
    patient = t.column<std::int32_t>("patient");
    support = t.column<float>("support");
    ee = t.column<float>("ee");
    ee_trait = t.column<float>("ee_trait");
    burden = t.column<float>("burden");
    high_ee = t.column<std::uint8_t>("high_ee");
    intervention = t.column<std::uint8_t>("intervention");
}

TeamView::TeamView(sim::AgentTable& t) : n(t.size()) {
    trust = t.column<std::int32_t>("trust");
    region = t.column<std::int32_t>("region");
    n_clinicians = t.column<std::int32_t>("n_clinicians");
    n_patients = t.column<std::int32_t>("n_patients");
    first_patient = t.column<std::int32_t>("first_patient");
    first_clinician = t.column<std::int32_t>("first_clinician");
    contact_interval_weeks = t.column<float>("contact_interval_weeks");
    capacity = t.column<float>("capacity");
    need_rate = t.column<float>("need_rate");
    coercion = t.column<float>("coercion");
}

TrustView::TrustView(sim::AgentTable& t) : n(t.size()) {
    region = t.column<std::int32_t>("region");
    wave = t.column<std::int32_t>("wave");
    ti_dialog_start = t.column<std::int32_t>("ti_dialog_start");
}

}  // namespace models
