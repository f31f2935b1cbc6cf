#include "models/therasim_model.hpp"

#include "models/components.hpp"
#include "sim/errors.hpp"
#include "sim/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace models {

StepRates make_rates(const Config& cfg, double step_days) {
    StepRates k;
    k.weeks = step_days / 7.0;
    k.relapse_h_on = hazard_per_day(cfg.relapse.p_year_on_medication, DAYS_PER_YEAR);
    k.relapse_h_off = hazard_per_day(cfg.relapse.p_year_off_medication, DAYS_PER_YEAR);
    // Keep the hazards finite and positive so that the adherence interpolation is defined.
    k.relapse_h_on = std::clamp(k.relapse_h_on, 1e-12, 1e3);
    k.relapse_h_off = std::clamp(k.relapse_h_off, 1e-12, 1e3);
    k.p_admit = rate_per_step(cfg.admission.p_per_week_in_relapse, k.weeks);
    k.p_remit = prob_in(1.0 / (7.0 * cfg.relapse.mean_duration_weeks), step_days);
    k.p_turnover = per_step(std::min(cfg.clinicians.turnover_per_year, 1.0 - 1e-12), step_days);
    k.p_new_need = rate_per_step(cfg.wellbeing.p_need_week, k.weeks);
    k.r_symptoms = rate_per_step(cfg.symptoms.recovery_rate, k.weeks);
    k.r_adherence = rate_per_step(cfg.adherence.rate, k.weeks);
    k.r_qol = rate_per_step(cfg.wellbeing.qol_rate, k.weeks);
    k.r_sat = rate_per_step(cfg.wellbeing.sat_rate, k.weeks);
    k.r_burden = rate_per_step(cfg.family.burden_rate, k.weeks);
    k.r_ee = rate_per_step(cfg.family.ee_rate, k.weeks);
    k.r_drift = rate_per_step(cfg.relationship.drift_without_contact, k.weeks);
    k.sd_symptoms = cfg.symptoms.noise_sd * std::sqrt(k.weeks);
    k.sd_adherence = cfg.adherence.noise_sd * std::sqrt(k.weeks);
    k.sd_qol = cfg.wellbeing.qol_noise_sd * std::sqrt(k.weeks);
    k.r_qol_shock = rate_per_step(cfg.wellbeing.qol_shock_rate, k.weeks);
    k.sd_qol_shock = cfg.wellbeing.qol_shock_sd * std::sqrt(k.weeks);
    k.scar_decay = decay(step_days, 7.0 * cfg.admission.scar_half_life_weeks);
    k.boost_decay = decay(step_days, 7.0 * cfg.dialog.boost_half_life_weeks);
    const double share = std::clamp(cfg.admission.share_involuntary, 1e-9, 1.0 - 1e-9);
    k.odds_involuntary = share / (1.0 - share);
    // Voluntary mean chosen so that the mean over both kinds is admission.los_mean_days when the
    // involuntary share is los_split_share (the overall share, not the reference patient's).
    k.los_scale_voluntary =
        cfg.admission.los_mean_days / (1.0 + cfg.admission.los_split_share * (cfg.admission.rel_los_involuntary - 1.0));
    k.after_discharge_steps = static_cast<int>(std::lround(cfg.engagement.after_discharge_weeks / k.weeks));
    k.dialog_interval_steps = std::max(1, static_cast<int>(std::lround(cfg.dialog_interval_weeks() / k.weeks)));
    k.new_staff_delay_steps = static_cast<int>(std::lround(cfg.dialog.new_staff_delay_weeks / k.weeks));
    k.paths = cfg.paths();
    return k;
}

Ctx::Ctx(Config config, sim::World& w)
    : cfg(std::move(config)), k(make_rates(cfg, w.step_days)), p(w.agents("patient")), d(w.agents("dyad")),
      c(w.agents("clinician")), f(w.agents("family")), team(w.agents("team")), trust(w.agents("trust")),
      n_regions(cfg.structure.regions.size()), dialog_plus(cfg.dialog.variant == "dialog_plus") {
    // Meetings follow the team's norm, thinned when a caseload is above the reference: the
    // expected number per step is weeks / interval, with at most one meeting per step.
    p_meet.resize(c.n);
    for (std::size_t post = 0; post < c.n; ++post) {
        const double interval = team.contact_interval_weeks[static_cast<std::size_t>(c.team[post])];
        const double load = std::min(1.0, cfg.structure.caseload_mean / std::max(1, c.caseload[post]));
        p_meet[post] = std::min(1.0, k.weeks * load / interval);
    }
    log_keep_need.resize(team.n);
    for (std::size_t t = 0; t < team.n; ++t)
        log_keep_need[t] = std::log1p(-std::min(1.0 - 1e-12, cfg.wellbeing.p_meet_per_contact * team.capacity[t]));
    // Relapse risks of the literature are averages over patients: the hazards of low and high EE
    // families (ratio rel_high_ee) are scaled so that their average one-year risk is the input.
    const double share = cfg.family.share_high_ee, hr = cfg.relapse.rel_high_ee;
    auto family_scale = [&](double p_year) {
        const double h = -std::log1p(-p_year);  // cumulative hazard over a year
        auto risk = [&](double s) { return share * -std::expm1(-h * s * hr) + (1 - share) * -std::expm1(-h * s) - p_year; };
        double lo = 1e-6, hi = 1e6;  // risk() rises with s; bisection on the log scale
        for (int it = 0; it < 200; ++it) {
            const double mid = std::sqrt(lo * hi);
            (risk(mid) < 0 ? lo : hi) = mid;
        }
        return std::sqrt(lo * hi);
    };
    const double s_on = family_scale(cfg.relapse.p_year_on_medication), s_off = family_scale(cfg.relapse.p_year_off_medication);
    const std::array<double, 3> on = {k.relapse_h_on, k.relapse_h_on * s_on, k.relapse_h_on * s_on * hr};
    const std::array<double, 3> off = {k.relapse_h_off, k.relapse_h_off * s_off, k.relapse_h_off * s_off * hr};
    for (std::size_t kind = 0; kind < 3; ++kind) {
        relapse_h_off_step[kind] = static_cast<float>(off[kind] * w.step_days);
        relapse_log_ratio[kind] = static_cast<float>(std::log(on[kind] / off[kind]));
    }
    // p = 1 - exp(-h) <= h, and h = h_off exp(log_ratio * adherence) rel_diagnosis with adherence
    // in [0, 1]; the margin covers the rounding of the single-precision hazard.
    const double rel_diagnosis_max = *std::max_element(cfg.relapse.rel_diagnosis.begin(), cfg.relapse.rel_diagnosis.end());
    for (std::size_t kind = 0; kind < 3; ++kind)
        relapse_p_bound[kind] = double(relapse_h_off_step[kind]) * std::max(1.0, std::exp(double(relapse_log_ratio[kind]))) *
                                rel_diagnosis_max * (1.0 + 1e-4);
    perception_weight = static_cast<float>(cfg.relationship.perception_weight);
    trust_posts.resize(trust.n);
    for (std::size_t post = 0; post < c.n; ++post)
        trust_posts[static_cast<std::size_t>(team.trust[static_cast<std::size_t>(c.team[post])])].push_back(
            static_cast<std::int32_t>(post));
}

TherasimModel::TherasimModel() = default;
TherasimModel::~TherasimModel() = default;

void TherasimModel::declare(sim::Schema& s) const {
    // The engine's burn-in, with this model's default: a year settles the relationship,
    // adherence, quality of life and engagement (docs/model.md, "Burn-in").
    if (s.find_param("time.burn_in_weeks"))
        s.declared("time.burn_in_weeks").real(52).cite("settling time of the model's slowest fast states (docs/model.md)");
    declare_parameters(s);
    s.set_price_year_parameter("costs.price_year");
    declare_agents(s);
    declare_outputs(s);
    declare_trial_metrics(s);
}

void TherasimModel::finalize(sim::World& w) {
    refresh_view_factors(*ctx_);  // for the agents' final states
    auto& p = ctx_->p;
    const float steps = static_cast<float>(std::max<std::uint32_t>(1, w.n_steps));
    for (std::size_t i = 0; i < p.n; ++i) {
        p.share_engaged[i] = static_cast<float>(p.steps_engaged[i]) / steps;
        p.mean_adherence[i] = std::min(1.0f, p.adherence_sum[i] / steps);
    }
    if (ctx_->cfg.trial.analyse) analyse_trial(*ctx_, w);
}

void TherasimModel::check(const sim::Scenario& sc) const {
    const sim::Params& P = sc.params;
    const Config cfg = load_config(P);
    // Names the first of @p keys (the key at fault) and points at the first of them the
    // scenario sets (its file and line), or at the scenario file if it sets none of them.
    auto fail = [&](std::initializer_list<const char*> keys, const std::string& what) {
        for (const char* k : keys)
            if (P.is_set(k)) throw sim::InconsistentScenario(P.where(k), *keys.begin(), what);
        throw sim::InconsistentScenario(sim::Location{sc.path, 0}, *keys.begin(), what);
    };
    const auto& po = cfg.population;
    const double dx = std::accumulate(po.diagnosis_mix.begin(), po.diagnosis_mix.end(), 0.0);
    if (std::fabs(dx - 1.0) > 1e-6)
        fail({"population.diagnosis.schizophrenia_spectrum", "population.diagnosis.bipolar", "population.diagnosis.severe_depression",
              "population.diagnosis.personality_disorder", "population.diagnosis.other"}, "the five population.diagnosis shares sum to " + std::to_string(dx) + ", expected 1");
    if (po.eligibility_max_qol < 7.0) {
        // Baseline quality of life is about normal (population.cpp); a threshold that almost no
        // patient meets would fail the run after MAX_ELIGIBILITY_ATTEMPTS draws, so it is
        // refused here. The normal approximation ignores the floor at 1, which only adds
        // patients near it: the refusal errs on the side of letting a run try.
        const auto& wb = cfg.wellbeing;
        const double keep = 1.0 - std::min(1.0 - 1e-9, wb.qol_shock_rate);
        const double sd = std::sqrt(wb.qol_patient_sd * wb.qol_patient_sd + wb.qol_per_unmet_need * wb.qol_per_unmet_need * wb.mean_unmet_needs +
                                    std::pow(wb.qol_symptom_effect * cfg.symptoms.base_sd / 10.0, 2) +
                                    wb.qol_domain_sd * wb.qol_domain_sd / N_DOMAINS + wb.qol_shock_sd * wb.qol_shock_sd / (1.0 - keep * keep));
        const double eligible = 0.5 * std::erfc((wb.qol_mean - po.eligibility_max_qol) / (std::max(sd, 1e-9) * std::sqrt(2.0)));
        if (eligible < 0.01)  // each patient has MAX_ELIGIBILITY_ATTEMPTS draws; at 1% the run still finds them (2.0: 200,000 patients)
            fail({"population.eligibility.max_qol", "wellbeing.qol_mean"},
                 "only about " + std::to_string(eligible) + " of patients have a quality of life below " +
                     std::to_string(po.eligibility_max_qol) + " (mean " + std::to_string(wb.qol_mean) +
                     "); too few to recruit: raise population.eligibility.max_qol");
    }
    const auto& mix = cfg.clinicians.approach_mix;
    if (std::fabs(mix[0] + mix[1] + mix[2] - 1.0) > 1e-6)
        fail({"clinicians.approach_mix.none", "clinicians.approach_mix.client_centred", "clinicians.approach_mix.cognitive_behavioural"}, "the three clinicians.approach_mix shares sum to " + std::to_string(mix[0] + mix[1] + mix[2]) + ", expected 1");
    double share = 0;
    for (const auto& r : cfg.structure.regions) share += r.share;
    if (std::fabs(share - 1.0) > 1e-3) fail({"structure.regions"}, "region shares sum to " + std::to_string(share) + ", expected 1");
    for (std::size_t a = 0; a < cfg.structure.regions.size(); ++a)
        for (std::size_t b = a + 1; b < cfg.structure.regions.size(); ++b)
            if (cfg.structure.regions[a].name == cfg.structure.regions[b].name)
                fail({"structure.regions"}, "region name '" + cfg.structure.regions[a].name + "' appears twice");
    if (cfg.structure.caseload_mean > cfg.structure.caseload_max)
        fail({"structure.caseload_mean", "structure.caseload_max"}, "mean caseload " + std::to_string(cfg.structure.caseload_mean) +
                                            " is above structure.caseload_max " + std::to_string(cfg.structure.caseload_max));
    if (cfg.symptoms.cut_moderate > cfg.symptoms.cut_high)
        fail({"symptoms.cut_moderate", "symptoms.cut_high"}, "the moderate band starts above the high band (symptoms.cut_high)");
    if (cfg.adherence.floor > cfg.adherence.ceiling) fail({"adherence.floor", "adherence.ceiling"}, "adherence floor is above adherence.ceiling");
    if (cfg.relapse.p_year_on_medication <= 0 || cfg.relapse.p_year_off_medication <= 0 ||
        cfg.relapse.p_year_on_medication >= 1 || cfg.relapse.p_year_off_medication >= 1)
        fail({"relapse.p_year_on_medication", "relapse.p_year_off_medication"}, "relapse risks must lie strictly between 0 and 1 (a hazard is derived from them)");
    // A weight other than its default means the user wants a mixture; judged on the value, not
    // on where it was set, so a resolved scenario (which lists every key) runs again as it is.
    // The declared default, read once (check runs for every point of a sweep).
    static const double default_weight = [this] {
        sim::Schema declared;
        declare(declared);
        return std::stod(declared.find_param("mechanism.direct_weight")->default_yaml);
    }();
    if (cfg.mechanism.hypothesis != "mixture" && cfg.mechanism.direct_weight != default_weight)
        fail({"mechanism.direct_weight", "mechanism.hypothesis"}, "direct_weight only applies when mechanism.hypothesis is 'mixture' (it is '" +
                                            cfg.mechanism.hypothesis + "'); remove it or set the hypothesis to mixture");
    const double years = P.real("time.years");
    if (cfg.dialog.enabled && cfg.dialog.start_year >= years)
        fail({"dialog.rollout.start_year", "time.years", "dialog.enabled"}, "the rollout starts at year " + std::to_string(cfg.dialog.start_year) +
                                              ", at or after the end of the horizon (time.years = " + std::to_string(years) + ")");
    if (cfg.family.intervention_enabled && cfg.family.intervention_start_year >= years)
        fail({"family.intervention.start_year", "time.years", "family.intervention.enabled"}, "the family intervention starts after the end of the horizon");
    if (cfg.clinicians.skills_training_enabled && cfg.clinicians.skills_training_start_year >= years)
        fail({"clinicians.skills_training.start_year", "time.years", "clinicians.skills_training.enabled"}, "skills training starts after the end of the horizon");
    const bool dialog_trial = cfg.dialog.enabled && cfg.dialog.design == "cluster_randomised";
    const bool skills_trial = cfg.clinicians.skills_training_enabled && cfg.clinicians.skills_training_design == "cluster_randomised";
    if (cfg.trial.analyse && !dialog_trial && !skills_trial)
        fail({"trial.analyse", "dialog.rollout.design", "dialog.enabled"},
             "a trial analysis needs a randomised design: dialog.enabled: true and dialog.rollout.design: cluster_randomised, "
             "or clinicians.skills_training.enabled: true and clinicians.skills_training.design: cluster_randomised");
    if (skills_trial && cfg.dialog.enabled)
        fail({"clinicians.skills_training.design", "dialog.enabled"},
             "a randomised skills-training trial allocates care coordinators to training or control; DIALOG would be "
             "given by those arms too: set dialog.enabled: false, or randomise DIALOG instead");
    try {
        (void)plan_structure(cfg);
    } catch (const PlanError& e) {
        if (P.is_set(e.key)) throw sim::InconsistentScenario(P.where(e.key), e.key, e.what());
        fail({"population.n_patients", "structure.n_clinicians", "structure.caseload_mean", "structure.regions"}, e.what());
    }
}

std::size_t TherasimModel::estimate_bytes(const sim::Params& params) const {
    // About 600 bytes per patient: patient and dyad columns, the baseline snapshot, families
    // (the engine adds the series, trajectories and results file: sim::estimate_memory).
    const auto n = static_cast<std::size_t>(params.integer("population.n_patients"));
    return n * 600;
}

std::size_t TherasimModel::estimate_traced_agents(const sim::Params& params) const {
    return static_cast<std::size_t>(params.integer("population.n_patients"));
}

std::size_t TherasimModel::estimate_groups(const sim::Schema& schema, const sim::Params& params) const {
    // The region dimension's levels are the scenario's regions (filled at init).
    std::size_t n = 1;
    for (const auto& d : schema.dimensions())
        n *= d.name == "region" ? std::max<std::size_t>(1, params.table("structure.regions").size()) : std::max<std::size_t>(1, d.levels.size());
    return n;
}

namespace {

/// Calls @p f(i) for every patient i in [0, @p n): blocks of patients in parallel, each in
/// order. For work that writes only patient i's (and dyad i's) rows.
template <class F>
void for_each_patient_block(std::size_t n, F&& f) {
    sim::parallel::for_each_block((n + sim::BLOCK_SIZE - 1) / sim::BLOCK_SIZE, [&](std::size_t b) {
        for (std::size_t i = b * sim::BLOCK_SIZE, end = std::min(n, i + sim::BLOCK_SIZE); i < end; ++i) f(i);
    });
}

}  // namespace

void TherasimModel::init(sim::World& w) {
    Config cfg = load_config(w.params);
    w.dims[1].levels.clear();
    for (const auto& r : cfg.structure.regions) w.dims[1].levels.push_back(r.name);
    create_population(w, cfg);
    ctx_ = std::make_unique<Ctx>(std::move(cfg), w);
    Ctx& x = *ctx_;
    // Each patient's first dyad; the adherence class, adherence and satisfaction start at their
    // targets given the initial relationship (the burn-in then settles them). A patient's rows
    // only, in blocks in parallel.
    auto& p = x.p;
    for_each_patient_block(p.n, [&](std::size_t i) {
        start_dyad(x, w.rng, i, 0, true);
        p.intentional[i] = adherence_score(x, i) < 0;
        const double held = x.cfg.adherence.held_at;
        p.adherence[i] = held >= 0 ? static_cast<float>(held)
                                   : clampf(adherence_target(x, i) + 0.2 * (p.adherence[i] - x.cfg.adherence.initial_mean), 0, 1);
        update_views(x, i);
        const auto t = satisfaction_targets(x, i);
        p.sat_medication[i] = clampf(t[0], 1, 7);
        p.sat_practical_help[i] = clampf(t[1], 1, 7);
        p.sat_meetings[i] = clampf(t[2], 1, 7);
        p.satisfaction[i] = (p.sat_medication[i] + p.sat_practical_help[i] + p.sat_meetings[i]) / 3.0f;
    });
    schedule_rollout(x, w);
    schedule_skills_trial(x, w);
    refresh_post_arm(x);
}

void TherasimModel::start_reporting(sim::World& w) {
    // What the burn-in counted is not part of the run; step 0 is the baseline of every outcome.
    auto& p = ctx_->p;
    // A trial recruits patients in contact with their clinician at baseline (after the burn-in).
    const bool recruited = ctx_->cfg.trial.analyse;
    for_each_patient_block(p.n, [&](std::size_t i) {
        if (recruited) p.engaged[i] = 1;
        p.n_contacts[i] = p.n_dialog_sessions[i] = p.n_dialog_planned[i] = p.n_relapses[i] = 0;
        p.n_admissions_voluntary[i] = p.n_admissions_involuntary[i] = p.n_disengagements[i] = 0;
        p.needs_met[i] = p.steps_engaged[i] = 0;
        p.n_dyads[i] = 1;
        p.bed_days[i] = p.cost[i] = p.adherence_sum[i] = 0.0f;
        p.events[i] = 0;
        p.symptoms_start[i] = p.symptoms[i];
        p.satisfaction_start[i] = p.satisfaction[i];
        p.unmet_needs_start[i] = p.unmet_needs[i];
        p.qol_start[i] = p.qol[i];
        ctx_->d.star_p_start[i] = ctx_->d.star_p[i];
        ctx_->d.star_c_start[i] = ctx_->d.star_c[i];
        // Severity subgroups are defined by the baseline (step 0) symptoms.
        const auto& sy = ctx_->cfg.symptoms;
        p.severity[i] = p.symptoms[i] >= sy.cut_high ? 2 : p.symptoms[i] >= sy.cut_moderate ? 1 : 0;
    });
    start_trial_assessments(*ctx_, w);
    refresh_view_factors(*ctx_);  // for the agents' baseline states
}

std::vector<sim::Phase> TherasimModel::phases() {
    Ctx& x = *ctx_;
    auto kernel = [&x](void (*fn)(Ctx&, sim::World&, const sim::Block&)) {
        return [&x, fn](sim::World& w, const sim::Block& b) { fn(x, w, b); };
    };
    // The order of one step:
    //   1. rollout    (serial)   DIALOG training waves, new hires trained, fidelity drift, costs
    //   2. workforce  (serial)   turnover (new hire takes the post), skills training
    //   3. care       (patients) a. meetings  b. DIALOG sessions  c. relationship  d. engagement
    //                            e. adherence  f. relapse, admission, symptoms  g. needs, quality of
    //                            life, satisfaction  h. run sums of engagement and adherence
    //                            i. outputs (also at step 0)
    //   4. families   (families) burden, expressed emotion, family intervention
    //   5. trial      (serial)   a simulated trial's assessments (3, 6, 12, 24 months)
    // The burn-in (time.burn_in_weeks) runs the same steps, without the observers, before step 0.
    // Patients see their family's state of the previous step; families see this step's patients.
    sim::Phase care{"care", "patient", {}, {}};
    care.kernels.push_back({"contact", kernel(contact_step), false});
    if (x.cfg.dialog.enabled) care.kernels.push_back({"dialog_sessions", kernel(dialog_sessions), false});
    care.kernels.push_back({"relationship", kernel(relationship_step), false});
    care.kernels.push_back({"engagement", kernel(engagement_step), false});
    care.kernels.push_back({"adherence", kernel(adherence_step), false});
    care.kernels.push_back({"illness", kernel(illness_step), false});
    care.kernels.push_back({"wellbeing", kernel(wellbeing_step), false});
    care.kernels.push_back({"run_means", kernel(accumulate_run_means), false});
    care.kernels.push_back({"observe", kernel(observe_patients), true});
    std::vector<sim::Phase> out;
    out.push_back({"rollout", "", [&x](sim::World& w) { rollout_step(x, w); }, {}});
    out.push_back({"workforce", "", [&x](sim::World& w) {
                       workforce_step(x, w);
                       refresh_post_arm(x);
                   }, {}});
    out.push_back(std::move(care));
    out.push_back({"families", "family", {}, {{"family", kernel(family_step), false}}});
    if (x.cfg.trial.analyse) out.push_back({"trial", "", [&x](sim::World& w) { trial_assessment_step(x, w); }, {}});
    return out;
}

std::unique_ptr<sim::Model> make_model() { return std::make_unique<TherasimModel>(); }

}  // namespace models
