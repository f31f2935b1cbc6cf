// Care coordinators: turnover (a new hire takes over the post and its caseload, and every
// patient of the post starts a new relationship) and communication-skills training
// (models/workforce.cpp, models/relationship.cpp).
//
// Statistical checks use fixed seeds and a tolerance of Z standard errors; with Z = 4 a
// correct model fails a given check with probability about 6e-5.

#include "models/components.hpp"
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace {

constexpr double Z = 4.0;                 // tolerance in standard errors
constexpr std::uint32_t SEED = 20240617;  // fixed seed of every run in this file
constexpr int N_POSTS = 2000;             // posts in the turnover run (structure.n_clinicians)
constexpr int N_PATIENTS = 10000;         // patients in the turnover run

using test::for_blocks;

double per_step(double p_year) { return 1.0 - std::pow(1.0 - p_year, 7.0 / 365.25); }

}  // namespace

TEST_CASE("care coordinators leave at clinicians.turnover_per_year", "[workforce][statistical]") {
    // 2,000 posts over 52 weekly steps with turnover 0.3 a year: each post-week is a Bernoulli
    // trial with p = 1 - 0.7^(7/365.25). Total departures within Z binomial SEs of
    // 2000 * 52 * p (about 1,340 +- 145). The hire counters must add up to the departures
    // series exactly, and the departures of each step must match the hires dated that step.
    const auto r = test::run(test::small_yaml(N_PATIENTS, 1.0, SEED),
                             {"structure.n_clinicians=" + std::to_string(N_POSTS), "clinicians.turnover_per_year=0.3"});
    const auto& x = r.ctx();
    REQUIRE(x.c.n == static_cast<std::size_t>(N_POSTS));
    const auto steps = r.world().n_steps;
    double departures = 0;
    std::vector<double> per(steps + 1, 0);
    for (std::uint32_t s = 1; s <= steps; ++s) {
        per[s] = r.national("clinician_departures", s);
        departures += per[s];
    }
    double hires = 0;
    std::vector<double> last_hire(steps + 1, 0);
    for (std::size_t post = 0; post < x.c.n; ++post) {
        hires += x.c.hire[post];
        if (x.c.hire[post] > 0) {
            REQUIRE(x.c.ti_hired[post] >= 1);
            REQUIRE(x.c.ti_hired[post] <= static_cast<std::int32_t>(steps));
            last_hire[static_cast<std::size_t>(x.c.ti_hired[post])] += 1;
        } else {
            REQUIRE(x.c.ti_hired[post] == 0);
        }
    }
    CHECK(hires == departures);
    CHECK(last_hire[steps] == per[steps]);  // the last step's leavers are still the latest hires
    const double p = per_step(0.3), trials = static_cast<double>(N_POSTS) * steps;
    CAPTURE(departures, p * trials);
    CHECK(std::fabs(departures - p * trials) < Z * std::sqrt(trials * p * (1 - p)));
}

TEST_CASE("after turnover every patient of the post has had one new relationship per new holder", "[workforce][relationship]") {
    // In a run with high turnover, patients stay with their post, so the number of
    // relationships a patient has had is 1 + the number of hires of the post, the dyad names
    // the current holder, started when they were hired, and has lasted since then.
    const auto r = test::run(test::small_yaml(N_PATIENTS, 1.0, SEED + 1), {"clinicians.turnover_per_year=0.6"});
    const auto& x = r.ctx();
    const auto steps = static_cast<std::int32_t>(r.world().n_steps);
    std::size_t renewed = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const auto post = static_cast<std::size_t>(x.p.clinician[i]);
        REQUIRE(x.p.n_dyads[i] == 1 + x.c.hire[post]);
        REQUIRE(x.d.clinician[i] == static_cast<std::int32_t>(post));
        REQUIRE(x.d.clinician_hire[i] == x.c.hire[post]);
        if (x.c.hire[post] == 0) {
            REQUIRE(x.d.ti_start[i] <= 0);
            continue;
        }
        ++renewed;
        REQUIRE(x.d.ti_start[i] == x.c.ti_hired[post]);
        // Time together: the steps since the dyad started, counting its first (start of step).
        const double weeks = x.d.weeks_together[i], since = steps - x.d.ti_start[i];
        REQUIRE(weeks >= since);
        REQUIRE(weeks <= since + 1);
    }
    CHECK(renewed > x.p.n / 4);
}

TEST_CASE("a clinician leaving starts new dyads for all their patients", "[workforce][relationship]") {
    // Rule-level: with a turnover probability of 1 for one step, every post gets a new holder;
    // the next relationship sweep gives every patient a new dyad: n_dyads rises by one,
    // weeks_together restarts (one step), the dyad records the new hire and its start step,
    // and the chemistry is redrawn.
    // No turnover in the first step, so that no dyad has been started at step 1 already.
    auto r = test::one_step(test::small_yaml(5000, 1.0, SEED + 2), {"clinicians.turnover_per_year=0"});
    auto& x = r.ctx();
    const std::vector<std::int32_t> dyads0(x.p.n_dyads, x.p.n_dyads + x.p.n), hire0(x.c.hire, x.c.hire + x.c.n);
    const std::vector<float> chem0(x.d.chemistry, x.d.chemistry + x.p.n);
    // Step 1 is the last step of the run's series, so the serial rule may record its departures.
    r.world().step = 1;
    x.k.p_turnover = 1.0 + 1e-9;  // every uniform in (0, 1] is below it
    models::workforce_step(x, r.world());
    CHECK(r.world().series.national(1, static_cast<std::size_t>(r.world().series_id("clinician_departures"))) ==
          static_cast<double>(x.c.n));
    for (std::size_t post = 0; post < x.c.n; ++post) REQUIRE(x.c.hire[post] == hire0[post] + 1);
    for_blocks(x.p.n, [&](const sim::Block& b) { models::relationship_step(x, r.world(), b); });
    std::size_t redrawn = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const auto post = static_cast<std::size_t>(x.p.clinician[i]);
        REQUIRE(x.p.n_dyads[i] == dyads0[i] + 1);
        REQUIRE(x.d.clinician_hire[i] == x.c.hire[post]);
        REQUIRE(x.d.ti_start[i] == 1);
        REQUIRE(x.d.weeks_together[i] <= 1.0f);
        REQUIRE(x.d.coercion_scar[i] == 0.0f);
        redrawn += x.d.chemistry[i] != chem0[i];
    }
    CHECK(redrawn == x.p.n);
    // A second sweep without turnover changes nothing more.
    for_blocks(x.p.n, [&](const sim::Block& b) { models::relationship_step(x, r.world(), b); });
    for (std::size_t i = 0; i < x.p.n; ++i) REQUIRE(x.p.n_dyads[i] == dyads0[i] + 1);
}

TEST_CASE("high turnover weakens relationships", "[workforce][relationship][statistical]") {
    // Same seed with turnover 0 and 0.8 a year: new dyads lose the continuity built up, so
    // mean STAR-P after a year is lower with high turnover by more than Z SEs of the paired
    // per-patient difference.
    const auto stable = test::run(test::small_yaml(N_PATIENTS, 1.0, SEED + 3), {"clinicians.turnover_per_year=0"});
    const auto churn = test::run(test::small_yaml(N_PATIENTS, 1.0, SEED + 3), {"clinicians.turnover_per_year=0.8"});
    double d = 0, d2 = 0;
    const std::size_t n = stable.ctx().p.n;
    for (std::size_t i = 0; i < n; ++i) {
        const double diff = churn.ctx().d.star_p[i] - stable.ctx().d.star_p[i];
        d += diff, d2 += diff * diff;
    }
    const double mean = d / static_cast<double>(n), se = std::sqrt((d2 / static_cast<double>(n) - mean * mean) / static_cast<double>(n));
    CAPTURE(mean, se);
    CHECK(mean < -Z * se);
    for (std::size_t post = 0; post < stable.ctx().c.n; ++post) REQUIRE(stable.ctx().c.hire[post] == 0);
}

TEST_CASE("communication-skills training raises skill and responsiveness by its gain", "[workforce][statistical]") {
    // Training at 0.1 years for every clinician (coverage 1), no turnover: against the same
    // scenario without training (same seed, so the same clinicians), each clinician's skill
    // and responsiveness are higher by exactly the gain (clamped at 1). With coverage 0.5 the
    // share trained is within Z binomial SEs of 0.5. Patients' mean STAR-P after a year is
    // higher with training (paired difference beyond Z SEs).
    const std::vector<std::string> common = {"clinicians.turnover_per_year=0", "structure.n_clinicians=1000"};
    auto trained_with = [&](double coverage) {
        auto o = common;
        o.insert(o.end(), {"clinicians.skills_training.enabled=true", "clinicians.skills_training.start_year=0.1",
                           "clinicians.skills_training.coverage=" + std::to_string(coverage)});
        return test::run(test::small_yaml(N_PATIENTS, 1.0, SEED + 4), o);
    };
    const auto plain = test::run(test::small_yaml(N_PATIENTS, 1.0, SEED + 4), common);
    const auto all = trained_with(1.0);
    const auto half = trained_with(0.5);
    const auto &xp = plain.ctx(), &xa = all.ctx(), &xh = half.ctx();
    const double gain = xa.cfg.clinicians.skills_training_gain;
    for (std::size_t post = 0; post < xp.c.n; ++post) {
        CHECK(xa.c.skills_trained[post] == 1);
        CHECK(xp.c.skills_trained[post] == 0);
        CHECK(xa.c.skill[post] == Approx(std::min(1.0, xp.c.skill[post] + gain)).margin(1e-6));
        CHECK(xa.c.responsiveness[post] == Approx(std::min(1.0, xp.c.responsiveness[post] + gain)).margin(1e-6));
    }
    double share = 0;
    for (std::size_t post = 0; post < xh.c.n; ++post) share += xh.c.skills_trained[post];
    const double n_posts = static_cast<double>(xh.c.n);
    share /= n_posts;
    CHECK(std::fabs(share - 0.5) < Z * std::sqrt(0.25 / n_posts));
    double d = 0, d2 = 0;
    for (std::size_t i = 0; i < xp.p.n; ++i) {
        const double diff = xa.d.star_p[i] - xp.d.star_p[i];
        d += diff, d2 += diff * diff;
    }
    const double n = static_cast<double>(xp.p.n), mean = d / n, se = std::sqrt((d2 / n - mean * mean) / n);
    CAPTURE(mean, se);
    CHECK(mean > Z * se);
}

TEST_CASE("a randomised skills-training trial trains the training arm only, and training raises the relationship's targets by star_gain",
          "[workforce][trial][statistical]") {
    // design cluster_randomised: each post is allocated to training (trial_arm 1) with
    // share_randomised, at the start; only arm-1 posts are trained (coverage 1), and their
    // patients' collaboration and clinician input move towards targets higher by star_gain. Against
    // the same run with star_gain 0 (same seed: the same allocation and draws), the trained arm's
    // mean latent STAR after a year is higher by at least half of star_gain x 9/12 (collaboration
    // and input carry 9 of the 12 items; the approach to the target is partial), the control
    // arm's is unchanged (its patients never see a trained clinician: no turnover).
    const std::vector<std::string> common = {"clinicians.turnover_per_year=0", "structure.n_clinicians=400",
                                             "clinicians.skills_training.enabled=true",
                                             "clinicians.skills_training.design=cluster_randomised",
                                             "clinicians.skills_training.start_year=0"};
    auto with_gain = [&](double g) {
        auto o = common;
        o.push_back("clinicians.skills_training.star_gain=" + std::to_string(g));
        return test::run(test::small_yaml(4000, 1.0, SEED + 5), o);
    };
    const auto none = with_gain(0.0), trained = with_gain(0.4);
    const auto &x0 = none.ctx(), &x1 = trained.ctx();
    double arm1 = 0;
    for (std::size_t post = 0; post < x1.c.n; ++post) {
        REQUIRE(x1.c.trial_arm[post] == x0.c.trial_arm[post]);
        REQUIRE((x1.c.trial_arm[post] == 0 || x1.c.trial_arm[post] == 1));
        CHECK(x1.c.skills_trained[post] == x1.c.trial_arm[post]);
        arm1 += x1.c.trial_arm[post];
    }
    const double n_posts = static_cast<double>(x1.c.n);
    CHECK(std::fabs(arm1 / n_posts - 0.5) < Z * std::sqrt(0.25 / n_posts));
    double rise[2] = {0, 0}, n[2] = {0, 0};
    for (std::size_t i = 0; i < x1.p.n; ++i) {
        const auto arm = static_cast<std::size_t>(x1.c.trial_arm[static_cast<std::size_t>(x1.p.clinician[i])]);
        rise[arm] += x1.d.star_latent[i] - x0.d.star_latent[i];
        n[arm] += 1;
    }
    CAPTURE(rise[0] / n[0], rise[1] / n[1]);
    CHECK(rise[0] / n[0] == Approx(0.0).margin(1e-6));
    CHECK(rise[1] / n[1] > 0.5 * 0.4 * 9.0 / 12.0);
    CHECK(rise[1] / n[1] < 0.4);
}
