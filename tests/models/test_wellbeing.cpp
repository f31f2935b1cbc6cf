// Needs, quality of life and treatment satisfaction (models/wellbeing.cpp).
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
constexpr int N_STAT = 20000;             // patients in statistical checks
constexpr std::uint32_t SEED = 20240615;  // fixed seed of every run in this file
constexpr std::int32_t NEEDS = 4;         // unmet needs given to every patient in rule trials
constexpr double FLOAT_EPS = 1e-4;        // tolerance of single-precision rating updates

using test::for_blocks;

void wellbeing_sweep(test::Run& r, std::uint32_t step) {
    r.world().step = step;
    for_blocks(r.ctx().p.n, [&](const sim::Block& b) { models::wellbeing_step(r.ctx(), r.world(), b); });
}

/// Gives every patient NEEDS unmet needs, out of relapse, with or without a meeting and a session.
void prepare(models::Ctx& x, bool contact, bool session) {
    for (std::size_t i = 0; i < x.p.n; ++i) {
        x.p.unmet_needs[i] = NEEDS;
        x.p.relapsed[i] = 0;
        x.p.contact[i] = contact;
        x.p.dialog_session[i] = session;
    }
}

struct Met {
    double mean, sd;
};
/// Needs met per patient by one wellbeing sweep at @p step.
Met needs_met(test::Run& r, std::uint32_t step) {
    auto& x = r.ctx();
    const std::vector<std::int32_t> before(x.p.needs_met, x.p.needs_met + x.p.n);
    wellbeing_sweep(r, step);
    double s = 0, s2 = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const double m = x.p.needs_met[i] - before[i];
        s += m, s2 += m * m;
    }
    const double n = static_cast<double>(x.p.n), mean = s / n;
    return {mean, std::sqrt(s2 / n - mean * mean)};
}

}  // namespace

TEST_CASE("a DIALOG session meets needs much faster than a routine meeting", "[wellbeing][dialog][statistical]") {
    // Every patient has 4 unmet needs. A routine meeting meets at most one, with probability
    // 1 - (1 - p_meet_per_contact)^n (about 0.078); a DIALOG+ session (solution-focused, effect 1)
    // acts on each need with probability action_probability (0.3): 1.2 needs met on average.
    // A need may arise first (p 0.02 a week), so the expected counts use 4.02 needs. Tolerance
    // Z SEs of the mean (sample SD / sqrt(N)).
    // action_probability is set here, not taken from the (calibrated) default.
    auto r = test::one_step(test::small_yaml(N_STAT, 1.0, SEED), {"dialog.variant=dialog_plus", "dialog.action_probability=0.3"});
    auto& x = r.ctx();
    const double n_needs = NEEDS + x.cfg.wellbeing.p_need_week;  // expected needs after new ones arise
    const double sqrt_n = std::sqrt(static_cast<double>(x.p.n));

    prepare(x, false, false);
    const Met none = needs_met(r, 2);
    CHECK(none.mean == 0.0);  // no meeting, no session: no need is met

    prepare(x, true, false);
    const Met routine = needs_met(r, 3);
    const double p_routine = 1 - std::pow(1 - x.cfg.wellbeing.p_meet_per_contact, NEEDS);
    CAPTURE(routine.mean, p_routine);
    CHECK(std::fabs(routine.mean - p_routine) < Z * routine.sd / sqrt_n + 0.002);  // 0.002: the 2% chance of a 5th need

    prepare(x, false, true);
    const Met dialog = needs_met(r, 4);
    const double expected = n_needs * x.cfg.dialog.action_probability * x.cfg.dialog.approach_effect[3];
    CAPTURE(dialog.mean, expected);
    CHECK(std::fabs(dialog.mean - expected) < Z * dialog.sd / sqrt_n);
    CHECK(dialog.mean > 5 * routine.mean);
}

TEST_CASE("in DIALOG (not DIALOG+) the clinician's own approach sets how often a session leads to action",
          "[wellbeing][dialog][statistical]") {
    // Expected needs met per session = 4.02 * action_probability * approach_effect[approach of
    // the patient's clinician]; averaged over patients, within Z SEs.
    auto r = test::one_step(test::small_yaml(N_STAT, 1.0, SEED + 1), {"dialog.variant=dialog"});
    auto& x = r.ctx();
    prepare(x, false, true);
    double expected = 0;
    const double n_needs = NEEDS + x.cfg.wellbeing.p_need_week;
    for (std::size_t i = 0; i < x.p.n; ++i)
        expected += n_needs * x.cfg.dialog.action_probability *
                    x.cfg.dialog.approach_effect[x.c.approach[static_cast<std::size_t>(x.p.clinician[i])]];
    expected /= static_cast<double>(x.p.n);
    const Met got = needs_met(r, 2);
    CAPTURE(got.mean, expected);
    CHECK(std::fabs(got.mean - expected) < Z * got.sd / std::sqrt(static_cast<double>(x.p.n)));
    CHECK(got.mean < n_needs * x.cfg.dialog.action_probability);  // below the solution-focused rate
}

TEST_CASE("new needs arise at wellbeing.p_need_week, more often in relapse", "[wellbeing][statistical]") {
    // 20,000 patients x 10 steps, no meetings: the share of patient-weeks with a new need is
    // p_need_week (0.02) out of relapse and rel_need_relapse times that (0.06) in relapse.
    // Tolerance Z binomial SEs.
    auto r = test::one_step(test::small_yaml(N_STAT, 1.0, SEED + 2));
    auto& x = r.ctx();
    double arisen[2] = {0, 0}, trials[2] = {0, 0};
    for (std::uint32_t s = 2; s < 12; ++s) {
        for (std::size_t i = 0; i < x.p.n; ++i) {
            x.p.unmet_needs[i] = 1;
            x.p.contact[i] = 0;
            x.p.dialog_session[i] = 0;
            x.p.relapsed[i] = i % 2;
        }
        wellbeing_sweep(r, s);
        for (std::size_t i = 0; i < x.p.n; ++i) {
            arisen[i % 2] += x.p.unmet_needs[i] - 1;
            trials[i % 2] += 1;
        }
    }
    const double p = x.cfg.wellbeing.p_need_week, pr = p * x.cfg.wellbeing.rel_need_relapse;
    CAPTURE(arisen[0] / trials[0], arisen[1] / trials[1]);
    CHECK(std::fabs(arisen[0] / trials[0] - p) < Z * std::sqrt(p * (1 - p) / trials[0]));
    CHECK(std::fabs(arisen[1] / trials[1] - pr) < Z * std::sqrt(pr * (1 - pr) / trials[1]));
}

TEST_CASE("a need arising lowers one life domain's set point and a need met raises the lowest-rated domain", "[wellbeing]") {
    // Per patient: the sum of the 8 set points changes by need_qol_effect * (met - arisen) (set
    // points away from the scale's ends), and a single met need raises the domain with the
    // lowest current rating.
    // need_qol_effect 0.25 keeps most set points away from the scale's ends (set here, not the default).
    auto r = test::one_step(test::small_yaml(6000, 1.0, SEED + 3),
                            {"dialog.variant=dialog_plus", "wellbeing.p_need_week=0.3", "wellbeing.need_qol_effect=0.25",
                             "dialog.session_gain=0"});  // the sessions path is tested on its own
    auto& x = r.ctx();
    prepare(x, false, true);
    const double effect = x.cfg.wellbeing.need_qol_effect;
    std::vector<std::array<float, models::N_DOMAINS>> set0(x.p.n), rating0(x.p.n);
    const std::vector<std::int32_t> met0(x.p.needs_met, x.p.needs_met + x.p.n);
    for (std::size_t i = 0; i < x.p.n; ++i)
        for (std::size_t k = 0; k < models::N_DOMAINS; ++k) set0[i][k] = x.p.qol_set[k][i], rating0[i][k] = x.p.qol_domain[k][i];
    wellbeing_sweep(r, 2);
    std::size_t checked = 0, single = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const int met = x.p.needs_met[i] - met0[i];
        const int arisen = x.p.unmet_needs[i] - NEEDS + met;
        REQUIRE((arisen == 0 || arisen == 1));
        bool interior = true;
        double before = 0, after = 0;
        for (std::size_t k = 0; k < models::N_DOMAINS; ++k) {
            interior = interior && set0[i][k] > 1 + 5 * effect && set0[i][k] < 7 - 5 * effect;  // up to 5 changes
            before += set0[i][k], after += x.p.qol_set[k][i];
        }
        if (!interior) continue;
        CHECK(after - before == Approx(effect * (met - arisen)).margin(FLOAT_EPS));
        ++checked;
        if (met == 1 && arisen == 0) {
            std::size_t low = 0;
            for (std::size_t k = 1; k < models::N_DOMAINS; ++k)
                if (rating0[i][k] < rating0[i][low]) low = k;
            CHECK(x.p.qol_set[low][i] - set0[i][low] == Approx(effect).margin(FLOAT_EPS));
            ++single;
        }
    }
    CHECK(checked > 1500);
    CHECK(single > 200);
}

TEST_CASE("life domains follow symptoms above the stable level, and the relationship on the direct path only", "[wellbeing][mechanism]") {
    // Noise and shared shocks off; each domain starts at its set point. One step moves it by
    // qol_rate * (-qol_symptom_effect * excess / 10 + w * qol_effect * (STAR-P - reference)),
    // with w = 0 under 'basis' and 1 under 'therapy_in_itself'.
    for (const double w : {0.0, 1.0}) {
        CAPTURE(w);
        auto r = test::one_step(test::small_yaml(4000, 1.0, SEED + 4),
                                {"wellbeing.qol_noise_sd=0", "wellbeing.qol_shock_sd=0",
                                 w == 0 ? "mechanism.hypothesis=basis" : "mechanism.hypothesis=therapy_in_itself"});
        auto& x = r.ctx();
        const auto& wb = x.cfg.wellbeing;
        const double ref = x.cfg.mechanism.star_reference;
        for (std::size_t i = 0; i < x.p.n; ++i) {
            x.p.contact[i] = 0;
            x.p.dialog_session[i] = 0;
            x.p.qol_shock[i] = 0;
            x.p.symptoms[i] = x.p.symptoms_base[i] + static_cast<float>(i % 3) * 10.0f;  // 0, 10 or 20 above stable
            x.d.star_p[i] = static_cast<float>(ref - 1.0 + static_cast<double>(i % 5) * 0.5);
            for (std::size_t k = 0; k < models::N_DOMAINS; ++k) x.p.qol_domain[k][i] = x.p.qol_set[k][i];
        }
        const std::vector<std::int32_t> needs0(x.p.unmet_needs, x.p.unmet_needs + x.p.n);
        wellbeing_sweep(r, 2);
        std::size_t checked = 0;
        for (std::size_t i = 0; i < x.p.n; ++i) {
            if (x.p.unmet_needs[i] != needs0[i]) continue;  // a new need moved a set point
            const double excess = x.p.symptoms[i] - x.p.symptoms_base[i];
            const double shift = -wb.qol_symptom_effect * excess / 10.0 + w * x.cfg.mechanism.qol_effect * (x.d.star_p[i] - ref);
            for (std::size_t k = 0; k < models::N_DOMAINS; ++k) {
                const double set = x.p.qol_set[k][i];
                if (set + shift < 1.0 || set + shift > 7.0) continue;
                CHECK(x.p.qol_domain[k][i] - set == Approx(wb.qol_rate * shift).margin(FLOAT_EPS));
                ++checked;
            }
        }
        CHECK(checked > 20000);
    }
}

TEST_CASE("treatment satisfaction follows the relationship, adherence and needs", "[wellbeing]") {
    // satisfaction_targets: one STAR-P point raises satisfaction with medication and with
    // meetings by sat_relationship and with practical help by half of it; adherence raises
    // satisfaction with medication by sat_adherence per unit; each unmet need lowers
    // satisfaction with practical help by sat_needs.
    auto r = test::one_step(test::small_yaml(200, 1.0, SEED + 5));
    auto& x = r.ctx();
    const auto& wb = x.cfg.wellbeing;
    const std::size_t i = 0;
    x.d.star_p[i] = 2.5f;
    const auto t0 = models::satisfaction_targets(x, i);
    x.d.star_p[i] = 3.5f;
    const auto t1 = models::satisfaction_targets(x, i);
    CHECK(t1[0] - t0[0] == Approx(wb.sat_relationship));
    CHECK(t1[1] - t0[1] == Approx(0.5 * wb.sat_relationship));
    CHECK(t1[2] - t0[2] == Approx(wb.sat_relationship));
    x.p.adherence[i] = 0.2f;
    const auto a0 = models::satisfaction_targets(x, i);
    x.p.adherence[i] = 0.7f;
    const auto a1 = models::satisfaction_targets(x, i);
    CHECK(a1[0] - a0[0] == Approx(0.5 * wb.sat_adherence).margin(1e-6));
    x.p.unmet_needs[i] = 2;
    const auto n0 = models::satisfaction_targets(x, i);
    x.p.unmet_needs[i] = 5;
    const auto n1 = models::satisfaction_targets(x, i);
    CHECK(n1[1] - n0[1] == Approx(-3 * wb.sat_needs));
}

TEST_CASE("in a run, patients with a better relationship are more satisfied", "[wellbeing][statistical]") {
    // Correlation of STAR-P and treatment satisfaction after a year: must be positive beyond
    // Z / sqrt(N) (the SE of a correlation of 0 from N pairs).
    const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED + 6));
    const auto& x = r.ctx();
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    const double n = static_cast<double>(x.p.n);
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const double a = x.d.star_p[i], b = x.p.satisfaction[i];
        sx += a, sy += b, sxx += a * a, syy += b * b, sxy += a * b;
    }
    const double cov = sxy / n - sx * sy / n / n;
    const double corr = cov / std::sqrt((sxx / n - sx * sx / n / n) * (syy / n - sy * sy / n / n));
    CAPTURE(corr);
    CHECK(corr > Z / std::sqrt(n));
    // Scores on their scales.
    for (std::size_t i = 0; i < x.p.n; ++i) {
        REQUIRE(x.p.satisfaction[i] >= 1.0f);
        REQUIRE(x.p.satisfaction[i] <= 7.0f);
        REQUIRE(x.p.qol[i] >= 1.0f);
        REQUIRE(x.p.qol[i] <= 7.0f);
        REQUIRE(x.p.unmet_needs[i] >= 0);
        REQUIRE(x.p.unmet_needs[i] <= 22);
    }
}
