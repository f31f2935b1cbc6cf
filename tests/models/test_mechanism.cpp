// The paths by which the relationship and DIALOG act (models/parameters.hpp HYPOTHESES): the
// sessions path (wellbeing.cpp), the felt relationship (context.hpp), the withdrawal comparison
// of relapse (illness.cpp), the burn-in (sim/simulation.cpp) and trial assessments (trial.cpp).
//
// Statistical checks use fixed seeds and a tolerance of Z standard errors; with Z = 4 a
// correct model fails a given check with probability about 6e-5.

#include "models/components.hpp"
#include "sim/ensemble.hpp"
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace {

constexpr double Z = 4.0;
constexpr std::uint32_t SEED = 20261202;
constexpr float FLOAT_EPS = 2e-5f;

/// A DIALOG+ rollout from the start in which every session is delivered, no needs arise or are
/// open (only the sessions path moves the set points), for rule-level tests of the sessions path.
std::vector<std::string> sessions_only(const std::string& hypothesis) {
    return {"dialog.enabled=true", "dialog.variant=dialog_plus", "dialog.uptake=1", "dialog.fidelity_initial=1",
            "dialog.fidelity_sd=0", "dialog.rollout.start_year=0", "wellbeing.p_need_week=0",
            "mechanism.hypothesis=" + hypothesis};
}

/// Runs the wellbeing rule once at step @p step for every patient.
void wellbeing_sweep(test::Run& r, std::uint32_t step) {
    r.world().step = step;
    test::for_blocks(r.ctx().p.n, [&](const sim::Block& b) { models::wellbeing_step(r.ctx(), r.world(), b); });
}

/// Every patient has a delivered session this step, no unmet needs, and felt relationship @p felt.
void session_for_all(models::Ctx& x, double felt) {
    for (std::size_t i = 0; i < x.p.n; ++i) {
        x.p.unmet_needs[i] = 0;
        x.p.relapsed[i] = 0;
        x.p.contact[i] = 1;
        x.p.dialog_session[i] = 1;
        x.c.dialog_ratings_only[static_cast<std::size_t>(x.p.clinician[i])] = 0;
        x.d.star_p[i] = x.d.star_latent[i] = static_cast<float>(felt);
    }
}

}  // namespace

TEST_CASE("a session raises the lowest-rated domains by their room for improvement, the others by the spillover",
          "[mechanism][dialog][wellbeing]") {
    // basis at the reference relationship: gain g = session_gain x approach (solution-focused for
    // DIALOG+: 1) x 1; the domains_discussed lowest-rated domains' set points gain g x (7 - set),
    // the others spillover x g x (7 - set) (exact up to float rounding).
    auto r = test::one_step(test::small_yaml(300, 1.0, SEED), sessions_only("basis"));
    auto& x = r.ctx();
    const auto& di = x.cfg.dialog;
    session_for_all(x, x.cfg.mechanism.star_reference);
    std::vector<std::array<float, models::N_DOMAINS>> set0(x.p.n), rating0(x.p.n);
    for (std::size_t i = 0; i < x.p.n; ++i)
        for (std::size_t k = 0; k < models::N_DOMAINS; ++k) set0[i][k] = x.p.qol_set[k][i], rating0[i][k] = x.p.qol_domain[k][i];
    wellbeing_sweep(r, 2);
    const double g = di.session_gain * di.approach_effect[3];
    REQUIRE(g > 0);
    std::size_t discussed = 0, others = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        for (std::size_t k = 0; k < models::N_DOMAINS; ++k) {
            std::size_t lower = 0;  // domains rated lower (ties: earlier domains first)
            for (std::size_t j = 0; j < models::N_DOMAINS; ++j)
                lower += rating0[i][j] < rating0[i][k] || (rating0[i][j] == rating0[i][k] && j < k);
            const bool is_discussed = lower < static_cast<std::size_t>(di.domains_discussed);
            const double gain = is_discussed ? g : g * di.spillover;
            CHECK(x.p.qol_set[k][i] == Approx(set0[i][k] + gain * (7.0 - set0[i][k])).margin(FLOAT_EPS));
            (is_discussed ? discussed : others) += 1;
        }
    }
    CHECK(discussed == x.p.n * static_cast<std::size_t>(di.domains_discussed));
    CHECK(others == x.p.n * (models::N_DOMAINS - static_cast<std::size_t>(di.domains_discussed)));
}

TEST_CASE("the relationship moderates what a session achieves under basis, not under therapy in itself",
          "[mechanism][dialog][wellbeing]") {
    // Factor 1 + moderation x alliance_moderation x (felt - reference): a good relationship
    // doubles the gain one point above the reference (alliance_moderation 1); a poor one 1.5
    // points below makes the session harm (factor -0.5: set points fall). Under therapy in
    // itself the sessions path has weight 0: set points do not move.
    const double ref = 3.0;
    auto change = [&](const std::string& hypothesis, double felt) {
        auto r = test::one_step(test::small_yaml(200, 1.0, SEED + 1), sessions_only(hypothesis));
        auto& x = r.ctx();
        REQUIRE(x.cfg.mechanism.star_reference == ref);
        REQUIRE(x.cfg.dialog.alliance_moderation == 1.0);
        session_for_all(x, felt);
        double before = 0, after = 0;
        for (std::size_t i = 0; i < x.p.n; ++i)
            for (std::size_t k = 0; k < models::N_DOMAINS; ++k) before += x.p.qol_set[k][i];
        wellbeing_sweep(r, 2);
        for (std::size_t i = 0; i < x.p.n; ++i)
            for (std::size_t k = 0; k < models::N_DOMAINS; ++k) after += x.p.qol_set[k][i];
        return after - before;
    };
    const double at_ref = change("basis", ref), good = change("basis", ref + 1), poor = change("basis", ref - 1.5);
    CHECK(at_ref > 0);
    CHECK(good == Approx(2 * at_ref).epsilon(0.01));  // the same patients: room differs only by rounding
    CHECK(poor < 0);
    CHECK(change("therapy_in_itself", ref + 1) == 0.0);
    // The mixture takes half of each path.
    CHECK(change("mixture", ref + 1) == Approx(0.5 * (1 + 0.5) / 2 * good).epsilon(0.01));
}

TEST_CASE("behaviour follows the felt relationship: the latent relationship and a small share of the patient's offset",
          "[mechanism][relationship][care]") {
    // felt = latent + perception_weight x (STAR-P - latent), and STAR-P = latent + the patient's
    // offset (away from the scale's ends); the adherence score moves with felt, not STAR-P.
    auto r = test::one_step(test::small_yaml(400, 1.0, SEED + 2), {"relationship.perception_weight=0.25"});
    auto& x = r.ctx();
    std::size_t checked = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        models::update_patient_view(x, i);
        const double latent = (6.0 * x.d.collaboration[i] + 3.0 * x.d.clinician_input[i] + 3.0 * (4.0 - x.d.non_support[i])) / 12.0;
        CHECK(x.d.star_latent[i] == Approx(latent).margin(1e-5));
        CHECK(x.felt(i) == Approx(latent + 0.25 * (x.d.star_p[i] - latent)).margin(1e-5));
        if (x.d.star_p_collaboration[i] > 0 && x.d.star_p_collaboration[i] < 4 && x.d.star_p_input[i] > 0 &&
            x.d.star_p_input[i] < 4 && x.d.star_p_non_support[i] > 0 && x.d.star_p_non_support[i] < 4) {
            // offset b enters collaboration (6 items) fully, input (3) at 0.8, non-support (3) at -0.5
            CHECK(x.d.star_p[i] - latent == Approx((6 + 3 * 0.8 + 3 * 0.5) / 12.0 * x.d.bias_patient[i]).margin(1e-5));
            ++checked;
        }
    }
    CHECK(checked > x.p.n / 2);
    // Doubling the patient's offset moves the adherence score by slope x 0.25 x the change of STAR-P.
    const std::size_t i = 0;
    const double z0 = models::adherence_score(x, i);
    const float p0 = x.d.star_p[i];
    x.d.star_p[i] = p0 + 0.4f;
    CHECK(models::adherence_score(x, i) - z0 == Approx(x.cfg.adherence.slope * 0.25 * 0.4).margin(1e-5));
}

TEST_CASE("the withdrawal comparison reproduces the input one-year relapse risks", "[mechanism][illness][statistical]") {
    // Leucht et al. (2012) compared stabilised patients kept on or taken off treatment: 20,000
    // patients with schizophrenia, adherence held at 1 or 0 for a year; among those not in
    // relapse at step 0 the share with a relapse is relapse.p_year_on/off_medication (each
    // family kind's hazard is scaled so that its one-year risk is the input) within Z binomial SEs.
    const std::vector<std::string> schizophrenia = {
        "population.diagnosis.schizophrenia_spectrum=1", "population.diagnosis.bipolar=0",
        "population.diagnosis.severe_depression=0", "population.diagnosis.personality_disorder=0",
        "population.diagnosis.other=0", "time.burn_in_weeks=0"};
    for (const double held : {1.0, 0.0}) {
        auto overrides = schizophrenia;
        overrides.push_back("adherence.held_at=" + std::to_string(held));
        const auto r = test::run(test::small_yaml(20000, 1.0, SEED + 3), overrides, 2);
        const auto& x = r.ctx();
        const auto relapsed0 = test::baseline(r, "patient", "relapsed");
        double at_risk = 0, relapsed = 0;
        for (std::size_t i = 0; i < x.p.n; ++i) {
            if (relapsed0[i] != 0) continue;
            at_risk += 1;
            relapsed += x.p.n_relapses[i] > 0;
        }
        const double p = held == 1.0 ? x.cfg.relapse.p_year_on_medication : x.cfg.relapse.p_year_off_medication;
        INFO("held at " << held << ": " << relapsed / at_risk << " of " << at_risk);
        CHECK(std::fabs(relapsed / at_risk - p) < Z * std::sqrt(p * (1 - p) / at_risk));
    }
}

TEST_CASE("with a burn-in, results are the same at any thread count and two arms share the burn-in",
          "[mechanism][determinism][crn]") {
    // 26 weeks of burn-in: the final state is identical at 1 and 2 threads, and the step-0 state
    // (after the burn-in) of a run with DIALOG equals that of the run without it, since DIALOG
    // starts at step 1 and its streams are not drawn before.
    const std::string yaml = test::small_yaml(1500, 0.5, SEED + 4);
    const std::vector<std::string> burn = {"time.burn_in_weeks=26"};
    const auto one = test::run(yaml, burn, 1), two = test::run(yaml, burn, 2);
    for (const char* agent : {"patient", "dyad", "clinician", "family"}) {
        const auto &a = one.world().agents(agent), &b = two.world().agents(agent);
        std::size_t differ = 0;
        for (std::size_t c = 0; c < a.spec().attributes.size(); ++c)
            for (std::size_t row = 0; row < a.size(); ++row) differ += a.as_double(c, row) != b.as_double(c, row);
        INFO(agent);
        CHECK(differ == 0);
    }
    auto with_dialog = burn;
    for (const auto& s : {"dialog.enabled=true", "dialog.rollout.start_year=0"}) with_dialog.emplace_back(s);
    const auto on = test::run(yaml, with_dialog, 2);
    for (const char* column : {"qol", "adherence", "symptoms", "unmet_needs", "engaged"})
        CHECK(test::baseline(on, "patient", column) == test::baseline(one, "patient", column));
    CHECK(test::baseline(on, "dyad", "star_p") == test::baseline(one, "dyad", "star_p"));
    // The burn-in changed the state: the baseline differs from a run without one.
    const auto none = test::run(yaml, {"time.burn_in_weeks=0"}, 2);
    CHECK(test::baseline(none, "patient", "qol") != test::baseline(one, "patient", "qol"));
}

TEST_CASE("a simulated trial reports its effects at each assessment within the horizon", "[mechanism][trial]") {
    // DIALOG 2007 (12 months): trial_*_d_m12 is the end-of-follow-up effect, m3 and m6 exist,
    // m24 is beyond the horizon (NaN); the effect on quality of life builds up over the year.
    const sim::Scenario sc = test::scenario("extends: trials/dialog_2007.yaml\n", {"replicates=20"});
    test::TempDir dir;
    sim::EnsembleOptions opt;
    (void)sim::run_ensemble(models::make_model, test::schema(), sc, dir.path("trial.h5"), opt);
    const sim::ResultsFile f(dir.path("trial.h5"));
    const auto end = f.read_numbers("/metrics/trial_qol_d"), m12 = f.read_numbers("/metrics/trial_qol_d_m12"),
               m3 = f.read_numbers("/metrics/trial_qol_d_m3"), m6 = f.read_numbers("/metrics/trial_qol_d_m6"),
               m24 = f.read_numbers("/metrics/trial_qol_d_m24");
    REQUIRE(end.size() == 20);
    double s3 = 0, s12 = 0;
    for (std::size_t r = 0; r < end.size(); ++r) {
        CHECK(m12[r] == end[r]);
        CHECK(std::isfinite(m3[r]));
        CHECK(std::isfinite(m6[r]));
        CHECK(std::isnan(m24[r]));
        s3 += m3[r], s12 += m12[r];
    }
    CHECK(s12 > s3);
}
