// Families: carer burden, expressed emotion (EE), family support and the family intervention
// (models/family.cpp; support in models/care.cpp).
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
constexpr std::uint32_t SEED = 20240616;  // fixed seed of every run in this file
constexpr std::uint32_t CONVERGE_STEPS = 300;  // steps for burden (10%/week) and EE (5%/week) to reach their targets
constexpr double FLOAT_EPS = 1e-4;

using test::for_blocks;

double binom_tol(double p, double n) { return Z * std::sqrt(p * (1.0 - p) / n); }

using test::baseline;

}  // namespace

TEST_CASE("the share of high-EE families at the start is family.share_high_ee", "[family][statistical]") {
    // Every patient has a family; share within Z binomial SEs.
    for (const double share : {0.5, 0.2}) {
        CAPTURE(share);
        const auto r = test::one_step(test::small_yaml(N_STAT, 1.0, SEED),
                                      {"population.p_family=1", "family.share_high_ee=" + std::to_string(share)});
        const auto high = baseline(r, "family", "high_ee"), ee = baseline(r, "family", "ee");
        double s = 0;
        for (std::size_t j = 0; j < high.size(); ++j) {
            s += high[j];
            REQUIRE(high[j] == (ee[j] >= r.ctx().cfg.family.high_ee_threshold ? 1.0 : 0.0));
        }
        const double n = static_cast<double>(high.size());
        CHECK(n == N_STAT);
        CHECK(std::fabs(s / n - share) < binom_tol(share, n));
    }
}

TEST_CASE("carer burden follows the patient's illness and feeds expressed emotion", "[family]") {
    // Rule-level: half the patients are admitted in a relapse with symptoms 40 above their
    // stable level, the others stable at home. After many steps burden reaches
    // clamp(burden_base + burden_symptoms * excess/40 + burden_inpatient + burden_relapse) = 1.0
    // or burden_base = 0.3, and EE reaches clamp(ee_trait + ee_burden * (burden - burden_base));
    // the high-EE flag follows EE. (Relaxation at 10% and 5% a week: after 300 steps the gaps
    // are below 1e-6.)
    auto r = test::one_step(test::small_yaml(4000, 1.0, SEED + 1), {"population.p_family=1"});
    auto& x = r.ctx();
    const auto& fa = x.cfg.family;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const bool ill = i % 2 == 0;
        x.p.inpatient[i] = ill;
        x.p.relapsed[i] = ill;
        x.p.symptoms[i] = x.p.symptoms_base[i] + (ill ? 40.0f : 0.0f);
    }
    for (std::uint32_t s = 2; s < 2 + CONVERGE_STEPS; ++s) {
        r.world().step = s;
        for_blocks(x.f.n, [&](const sim::Block& b) { models::family_step(x, r.world(), b); });
    }
    std::size_t flipped = 0;
    for (std::size_t j = 0; j < x.f.n; ++j) {
        const auto i = static_cast<std::size_t>(x.f.patient[j]);
        REQUIRE(x.p.family[i] == static_cast<std::int32_t>(j));
        const bool ill = i % 2 == 0;
        const double excess = std::max(0.0f, x.p.symptoms[i] - x.p.symptoms_base[i]) / 40.0;
        const double burden = std::clamp(fa.burden_base + (ill ? fa.burden_symptoms * excess + fa.burden_inpatient + fa.burden_relapse : 0.0), 0.0, 1.0);
        CHECK(x.f.burden[j] == Approx(burden).margin(FLOAT_EPS));
        const double ee = std::clamp(x.f.ee_trait[j] + fa.ee_burden * (burden - fa.burden_base), 0.0, 1.0);
        CHECK(x.f.ee[j] == Approx(ee).margin(FLOAT_EPS));
        CHECK(x.f.high_ee[j] == (x.f.ee[j] >= fa.high_ee_threshold));
        flipped += ill && x.f.ee_trait[j] < fa.high_ee_threshold && x.f.high_ee[j];
    }
    CHECK(flipped > 100);  // burden turns some low-EE families into high-EE ones
}

TEST_CASE("the family intervention lowers expressed emotion", "[family][statistical]") {
    // Offered at 0.2 years to a coverage of 50%: every family that takes it up has its EE trait
    // lowered by exactly ee_reduction (clamped at 0), the others keep theirs; the share taking
    // it up is within Z binomial SEs of the coverage. Against the same scenario without the
    // intervention (same seed, so the same families and draws), the treated families' EE at
    // one year is lower by more than Z SEs of the paired difference, and the share of high-EE
    // families is lower.
    const std::vector<std::string> common = {"population.p_family=1"};
    auto with = common;
    with.insert(with.end(), {"family.intervention.enabled=true", "family.intervention.start_year=0.2",
                             "family.intervention.coverage=0.5", "family.intervention.ee_reduction=0.2"});
    const auto treated = test::run(test::small_yaml(N_STAT, 1.0, SEED + 2), with);
    const auto control = test::run(test::small_yaml(N_STAT, 1.0, SEED + 2), common);
    const auto &xt = treated.ctx(), &xc = control.ctx();
    const auto ee0 = baseline(treated, "family", "ee");
    REQUIRE(xt.f.n == xc.f.n);
    double took = 0, d = 0, d2 = 0;
    for (std::size_t j = 0; j < xt.f.n; ++j) {
        CHECK(xc.f.ee_trait[j] == Approx(ee0[j]).margin(1e-7));  // traits never change without the intervention
        if (xt.f.intervention[j]) {
            took += 1;
            CHECK(xt.f.ee_trait[j] == Approx(std::max(0.0, ee0[j] - 0.2)).margin(1e-6));
            const double diff = xt.f.ee[j] - xc.f.ee[j];
            d += diff, d2 += diff * diff;
        } else {
            CHECK(xt.f.ee_trait[j] == Approx(ee0[j]).margin(1e-7));
        }
        CHECK(xc.f.intervention[j] == 0);
    }
    const double n = static_cast<double>(xt.f.n);
    CHECK(std::fabs(took / n - 0.5) < binom_tol(0.5, n));
    const double mean = d / took, se = std::sqrt((d2 / took - mean * mean) / took);
    CAPTURE(mean, se);
    CHECK(mean < -Z * se);
    const auto last = treated.world().n_steps;
    CHECK(treated.national("share_high_ee", last) < control.national("share_high_ee", last));
}

TEST_CASE("family support raises adherence and protects against disengagement", "[family][care][statistical]") {
    // Adherence class score (exact): family support adds family_effect * support_eff, with
    // support_eff = support * (1 - support_loss_burden * burden) (0 without a family).
    // Disengagement (statistical): at STAR-P = threshold - 3 widths (weekly risk 0.0286 without a
    // family), full support and no burden lower the risk by family_protection (to 0.0200);
    // 10 steps of 20,000 patients, about half with a family; each group within Z binomial SEs.
    auto r = test::one_step(test::small_yaml(N_STAT, 1.0, SEED + 3),
                            {"population.p_family=0.5", "engagement.rel_young=1", "engagement.rel_male=1",
                             "engagement.rel_after_discharge=1", "engagement.rel_early=1"});
    auto& x = r.ctx();
    const auto& a = x.cfg.adherence;
    const auto& fa = x.cfg.family;
    const auto& e = x.cfg.engagement;
    std::size_t checked = 0;
    for (std::size_t i = 0; i < x.p.n && checked < 500; ++i) {
        const std::int32_t fam = x.p.family[i];
        if (fam < 0) continue;
        x.d.star_p[i] = x.d.star_latent[i] = 2.6f;
        x.p.insight[i] = 0;
        x.f.burden[fam] = 0.4f;
        const double with_family = models::adherence_score(x, i);
        const double support = x.f.support[fam] * (1 - fa.support_loss_burden * 0.4);
        CHECK(with_family == Approx(a.slope * (2.6 - a.threshold) + a.family_effect * support).margin(1e-5));
        x.p.family[i] = -1;
        const double without = models::adherence_score(x, i);
        x.p.family[i] = fam;
        CHECK(without == Approx(0.0).margin(1e-5));
        CHECK((with_family > without) == (support > 0));
        ++checked;
    }
    // Disengagement.
    for (std::size_t j = 0; j < x.f.n; ++j) x.f.support[j] = 1.0f, x.f.burden[j] = 0.0f;
    const auto star = static_cast<float>(e.threshold - 3 * e.width);
    double out[2] = {0, 0}, trials[2] = {0, 0};
    for (std::uint32_t s = 2; s < 12; ++s) {
        for (std::size_t i = 0; i < x.p.n; ++i) {
            x.p.engaged[i] = 1;
            x.p.inpatient[i] = 0;
            x.p.ti_discharged[i] = -100000;
            x.d.star_p[i] = star;
        }
        r.world().step = s;
        for_blocks(x.p.n, [&](const sim::Block& b) { models::engagement_step(x, r.world(), b); });
        for (std::size_t i = 0; i < x.p.n; ++i) {
            const int has = x.p.family[i] >= 0;
            out[has] += 1 - x.p.engaged[i];
            trials[has] += 1;
        }
    }
    const double p0 = e.p_week_max / (1 + std::exp(-3.0)), p1 = p0 * (1 - e.family_protection);
    CAPTURE(out[0] / trials[0], p0, out[1] / trials[1], p1);
    CHECK(std::fabs(out[0] / trials[0] - p0) < binom_tol(p0, trials[0]));
    CHECK(std::fabs(out[1] / trials[1] - p1) < binom_tol(p1, trials[1]));
}
