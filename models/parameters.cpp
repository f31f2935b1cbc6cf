#include "models/parameters.hpp"

#include "models/agents.hpp"

#include <stdexcept>
#include <string>

namespace models {

namespace {

// Visiting the parameter list with a Declarer declares each parameter; visiting it with a
// Loader copies validated values into a Config. Each parameter is written exactly once.
struct Declarer {
    sim::Schema& s;
    sim::ParamSpec& real(double&, const std::string& path, double def) { return s.param(path).real(def); }
    sim::ParamSpec& integer(long long&, const std::string& path, long long def) { return s.param(path).integer(def); }
    sim::ParamSpec& boolean(bool&, const std::string& path, bool def) { return s.param(path).boolean(def); }
    sim::ParamSpec& choice(std::string&, const std::string& path, const std::string& def, std::vector<std::string> c) {
        return s.param(path).choice(def, std::move(c));
    }
    sim::ParamSpec& table(std::vector<sim::Row>&, const std::string& path, std::vector<sim::ParamSpec> f,
                          const std::string& def) {
        return s.param(path).table(std::move(f), def);
    }
};

struct Loader {
    const sim::Params& p;
    sim::ParamSpec sink;  // absorbs the builder calls
    sim::ParamSpec& real(double& f, const std::string& path, double) { f = p.real(path); return sink; }
    sim::ParamSpec& integer(long long& f, const std::string& path, long long) { f = p.integer(path); return sink; }
    sim::ParamSpec& boolean(bool& f, const std::string& path, bool) { f = p.boolean(path); return sink; }
    sim::ParamSpec& choice(std::string& f, const std::string& path, const std::string&, std::vector<std::string>) {
        f = p.str(path);
        return sink;
    }
    sim::ParamSpec& table(std::vector<sim::Row>& f, const std::string& path, std::vector<sim::ParamSpec>,
                          const std::string&) {
        f = p.table(path);
        return sink;
    }
};

sim::ParamSpec field(const std::string& name) {
    sim::ParamSpec f;
    f.path = name;
    return f;
}

constexpr const char* GUESS = "guess";
/// Uncertainty distributions for probabilistic sensitivity analysis (docs/model.md, PSA).
using U = sim::Distribution;
constexpr const char* FIT_DIALOG_2007 =
    "fitted to the DIALOG trial's effects on quality of life, satisfaction and unmet needs (Priebe et al. 2007) by tools/calibrate.sh; see docs/validation.md";
constexpr const char* SEED = "Priebe & McCabe (2008) Int Rev Psychiatry (seed paper)";
constexpr const char* LEUCHT_2012 = "Leucht et al. (2012) Lancet 379:2063-2071";
constexpr const char* NHS_BENCH = "NHS Benchmarking 2018/19, via Centre for Mental Health (2019)";
constexpr const char* DIALOG_2007 = "Priebe et al. (2007) Br J Psychiatry 191:420-426";
constexpr const char* DIALOG_PLUS = "Priebe et al. (2015) Psychother Psychosom 84:304-313";
constexpr const char* MCCABE_2012 = "calibrated towards McCabe et al. (2012) PLoS ONE 7(4):e36080 (rs = 0.13); guess";
constexpr const char* SLADE_2005 = "Slade et al. (2005) Br J Psychiatry 187:256-261 (MANSA -0.23, -0.29 to -0.17, per patient-rated unmet need)";
constexpr const char* GOLDSMITH_2015 = "direction from Goldsmith et al. (2015) Psychol Med 45:2365-2373 (sessions help with a good alliance, harm with a poor one); size guess";
constexpr const char* TEMPO =
    "fitted to TEMPO's STAR changes after communication training (McCabe et al. 2016 Br J Psychiatry 209:517-524: +0.21 patient-rated, +0.20 clinician-rated, mean item score) with scenarios/trials/tempo_2016.yaml; see docs/validation.md";
constexpr const char* BPRS_BANDS = "Leucht et al. (2005) Br J Psychiatry 187:366-371 (BPRS 41 ~ 'moderately ill', 53 ~ 'markedly ill')";

const char* const DEFAULT_REGIONS = R"([
  {name: North East and Yorkshire, share: 0.15, n_trusts: 9,  coercion: 1.0, capacity: 1.0},
  {name: North West,               share: 0.13, n_trusts: 7,  coercion: 1.0, capacity: 1.0},
  {name: Midlands,                 share: 0.19, n_trusts: 10, coercion: 1.0, capacity: 1.0},
  {name: East of England,          share: 0.11, n_trusts: 6,  coercion: 1.0, capacity: 1.0},
  {name: London,                   share: 0.16, n_trusts: 9,  coercion: 1.0, capacity: 1.0},
  {name: South East,               share: 0.16, n_trusts: 8,  coercion: 1.0, capacity: 1.0},
  {name: South West,               share: 0.10, n_trusts: 6,  coercion: 1.0, capacity: 1.0}])";

std::vector<sim::ParamSpec> region_fields() {
    std::vector<sim::ParamSpec> f;
    f.push_back(field("name"));
    f.back().type = sim::ParamType::text;
    f.back().means("Region name");
    f.push_back(field("share"));
    f.back().real(0).range(0, 1).means("Share of the country's CPA patients").cite("approximate population shares of NHS England regions; guess for CPA shares");
    f.back().default_yaml.clear();
    f.push_back(field("n_trusts"));
    f.back().integer(1).range(1, 1000).means("Mental health provider trusts in the region").cite(GUESS);
    f.back().default_yaml.clear();
    f.push_back(field("coercion"));
    f.back().real(1).above(0, 100).with_unit("relative odds").means("Odds of an admission being involuntary, relative to average").cite(GUESS);
    f.push_back(field("capacity"));
    f.back().real(1).above(0, 10).with_unit("relative").means("Capacity to act on identified needs, relative to average").cite(GUESS);
    f.push_back(field("needs"));
    f.back().real(1).above(0, 10).with_unit("relative").means("Rate at which its patients' unmet needs arise, relative to average (patients with more needs)").cite(GUESS);
    f.push_back(field("symptoms"));
    f.back().real(0).range(-40, 40).with_unit("BPRS points").means("Added to its patients' stable symptom level (patients with more symptoms)").cite(GUESS);
    return f;
}

template <class V> void visit(V& v, Config& c) {
    auto& po = c.population;
    v.integer(po.n_patients, "population.n_patients", 300000).range(1, 20000000).with_unit("patients")
        .means("Patients on the Care Programme Approach").cite(SEED);
    v.real(po.age_mean, "population.age_mean", 44).range(18, 90).with_unit("years").means("Mean age").cite(GUESS);
    v.real(po.age_sd, "population.age_sd", 13).range(0, 40).with_unit("years").means("Standard deviation of age (truncated to 18-90)").cite(GUESS);
    v.real(po.p_male, "population.p_male", 0.55).range(0, 1).with_unit("probability").means("Share of men").cite(GUESS);
    const char* dx_labels[5] = {"Share with schizophrenia-spectrum diagnoses", "Share with bipolar disorder",
                                "Share with severe depression", "Share with personality disorder", "Share with other diagnoses"};
    const double dx_default[5] = {0.50, 0.15, 0.15, 0.10, 0.10};
    for (std::size_t k = 0; k < 5; ++k)
        v.real(po.diagnosis_mix[k], std::string("population.diagnosis.") + DIAGNOSES[k], dx_default[k]).range(0, 1)
            .with_unit("share").means(dx_labels[k] + std::string(" (the five shares sum to 1)")).cite(GUESS);
    v.real(po.illness_years_mean, "population.illness_years_mean", 12).range(0, 60).with_unit("years").means("Mean duration of illness at the start").cite(GUESS);
    v.real(po.p_negative_experiences, "population.p_negative_experiences", 0.4).range(0, 1).with_unit("probability")
        .means("Share with negative past treatment experiences").cite(GUESS);
    v.real(po.p_coercion_history, "population.p_coercion_history", 0.35).range(0, 1).with_unit("probability")
        .means("Share with a past involuntary admission").cite(GUESS);
    v.real(po.eligibility_max_qol, "population.eligibility.max_qol", 7).above(1, 7).with_unit("rating (1-7)")
        .means("Only patients whose starting quality of life is below this are included (7: everyone); e.g. 5 for DIALOG+'s mean MANSA < 5")
        .cite(DIALOG_PLUS);
    v.real(po.p_family, "population.p_family", 0.6).range(0, 1).with_unit("probability").means("Share with an involved family or carer").cite(GUESS);

    auto& st = c.structure;
    std::vector<sim::Row> region_rows;  // converted to Region records below
    v.table(region_rows, "structure.regions", region_fields(), DEFAULT_REGIONS)
        .means("Regions: name, share of patients, number of trusts, relative coercion and capacity, the patients' relative rate of needs and added symptoms");
    v.real(st.team_size, "structure.team_size", 10).range(1, 100).with_unit("care coordinators").means("Care coordinators per community team").cite(GUESS);
    v.real(st.caseload_mean, "structure.caseload_mean", 35).range(1, 200).with_unit("patients")
        .means("Mean caseload per care coordinator (sets the number of posts unless structure.n_clinicians is set)")
        .cite("typical CMHT caseload, range 25-40 (targets file; unverified)");
    v.real(st.caseload_max, "structure.caseload_max", 40).range(1, 500).with_unit("patients").means("Largest caseload a post may be given")
        .cite("upper end of typical caseloads (targets file; unverified)");
    v.integer(st.n_clinicians, "structure.n_clinicians", 0).range(0, 10000000).with_unit("posts")
        .means("Care coordinator posts; 0 derives it from the caseload mean").cite(GUESS);
    v.real(st.contact_interval_weeks, "structure.contact_interval_weeks", 2).range(0.5, 52).with_unit("weeks")
        .means("Usual interval between care coordinator meetings (team norm, mean over teams)").cite(GUESS);
    v.real(st.contact_interval_spread, "structure.contact_interval_spread", 0.25).range(0, 1).with_unit("relative SD")
        .means("Variation of the meeting interval between teams").cite(GUESS);
    v.boolean(st.match_preferences, "structure.match_preferences", false)
        .means("Allocate patients to the care coordinator whose decision style best matches their preference");

    auto& sy = c.symptoms;
    v.real(sy.base_mean, "symptoms.base_mean", 40).range(18, 126).with_unit("BPRS").means("Mean symptom level when stable").cite(GUESS);
    v.real(sy.base_sd, "symptoms.base_sd", 10).range(0, 50).with_unit("BPRS").means("Between-patient SD of the stable symptom level").cite(GUESS);
    v.real(sy.cut_moderate, "symptoms.cut_moderate", 41).range(18, 126).with_unit("BPRS").means("Baseline BPRS from which a patient is in the 'moderate' subgroup").cite(BPRS_BANDS);
    v.real(sy.cut_high, "symptoms.cut_high", 53).range(18, 126).with_unit("BPRS").means("Baseline BPRS from which a patient is in the 'high' subgroup").cite(BPRS_BANDS);
    v.real(sy.relapse_increase, "symptoms.relapse_increase", 20).range(0, 100).with_unit("BPRS").means("Rise of the symptom target during a relapse").cite(GUESS);
    v.real(sy.recovery_rate, "symptoms.recovery_rate", 0.25).above(0, 1).with_unit("1/week").means("Share of the gap to the symptom target closed per week").cite(GUESS);
    v.real(sy.noise_sd, "symptoms.noise_sd", 1.5).range(0, 20).with_unit("BPRS/week").means("Week-to-week symptom fluctuation").cite(GUESS);
    v.real(sy.nonadherence_increase, "symptoms.nonadherence_increase", 4).range(0, 50).with_unit("BPRS")
        .means("Extra symptoms when no treatment is taken (scaled by 1 - adherence)").cite(GUESS);

    auto& re = c.relapse;
    v.real(re.p_year_on_medication, "relapse.p_year_on_medication", 0.27).uncertain(U::beta(0.27, 0.027)).range(0, 1).with_unit("probability/year")
        .means("One-year relapse risk when fully adherent").cite(LEUCHT_2012);
    v.real(re.p_year_off_medication, "relapse.p_year_off_medication", 0.64).uncertain(U::beta(0.64, 0.04).as_guess()).range(0, 1).with_unit("probability/year")
        .means("One-year relapse risk when taking no treatment").cite(LEUCHT_2012);
    v.real(re.rel_high_ee, "relapse.rel_high_ee", 2.94).range(0, 100).with_unit("hazard ratio")
        .means("Relapse hazard ratio in a high expressed-emotion family")
        .cite("derived from 0.50 vs 0.21 relapse over 9-12 months, Butzlaff & Hooley (1998) Arch Gen Psychiatry 55:547-552 (unverified): ln(0.50)/ln(0.79)");
    v.real(re.mean_duration_weeks, "relapse.mean_duration_weeks", 10).above(0, 520).with_unit("weeks").means("Mean duration of a relapse in the community at average adherence").cite(GUESS);
    v.real(re.prevalence_at_start, "relapse.prevalence_at_start", 0.06).range(0, 1).with_unit("share")
        .means("Share of patients in a relapse at the start (a third of them admitted)").cite(GUESS);
    for (std::size_t k = 0; k < 5; ++k)
        v.real(re.rel_diagnosis[k], std::string("relapse.rel_diagnosis.") + DIAGNOSES[k], 1.0).range(0, 100).with_unit("hazard ratio")
            .means(std::string("Relapse hazard of the ") + DIAGNOSES[k] + " group relative to the literature figures (which are for schizophrenia)")
            .cite(GUESS);
    v.real(re.rel_remission_inpatient, "relapse.rel_remission_inpatient", 2).range(0, 100).with_unit("rate ratio").means("Faster remission while admitted").cite(GUESS);

    auto& ad = c.admission;
    v.real(ad.p_per_week_in_relapse, "admission.p_per_week_in_relapse", 0.06).uncertain(U::beta(0.06, 0.02).as_guess()).range(0, 1).with_unit("probability/week")
        .means("Weekly probability of admission during a relapse").cite(GUESS);
    v.real(ad.rel_disengaged, "admission.rel_disengaged", 1.5).range(0, 100).with_unit("relative risk").means("Admission risk of a disengaged patient in relapse").cite(GUESS);
    v.real(ad.share_involuntary, "admission.share_involuntary", 0.30).uncertain(U::beta(0.30, 0.05).as_guess()).range(0, 1).with_unit("probability")
        .means("Chance an admission is under the Mental Health Act for an engaged patient without past coercion at the reference relationship (the default gives an overall share near 0.40)")
        .cite("guess, aiming at the overall share of 0.40 in " + std::string(NHS_BENCH));
    v.real(ad.or_involuntary_disengaged, "admission.or_involuntary_disengaged", 2).above(0, 100).with_unit("odds ratio").means("Odds of involuntary admission if disengaged").cite(GUESS);
    v.real(ad.or_involuntary_history, "admission.or_involuntary_history", 2).above(0, 100).with_unit("odds ratio").means("Odds of involuntary admission after a past one").cite(GUESS);
    v.real(ad.or_involuntary_per_star, "admission.or_involuntary_per_star", 0.7).uncertain(U::lognormal(0.7, 0.15).as_guess()).above(0, 100).with_unit("odds ratio per STAR point")
        .means("Odds of involuntary admission per point of the felt relationship above mechanism.star_reference").cite(GUESS);
    v.real(ad.los_mean_days, "admission.los_mean_days", 33).uncertain(U::gamma(33, 5).as_guess()).above(0, 3650).with_unit("days").means("Mean length of stay of acute admissions").cite(NHS_BENCH);
    v.real(ad.los_split_share, "admission.los_split_share", 0.40).range(0, 1).with_unit("share")
        .means("Share of involuntary admissions used to split admission.los_mean_days between voluntary and involuntary stays (the realised share of the default model)")
        .cite(NHS_BENCH);
    v.real(ad.los_shape, "admission.los_shape", 1.5).above(0, 100).means("Gamma shape of the length of stay (1: exponential)").cite(GUESS);
    v.real(ad.rel_los_involuntary, "admission.rel_los_involuntary", 1.5).above(0, 20).with_unit("ratio")
        .means("Length of stay of involuntary relative to voluntary admissions (the overall mean is admission.los_mean_days when the involuntary share is admission.los_split_share)").cite(GUESS);
    v.real(ad.coercion_damage, "admission.coercion_damage", 0.5).range(0, 4).with_unit("STAR points").means("Damage to the relationship from an involuntary admission").cite(GUESS);
    v.real(ad.scar_half_life_weeks, "admission.scar_half_life_weeks", 26).above(0, 5200).with_unit("weeks").means("Half-life of coercion damage").cite(GUESS);

    auto& rl = c.relationship;
    v.real(rl.collaboration_base, "relationship.collaboration_base", 2.9).range(0, 4).with_unit("0-4").means("Positive collaboration of an average dyad").cite(GUESS);
    v.real(rl.input_base, "relationship.input_base", 2.7).range(0, 4).with_unit("0-4").means("Positive clinician input of an average dyad").cite(GUESS);
    v.real(rl.non_support_base, "relationship.non_support_base", 0.9).range(0, 4).with_unit("0-4").means("Non-supportive clinician input of an average dyad").cite(GUESS);
    v.real(rl.difficulties_base, "relationship.difficulties_base", 0.9).range(0, 4).with_unit("0-4").means("Emotional difficulties (clinician view) of an average dyad").cite(GUESS);
    v.real(rl.chemistry_sd, "relationship.chemistry_sd", 0.35).range(0, 4).with_unit("STAR points").means("SD of dyad chemistry drawn at pairing").cite(GUESS);
    v.real(rl.bias_patient_sd, "relationship.bias_patient_sd", 0.8).range(0, 4).with_unit("STAR points").means("SD of the patient's view-specific rating offset").cite(MCCABE_2012);
    v.real(rl.bias_clinician_sd, "relationship.bias_clinician_sd", 0.7).range(0, 4).with_unit("STAR points").means("SD of the clinician's view-specific rating offset").cite(MCCABE_2012);
    v.real(rl.continuity_gain, "relationship.continuity_gain", 0.3).range(-4, 4).with_unit("STAR points").means("Collaboration gained with time together (at saturation)").cite(GUESS);
    v.real(rl.continuity_weeks, "relationship.continuity_weeks", 26).above(0, 5200).with_unit("weeks").means("Time constant of the continuity gain").cite(GUESS);
    v.real(rl.match_gain, "relationship.match_gain", 0.3).range(-4, 4).with_unit("STAR points").means("Collaboration gained from a perfect vs an average style match").cite(GUESS);
    v.real(rl.skill_gain, "relationship.skill_gain", 0.6).range(-4, 4).with_unit("STAR points per unit skill").means("Effect of communication skill on clinician input").cite(GUESS);
    v.real(rl.responsiveness_gain, "relationship.responsiveness_gain", 0.4).range(-4, 4).with_unit("STAR points per unit").means("Effect of responsiveness on clinician input").cite(GUESS);
    v.real(rl.symptom_strain, "relationship.symptom_strain", 0.3).range(0, 4).with_unit("STAR points per 20 BPRS")
        .means("Strain on collaboration from symptoms above 40 BPRS (halved by full responsiveness)").cite(GUESS);
    v.real(rl.dialog_gain, "relationship.dialog_gain", 0.25).uncertain(U::gamma(0.25, 0.1).as_guess()).range(0, 4).with_unit("STAR points per unit dose")
        .means("Effect of structured communication (DIALOG dose) on clinician input and collaboration").cite(GUESS);
    v.real(rl.learning_rate, "relationship.learning_rate", 0.2).above(0, 1).with_unit("1/contact").means("Share of the gap to the relationship's target closed per meeting").cite(GUESS);
    v.real(rl.noise_sd, "relationship.noise_sd", 0.05).range(0, 2).with_unit("STAR points").means("Meeting-to-meeting fluctuation").cite(GUESS);
    v.real(rl.drift_without_contact, "relationship.drift_without_contact", 0.01).range(0, 1).with_unit("1/week")
        .means("Weekly loss of continuity-built collaboration while the patient is disengaged").cite(GUESS);
    v.real(rl.adherence_in_clinician_view, "relationship.adherence_in_clinician_view", 0.4).range(-4, 4).with_unit("STAR points per unit adherence")
        .means("How much a patient's adherence colours the clinician's rating of collaboration").cite(GUESS);
    v.real(rl.nonadherence_difficulties, "relationship.nonadherence_difficulties", 0.5).range(-4, 4).with_unit("STAR points")
        .means("Emotional difficulties (clinician view) from a fully non-adherent patient").cite(GUESS);
    v.real(rl.perception_weight, "relationship.perception_weight", 0.25).range(0, 1).with_unit("weight")
        .means("Causal share of the patient's own rating offset in the felt relationship that drives engagement, adherence, coercion and satisfaction (0: the shared latent relationship only; 1: the patient's STAR-P view)")
        .cite("guess: the offset is mostly measurement (McCabe et al. 2012: STAR-P predicts adherence weakly, OR 1.21)");
    v.real(rl.initial_weeks_mean, "relationship.initial_weeks_mean", 104).range(0, 5200).with_unit("weeks")
        .means("Mean age of the dyads existing at the start (exponential)").cite(GUESS);

    auto& en = c.engagement;
    v.real(en.threshold, "engagement.threshold", 2.2).range(0, 4).with_unit("felt STAR (0-4)").means("Relationship below which disengagement becomes likely").cite(SEED);
    v.real(en.width, "engagement.width", 0.25).above(0, 4).with_unit("STAR points").means("Softness of the engagement threshold").cite(GUESS);
    v.real(en.p_week_max, "engagement.p_week_max", 0.03).range(0, 1).with_unit("probability/week").means("Weekly disengagement risk far below the threshold").cite(GUESS);
    v.real(en.rel_young, "engagement.rel_young", 1.5).range(0, 100).with_unit("relative risk").means("Disengagement risk under 30 years of age")
        .cite("direction from Kreyenbuhl et al. (2009) Schizophr Bull 35:696-703; size guess");
    v.real(en.rel_male, "engagement.rel_male", 1.2).range(0, 100).with_unit("relative risk").means("Disengagement risk of men")
        .cite("direction from O'Brien et al. (2009) Soc Psychiatry Psychiatr Epidemiol 44:558-568; size guess");
    v.real(en.rel_after_discharge, "engagement.rel_after_discharge", 2).range(0, 100).with_unit("relative risk").means("Disengagement risk soon after discharge")
        .cite("direction from Kreyenbuhl et al. (2009); size guess");
    v.real(en.after_discharge_weeks, "engagement.after_discharge_weeks", 13).range(0, 520).with_unit("weeks").means("How long the post-discharge risk lasts").cite(GUESS);
    v.real(en.family_protection, "engagement.family_protection", 0.3).range(0, 1).with_unit("share").means("Reduction of disengagement risk by full family support").cite(GUESS);
    v.real(en.rel_early, "engagement.rel_early", 1.5).range(0, 100).with_unit("relative risk").means("Disengagement risk early in the illness")
        .cite("direction from Kreyenbuhl et al. (2009); size guess");
    v.real(en.early_years, "engagement.early_years", 2).range(0, 100).with_unit("years").means("Illness duration counted as early").cite(GUESS);
    v.real(en.p_disengaged_at_start, "engagement.p_disengaged_at_start", 0.08).range(0, 1).with_unit("share")
        .means("Share of patients disengaged at the start").cite(GUESS);
    v.real(en.p_reengage_week, "engagement.p_reengage_week", 0.04).range(0, 1).with_unit("probability/week")
        .means("Weekly chance that outreach re-engages a disengaged patient (scaled by team capacity)").cite(GUESS);

    auto& ah = c.adherence;
    v.real(ah.threshold, "adherence.threshold", 2.6).range(0, 4).with_unit("STAR (0-4)")
        .means("Felt relationship at which an average patient's adherence class is even (above the engagement threshold)").cite(SEED);
    v.real(ah.slope, "adherence.slope", 0.9).range(0, 20).with_unit("logit per STAR point").means("Effect of the felt relationship on the adherence class").cite(GUESS);
    v.real(ah.floor, "adherence.floor", 0.12).range(0, 1).with_unit("fraction").means("Adherence target of an engaged patient whose non-adherence is intentional").cite(GUESS);
    v.real(ah.ceiling, "adherence.ceiling", 0.92).range(0, 1).with_unit("fraction").means("Adherence target of the other engaged patients (occasional, unintentional misses)").cite(GUESS);
    v.real(ah.hysteresis, "adherence.class_hysteresis", 0.5).range(0, 10).with_unit("logit")
        .means("A patient changes adherence class only when their class score crosses 0 by this much (decisions about medication are not revisited every week)").cite(GUESS);
    v.real(ah.held_at, "adherence.held_at", -1).range(-1, 1).with_unit("fraction")
        .means("Hold every patient's adherence at this value (-1: not held); for the withdrawal comparison of relapse (Leucht et al. 2012 compared stabilised patients kept on or taken off treatment)")
        .cite(LEUCHT_2012 + std::string(" (design)"));
    v.real(ah.family_effect, "adherence.family_effect", 0.8).range(-10, 10).with_unit("logit per unit support").means("Effect of family support on adherence").cite(GUESS);
    v.real(ah.rate, "adherence.rate", 0.1).above(0, 1).with_unit("1/week").means("Share of the gap to the adherence target closed per week").cite(GUESS);
    v.real(ah.noise_sd, "adherence.noise_sd", 0.03).range(0, 1).with_unit("fraction/week").means("Week-to-week fluctuation of adherence").cite(GUESS);
    v.real(ah.disengaged_level, "adherence.disengaged_level", 0.2).range(0, 1).with_unit("fraction").means("Adherence target of a disengaged patient").cite(GUESS);
    v.real(ah.inpatient_level, "adherence.inpatient_level", 0.95).range(0, 1).with_unit("fraction").means("Adherence while admitted (supervised medication)").cite(GUESS);
    v.real(ah.good_threshold, "adherence.good_threshold", 0.8).range(0, 1).with_unit("fraction").means("Adherence counted as good").cite(GUESS);
    v.real(ah.insight_sd, "adherence.insight_sd", 2.5).range(0, 10).with_unit("logit")
        .means("Between-patient SD of insight and attitude to treatment (offset of the adherence target)").cite(GUESS);
    v.real(ah.initial_mean, "adherence.initial_mean", 0.58).range(0, 1).with_unit("fraction")
        .means("Reference adherence: centre of the adherence terms in satisfaction and in the clinician's view")
        .cite("Cramer & Rosenheck (1998) Psychiatr Serv 49:196-201 (mean 58% of antipsychotic taken)");

    auto& wb = c.wellbeing;
    v.real(wb.mean_unmet_needs, "wellbeing.mean_unmet_needs", 3).range(0, 22).with_unit("needs").means("Mean unmet needs at the start (Poisson)").cite(GUESS);
    v.real(wb.p_need_week, "wellbeing.p_need_week", 0.02).range(0, 1).with_unit("probability/week").means("Weekly chance that a new need arises").cite(GUESS);
    v.real(wb.rel_need_relapse, "wellbeing.rel_need_relapse", 3).range(0, 100).with_unit("relative risk").means("New needs during a relapse").cite(GUESS);
    v.real(wb.p_meet_per_contact, "wellbeing.p_meet_per_contact", 0.02).range(0, 1).with_unit("probability per need per meeting")
        .means("Chance that routine care meets an unmet need at a meeting (scaled by team capacity)").cite(GUESS);
    v.real(wb.need_qol_effect, "wellbeing.need_qol_effect", 1.84).uncertain(U::normal(1.84, 0.245)).range(0, 6).with_unit("rating points")
        .means("Fall of one life domain's set point when a need arises (rise of the lowest when one is met): 8 x 0.23, so one need moves the mean of the 8 domains by 0.23")
        .cite(SLADE_2005);
    v.real(wb.qol_per_unmet_need, "wellbeing.qol_per_unmet_need", 0.23).uncertain(U::normal(0.23, 0.0306)).range(0, 6).with_unit("rating points per need")
        .means("At the start, fall of a patient's mean set point per unmet need above wellbeing.mean_unmet_needs (cross-sectional)").cite(SLADE_2005);
    v.real(wb.qol_mean, "wellbeing.qol_mean", 4.3).range(1, 7).with_unit("rating (1-7)").means("Mean quality of life at the start").cite(GUESS);
    v.real(wb.qol_patient_sd, "wellbeing.qol_patient_sd", 0.7).range(0, 6).with_unit("rating points").means("Between-patient SD of mean quality of life").cite(GUESS);
    v.real(wb.qol_domain_sd, "wellbeing.qol_domain_sd", 0.9).range(0, 6).with_unit("rating points").means("Within-patient SD between life domains").cite(GUESS);
    v.real(wb.qol_rate, "wellbeing.qol_rate", 0.1).above(0, 1).with_unit("1/week").means("Share of the gap to a domain's target closed per week").cite(GUESS);
    v.real(wb.qol_noise_sd, "wellbeing.qol_noise_sd", 0.1).range(0, 6).with_unit("rating points/week").means("Week-to-week fluctuation of each domain rating (uniform with this SD)").cite(GUESS);
    v.real(wb.qol_shock_sd, "wellbeing.qol_shock_sd", 0.15).range(0, 6).with_unit("rating points/week")
        .means("Weekly shock shared by all life domains (life events, mood)").cite(GUESS);
    v.real(wb.qol_shock_rate, "wellbeing.qol_shock_rate", 0.05).above(0, 1).with_unit("1/week").means("Share of a shared shock that fades per week").cite(GUESS);
    v.real(wb.qol_symptom_effect, "wellbeing.qol_symptom_effect", 0.3).range(0, 6).with_unit("rating points per 10 BPRS")
        .means("Fall of life-domain ratings per 10 BPRS above the stable level").cite(GUESS);
    v.real(wb.improved_threshold, "wellbeing.improved_threshold", 0.5).above(0, 6).with_unit("rating points")
        .means("Rise in quality of life counted as a meaningful improvement").cite(GUESS);
    v.real(wb.sat_base, "wellbeing.sat_base", 4.8).range(1, 7).with_unit("rating (1-7)").means("Treatment satisfaction of an average patient").cite(GUESS);
    v.real(wb.sat_item_sd, "wellbeing.sat_item_sd", 0.6).range(0, 6).with_unit("rating points")
        .means("SD of a patient's own offset in rating each treatment-satisfaction item (how they use the scale)").cite(GUESS);
    v.real(wb.sat_relationship, "wellbeing.sat_relationship", 0.8).range(-6, 6).with_unit("rating points per STAR point").means("Effect of the relationship on treatment satisfaction").cite(GUESS);
    v.real(wb.sat_adherence, "wellbeing.sat_adherence", 1.0).range(-6, 6).with_unit("rating points per unit").means("Effect of adherence on satisfaction with medication").cite(GUESS);
    v.real(wb.sat_needs, "wellbeing.sat_needs", 0.15).range(0, 6).with_unit("rating points per need").means("Fall of satisfaction with practical help per unmet need").cite(GUESS);
    v.real(wb.sat_dialog, "wellbeing.sat_dialog", 0.5).uncertain(U::gamma(0.5, 0.15).as_guess()).range(0, 6).with_unit("rating points per unit dose").means("Effect of structured meetings on satisfaction with meetings").cite(FIT_DIALOG_2007);
    v.real(wb.sat_rate, "wellbeing.sat_rate", 0.15).above(0, 1).with_unit("1/week").means("Share of the gap to the satisfaction target closed per week").cite(GUESS);

    auto& fa = c.family;
    v.real(fa.share_high_ee, "family.share_high_ee", 0.5).range(0, 1).with_unit("share").means("Share of families with high expressed emotion at the start")
        .cite("Raune, Kuipers & Bebbington (2004) Br J Psychiatry ('over half')");
    v.real(fa.high_ee_threshold, "family.high_ee_threshold", 0.5).range(0, 1).with_unit("0-1").means("Expressed emotion counted as high").cite(GUESS);
    v.real(fa.support_mean, "family.support_mean", 0.6).range(0, 1).with_unit("0-1").means("Mean family support").cite(GUESS);
    v.real(fa.burden_base, "family.burden_base", 0.3).range(0, 1).with_unit("0-1").means("Carer burden when the patient is stable").cite(GUESS);
    v.real(fa.burden_symptoms, "family.burden_symptoms", 0.3).range(0, 10).with_unit("per 40 BPRS").means("Burden from symptoms above the stable level").cite(GUESS);
    v.real(fa.burden_inpatient, "family.burden_inpatient", 0.2).range(0, 1).with_unit("0-1").means("Burden while the patient is admitted").cite(GUESS);
    v.real(fa.burden_relapse, "family.burden_relapse", 0.2).range(0, 1).with_unit("0-1").means("Burden during a relapse").cite(GUESS);
    v.real(fa.burden_rate, "family.burden_rate", 0.1).above(0, 1).with_unit("1/week").means("Share of the gap to the burden target closed per week").cite(GUESS);
    v.real(fa.ee_burden, "family.ee_burden", 0.5).range(0, 10).with_unit("EE per unit burden").means("Feedback of burden above its base into expressed emotion").cite(GUESS);
    v.real(fa.ee_rate, "family.ee_rate", 0.05).above(0, 1).with_unit("1/week").means("Share of the gap to the EE target closed per week").cite(GUESS);
    v.real(fa.support_loss_burden, "family.support_loss_burden", 0.5).range(0, 1).with_unit("share").means("Loss of effective support at full burden").cite(GUESS);
    v.boolean(fa.intervention_enabled, "family.intervention.enabled", false).means("Offer a family intervention that lowers expressed emotion");
    v.real(fa.intervention_start_year, "family.intervention.start_year", 0).range(0, 100).with_unit("years").means("When the family intervention is offered").cite(GUESS);
    v.real(fa.intervention_coverage, "family.intervention.coverage", 0.5).range(0, 1).with_unit("share").means("Share of families who take it up").cite(GUESS);
    v.real(fa.intervention_ee_reduction, "family.intervention.ee_reduction", 0.2).range(0, 1).with_unit("EE (0-1)").means("Lasting reduction of the family's EE trait").cite(GUESS);

    auto& cl = c.clinicians;
    v.real(cl.skill_mean, "clinicians.skill_mean", 0.5).range(0, 1).with_unit("0-1").means("Mean communication skill").cite(GUESS);
    v.real(cl.skill_sd, "clinicians.skill_sd", 0.15).range(0, 1).with_unit("0-1").means("SD of communication skill").cite(GUESS);
    v.real(cl.responsiveness_mean, "clinicians.responsiveness_mean", 0.5).range(0, 1).with_unit("0-1").means("Mean responsiveness to patients' own concerns").cite(GUESS);
    v.real(cl.responsiveness_sd, "clinicians.responsiveness_sd", 0.15).range(0, 1).with_unit("0-1").means("SD of responsiveness").cite(GUESS);
    v.real(cl.style_mean, "clinicians.style_mean", 0.5).range(0, 1).with_unit("0-1").means("Mean decision style (1 partnership)").cite(GUESS);
    v.real(cl.style_sd, "clinicians.style_sd", 0.2).range(0, 1).with_unit("0-1").means("SD of decision style").cite(GUESS);
    v.real(cl.flexibility_mean, "clinicians.flexibility_mean", 0.4).range(0, 1).with_unit("0-1").means("Mean flexibility to adapt style to the patient").cite(SEED);
    v.real(cl.flexibility_sd, "clinicians.flexibility_sd", 0.15).range(0, 1).with_unit("0-1").means("SD of flexibility").cite(GUESS);
    v.real(cl.turnover_per_year, "clinicians.turnover_per_year", 0.12).range(0, 1).with_unit("probability/year")
        .means("Chance a care coordinator leaves the post in a year (patients start new relationships)").cite(GUESS);
    v.real(cl.supervision_coverage, "clinicians.supervision_coverage", 0.5).range(0, 1).with_unit("share").means("Share of clinicians with regular supervision").cite(GUESS);
    const char* mix_labels[3] = {"none", "client_centred", "cognitive_behavioural"};
    const double mix_default[3] = {0.5, 0.3, 0.2};
    for (std::size_t k = 0; k < 3; ++k)
        v.real(cl.approach_mix[k], std::string("clinicians.approach_mix.") + mix_labels[k], mix_default[k]).range(0, 1).with_unit("share")
            .means(std::string("Share of clinicians whose own response to DIALOG ratings is ") + mix_labels[k] + " (the three sum to 1; DIALOG+ replaces it with solution_focused)")
            .cite(GUESS);
    v.boolean(cl.skills_training_enabled, "clinicians.skills_training.enabled", false).means("Offer communication-skills training");
    v.real(cl.skills_training_start_year, "clinicians.skills_training.start_year", 0).range(0, 100).with_unit("years").means("When skills training is offered").cite(GUESS);
    v.real(cl.skills_training_coverage, "clinicians.skills_training.coverage", 1).range(0, 1).with_unit("share").means("Share of clinicians trained").cite(GUESS);
    v.real(cl.skills_training_gain, "clinicians.skills_training.gain", 0.15).range(0, 1).with_unit("0-1").means("Rise in communication skill and responsiveness").cite(GUESS);
    v.choice(cl.skills_training_design, "clinicians.skills_training.design", "all", {"all", "cluster_randomised"})
        .means("all: every clinician is offered training (with the coverage); cluster_randomised: each care coordinator post is randomised to training or control at the start, as in a trial (TEMPO)");
    v.real(cl.skills_training_share_randomised, "clinicians.skills_training.share_randomised", 0.5).range(0, 1).with_unit("share")
        .means("With cluster_randomised: chance a care coordinator post is allocated to training").cite(GUESS);
    v.real(cl.skills_training_star_gain, "clinicians.skills_training.star_gain", 0.3).range(0, 4).with_unit("STAR points (0-4)")
        .means("Rise in the collaboration and clinician-input targets of a trained clinician's relationships (what training teaches beyond skill and responsiveness)")
        .cite(TEMPO);

    auto& di = c.dialog;
    v.boolean(di.enabled, "dialog.enabled", false).means("Roll DIALOG out to care coordinators");
    v.choice(di.variant, "dialog.variant", "dialog", {"dialog", "dialog_plus"})
        .means("dialog: ratings and review every 2 months, clinicians respond their own way; dialog_plus: monthly, with the 4-step solution-focused approach");
    v.choice(di.design, "dialog.rollout.design", "waves", {"waves", "cluster_randomised"})
        .means("waves: trusts trained in random waves (stepped wedge); cluster_randomised: at the start, each care coordinator is randomised to DIALOG or control, as in the trials");
    v.real(di.share_randomised, "dialog.rollout.share_randomised", 0.5).range(0, 1).with_unit("share")
        .means("With cluster_randomised: chance a care coordinator is allocated to DIALOG").cite(DIALOG_2007 + std::string(" (cluster randomised by key worker)"));
    v.choice(di.control, "dialog.control", "usual_care", {"usual_care", "active"})
        .means("With cluster_randomised: the control arm's care; active: patients rate the DIALOG scale on a tablet with no structured response (as in DIALOG+'s control)");
    v.real(di.end_year, "dialog.end_year", 100).above(0, 1000).with_unit("years")
        .means("No DIALOG sessions after this time (e.g. 0.5 for DIALOG+'s 6 months of sessions)").cite(DIALOG_PLUS);
    v.real(di.interval_weeks_dialog, "dialog.interval_weeks", 8.7).range(1, 104).with_unit("weeks").means("Interval between DIALOG sessions (about every 2 months)").cite(DIALOG_2007);
    v.real(di.interval_weeks_plus, "dialog.interval_weeks_plus", 4.35).range(1, 104).with_unit("weeks").means("Interval between DIALOG+ sessions (monthly)").cite(DIALOG_PLUS);
    v.real(di.start_year, "dialog.rollout.start_year", 0.5).range(0, 100).with_unit("years").means("When the first training wave starts").cite(GUESS);
    v.real(di.duration_years, "dialog.rollout.duration_years", 3).range(0, 100).with_unit("years").means("Time from the first to the end of the last wave").cite("rollout over 3 years (scenario design)");
    v.integer(di.n_waves, "dialog.rollout.n_waves", 6).range(1, 1000).with_unit("waves").means("Training waves; trusts are randomly ordered into waves (stepped wedge)").cite(GUESS);
    v.real(di.uptake, "dialog.uptake", 0.9).uncertain(U::beta(0.9, 0.05).as_guess()).range(0, 1).with_unit("probability").means("Chance a clinician in a trained trust takes DIALOG up").cite(GUESS);
    v.real(di.fidelity_initial, "dialog.fidelity_initial", 0.67).uncertain(U::beta(0.67, 0.08).as_guess()).range(0, 1).with_unit("probability")
        .means("Share of planned sessions delivered by a newly trained clinician").cite(DIALOG_2007 + std::string(" (about 4 of 6 planned sessions delivered)"));
    v.real(di.fidelity_sd, "dialog.fidelity_sd", 0.15).range(0, 1).with_unit("probability").means("SD of fidelity between clinicians").cite(GUESS);
    v.real(di.fidelity_half_life_years, "dialog.fidelity_half_life_years", 3).above(0, 1000).with_unit("years").means("Half-life of fidelity drift without supervision").cite(GUESS);
    v.real(di.supervision_drift, "dialog.supervision_drift", 0.5).range(0, 1).with_unit("ratio").means("Drift of supervised clinicians relative to unsupervised").cite(GUESS);
    v.real(di.fidelity_floor, "dialog.fidelity_floor", 0.2).range(0, 1).with_unit("probability").means("Fidelity does not drift below this").cite(GUESS);
    v.real(di.new_staff_delay_weeks, "dialog.new_staff_delay_weeks", 12).range(0, 520).with_unit("weeks").means("Delay before a new hire in a rolled-out trust is trained").cite(GUESS);
    v.real(di.action_probability, "dialog.action_probability", 0.072).uncertain(U::beta(0.072, 0.025).as_guess()).range(0, 1).with_unit("probability per need")
        .means("Chance a session leads to action that meets an unmet need (solution-focused approach, average capacity)").cite(FIT_DIALOG_2007);
    v.integer(di.domains_discussed, "dialog.domains_discussed", 3).range(0, 8).with_unit("domains")
        .means("Lowest-rated life domains discussed at a session, with actions agreed").cite(DIALOG_PLUS + std::string(" (up to three domains, DIALOG+ protocol)"));
    v.real(di.session_gain, "dialog.session_gain", 0.042).uncertain(U::lognormal(0.042, 0.015).as_guess()).range(0, 1).with_unit("share of room per session")
        .means("Share of a discussed domain's room for improvement (7 minus its set point) gained at a session, at approach effect 1 and weight 1 of the sessions path")
        .cite(FIT_DIALOG_2007);
    v.real(di.spillover, "dialog.spillover", 0.2).range(0, 1).with_unit("relative")
        .means("Gain of the domains not discussed, relative to the discussed ones").cite(GUESS);
    v.real(di.alliance_moderation, "dialog.alliance_moderation", 1.0).range(0, 10).with_unit("per STAR point")
        .means("How the felt relationship scales what a session achieves on the sessions path (factor 1 + this x (felt - mechanism.star_reference) x the hypothesis's moderation weight; below 0 a session harms)")
        .cite(GOLDSMITH_2015);
    v.real(di.boost_half_life_weeks, "dialog.boost_half_life_weeks", 8).above(0, 520).with_unit("weeks").means("Half-life of a session's effect on communication").cite(GUESS);
    const char* ap_labels[4] = {"none", "client_centred", "cognitive_behavioural", "solution_focused"};
    const double ap_default[4] = {0.5, 0.7, 0.8, 1.0};
    for (std::size_t k = 0; k < 4; ++k)
        v.real(di.approach_effect[k], std::string("dialog.approach_effect.") + ap_labels[k], ap_default[k]).range(0, 10).with_unit("relative")
            .means(std::string("Effectiveness of a session when the clinician responds with approach ") + ap_labels[k]).cite(GUESS);
    v.real(di.cost_training, "dialog.cost_training", 300).uncertain(U::gamma(300, 150).as_guess()).range(0, 1e6).with_unit("GBP per clinician").means("Training cost").cite(GUESS);
    v.real(di.cost_device, "dialog.cost_device", 250).uncertain(U::gamma(250, 100).as_guess()).range(0, 1e6).with_unit("GBP per clinician").means("Tablet or software cost").cite(GUESS);
    v.real(di.extra_minutes, "dialog.extra_minutes", 5).uncertain(U::gamma(5, 2.5).as_guess()).range(0, 600).with_unit("minutes per session").means("Extra clinician time of a DIALOG session").cite(GUESS);
    v.real(di.cost_per_clinician_minute, "dialog.cost_per_clinician_minute", 1.0).uncertain(U::gamma(1.0, 0.3).as_guess()).range(0, 1000).with_unit("GBP/minute").means("Cost of a care coordinator's time").cite(GUESS);

    auto& me = c.mechanism;
    std::vector<std::string> names;
    std::string meanings;
    for (const auto& h : HYPOTHESES) {
        names.emplace_back(h.name);
        meanings += std::string(meanings.empty() ? "" : "; ") + h.name + ": " + h.meaning;
    }
    v.choice(me.hypothesis, "mechanism.hypothesis", "mixture", names).means(meanings + " (the paths of each: docs/model.md)");
    v.real(me.direct_weight, "mechanism.direct_weight", 0.5).uncertain(U::beta(0.5, 0.2).as_guess()).range(0, 1).with_unit("weight")
        .means("Weight of therapy_in_itself in the mixture (only with hypothesis: mixture)").cite(GUESS);
    v.real(me.star_reference, "mechanism.star_reference", 3.0).range(0, 4).with_unit("STAR (0-4)")
        .means("Felt relationship at which the direct path has no effect and sessions achieve their average").cite(GUESS);
    v.real(me.symptom_effect, "mechanism.symptom_effect", 3.0).range(0, 100).with_unit("BPRS per STAR point").means("Direct effect on symptoms at full weight").cite(GUESS);
    v.real(me.qol_effect, "mechanism.qol_effect", 3.0).range(0, 6).with_unit("rating points per STAR point").means("Direct effect on life-domain ratings at full weight")
        .cite("fitted so that the DIALOG 2007 trial's quality-of-life effect (Priebe et al. 2007, d = 0.20) is met under therapy_in_itself; see docs/validation.md");

    v.boolean(c.trial.analyse, "trial.analyse", false)
        .means("Analyse each replicate as its trial was: baseline-adjusted standardised effects with clinician-clustered intervals (needs dialog.rollout.design: cluster_randomised)");
    v.real(c.trial.attrition, "trial.attrition", 0).range(0, 0.99).with_unit("share")
        .means("Share of patients lost to follow-up (left out of the analysis)").cite(DIALOG_2007 + std::string(": 451 of 507 analysed"));
    v.real(c.costs.bed_day, "costs.bed_day", 450).uncertain(U::gamma(450, 135).as_guess()).range(0, 1e6).with_unit("GBP").means("Cost of an inpatient bed-day").cite(GUESS);
    v.real(c.costs.contact, "costs.contact", 60).uncertain(U::gamma(60, 18).as_guess()).range(0, 1e6).with_unit("GBP").means("Cost of a care coordinator meeting").cite(GUESS);
    v.integer(c.costs.price_year, "costs.price_year", 2024).range(1990, 2100).with_unit("year")
        .means("Price year of every unit cost (GBP of that year); reports state it, and costs of other years must be inflated to it first")
        .cite("fixed by convention: the year in which the unit costs above were set");

    if constexpr (std::is_same_v<V, Loader>) {
        st.regions.clear();
        for (const auto& row : region_rows)
            st.regions.push_back(Region{row.at("name").str, row.at("share").num, static_cast<int>(row.at("n_trusts").num),
                                        row.at("coercion").num, row.at("capacity").num, row.at("needs").num,
                                        row.at("symptoms").num});
    }
}

}  // namespace

void declare_parameters(sim::Schema& schema) {
    Declarer d{schema};
    Config c{};
    visit(d, c);
}

Config load_config(const sim::Params& params) {
    Loader l{params, {}};
    Config c{};
    visit(l, c);
    return c;
}

Paths Config::paths() const {
    for (const auto& h : HYPOTHESES) {
        if (mechanism.hypothesis != h.name) continue;
        if (!h.blend) return h.paths;
        const Paths& a = HYPOTHESES[0].paths;  // basis
        const Paths& b = HYPOTHESES[1].paths;  // therapy in itself
        const double w = mechanism.direct_weight;
        auto mix = [w](double x, double y) { return (1.0 - w) * x + w * y; };
        return {mix(a.sessions, b.sessions), mix(a.moderation, b.moderation), mix(a.dialog_relationship, b.dialog_relationship),
                mix(a.direct, b.direct)};
    }
    throw std::logic_error("unknown hypothesis " + mechanism.hypothesis);
}

double Config::dialog_interval_weeks() const {
    return dialog.variant == "dialog_plus" ? dialog.interval_weeks_plus : dialog.interval_weeks_dialog;
}

}  // namespace models
