// Change: relapse, admission (voluntary or involuntary), length of stay and symptoms
// (models/illness.cpp), and the mechanism switch (basis / therapy in itself / mixture).
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
constexpr int N_STAT = 20000;             // patients in statistical runs
constexpr std::uint32_t SEED = 20240611;  // fixed seed of every run in this file
constexpr double WEEK = 7.0;              // days per step of the test scenarios

/// Calls a patient rule block by block, as the engine does (a block is at most BLOCK_SIZE rows).
using test::for_blocks;

std::string num(double v) { return std::to_string(v); }

/// Overrides that hold every patient's adherence at @p a from the first step on.
std::vector<std::string> pin_adherence(double a) {
    return {"adherence.floor=" + num(a),           "adherence.ceiling=" + num(a), "adherence.disengaged_level=" + num(a),
            "adherence.inpatient_level=" + num(a), "adherence.noise_sd=0",        "adherence.rate=1"};
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// Binomial tolerance: Z standard errors of a share p estimated from n trials.
double binom_tol(double p, double n) { return Z * std::sqrt(p * (1.0 - p) / n); }

/// Probability of at least one event in @p steps weekly steps when the yearly probability is @p p_year.
double risk_over_steps(double p_year, double steps) { return 1.0 - std::pow(1.0 - p_year, steps * WEEK / 365.25); }

using test::baseline;

/// Least-squares slope of y on x with its standard error.
struct Fit {
    double slope, se;
};
Fit ols(const std::vector<double>& x, const std::vector<double>& y) {
    const double n = static_cast<double>(x.size());
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
    mx /= n, my /= n;
    double sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    const double b = sxy / sxx;
    double rss = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double e = y[i] - my - b * (x[i] - mx);
        rss += e * e;
    }
    return {b, std::sqrt(rss / (n - 2) / sxx)};
}

/// Puts every patient into a community relapse with the given coercion-related state, ready
/// for illness_step to admit them (with admission.p_per_week_in_relapse=1).
void prepare_relapse(models::Ctx& x, std::int32_t past_involuntary, bool engaged, double star_offset) {
    const auto star = static_cast<float>(x.cfg.mechanism.star_reference + star_offset);
    for (std::size_t i = 0; i < x.p.n; ++i) {
        x.p.relapsed[i] = 1;
        x.p.inpatient[i] = 0;
        x.p.involuntary[i] = 0;
        x.p.days_to_discharge[i] = 0;
        x.p.engaged[i] = engaged;
        x.p.n_involuntary[i] = past_involuntary;
        x.p.events[i] = 0;
        x.d.star_p[i] = star;
    }
}

/// Share of admissions that were involuntary after one illness_step at @p step.
double involuntary_share(test::Run& r, std::uint32_t step) {
    auto& x = r.ctx();
    r.world().step = step;
    for_blocks(x.p.n, [&](const sim::Block& b) { models::illness_step(x, r.world(), b); });
    double admitted = 0, involuntary = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        admitted += x.p.inpatient[i];
        involuntary += (x.p.events[i] & models::event::ADMIT_INVOLUNTARY) != 0;
    }
    REQUIRE(admitted == static_cast<double>(x.p.n));  // p_per_week_in_relapse = 1 admits everyone
    return involuntary / admitted;
}

double odds_to_p(double odds) { return odds / (1.0 + odds); }

}  // namespace

TEST_CASE("one-year relapse risk at full and at no adherence matches Leucht et al. (2012)", "[illness][statistical]") {
    // Adherence pinned at 1 (or 0) from step 1, no families (no expressed emotion), nobody in
    // relapse at the start. The share of patients with at least one relapse in 52 weekly steps
    // (364 days) is Binomial(N, 1 - (1 - p_year)^(364/365.25)); tolerance Z binomial SEs
    // (about 0.013 for N = 20000).
    const std::vector<std::string> common = {"population.p_family=0", "relapse.prevalence_at_start=0"};
    struct Case {
        double adherence, p_year;
    };
    for (const Case c : {Case{1.0, 0.27}, Case{0.0, 0.64}}) {
        CAPTURE(c.adherence);
        const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED), plus(common, pin_adherence(c.adherence)));
        const auto& x = r.ctx();
        const double steps = static_cast<double>(r.world().n_steps);
        REQUIRE(steps == 52);
        double relapsed = 0;
        for (std::size_t i = 0; i < x.p.n; ++i) relapsed += x.p.n_relapses[i] > 0;
        const double share = relapsed / static_cast<double>(x.p.n);
        const double expected = risk_over_steps(c.p_year, steps);
        CAPTURE(share, expected);
        CHECK(std::fabs(share - expected) < binom_tol(expected, static_cast<double>(x.p.n)));
    }
}

TEST_CASE("relapse risk is log-linear in adherence between the on- and off-medication risks", "[illness][statistical]") {
    // At adherence 0.5 the hazard is the geometric mean of the on and off hazards,
    // sqrt(-ln 0.73 * -ln 0.36) = 0.567 a year, so the risk over 364 days is 0.432 (the
    // arithmetic mean of the hazards would give 0.486); same tolerance as above.
    const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED + 1),
                             plus({"population.p_family=0", "relapse.prevalence_at_start=0"}, pin_adherence(0.5)));
    const auto& x = r.ctx();
    double relapsed = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) relapsed += x.p.n_relapses[i] > 0;
    const double share = relapsed / static_cast<double>(x.p.n);
    const double h_year = std::sqrt(std::log(1 - 0.27) * std::log(1 - 0.64));
    const double expected = 1.0 - std::exp(-h_year * 52 * WEEK / 365.25);
    CAPTURE(share, expected);
    CHECK(std::fabs(share - expected) < binom_tol(expected, static_cast<double>(x.p.n)));
}

TEST_CASE("diagnosis groups scale the relapse hazard by relapse.rel_diagnosis", "[illness][statistical]") {
    // Adherence pinned at 1, no families; bipolar patients at twice and severe depression at half
    // the schizophrenia-spectrum hazard. Each group's one-year risk within Z binomial SEs of
    // 1 - exp(-h_on * 364 days * multiplier) (groups of 3,000 to 10,000 patients).
    const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED + 10),
                             plus({"population.p_family=0", "relapse.prevalence_at_start=0", "relapse.rel_diagnosis.bipolar=2",
                                   "relapse.rel_diagnosis.severe_depression=0.5"},
                                  pin_adherence(1.0)));
    const auto& x = r.ctx();
    const double cum_on = -std::log(1.0 - 0.27) * 52 * WEEK / 365.25;
    const double mult[3] = {1.0, 2.0, 0.5};  // schizophrenia spectrum, bipolar, severe depression
    for (std::uint8_t dx = 0; dx < 3; ++dx) {
        double n = 0, relapsed = 0;
        for (std::size_t i = 0; i < x.p.n; ++i)
            if (x.p.diagnosis[i] == dx) n += 1, relapsed += x.p.n_relapses[i] > 0;
        const double expected = 1.0 - std::exp(-cum_on * mult[dx]);
        CAPTURE(+dx, n, relapsed / n, expected);
        CHECK(n > 2000);
        CHECK(std::fabs(relapsed / n - expected) < binom_tol(expected, n));
    }
}

TEST_CASE("high expressed-emotion families relapse more than low ones, with the configured hazard ratio",
          "[illness][family][statistical]") {
    // Every patient has a family; EE stays at its drawn trait (family.ee_burden=0), so each
    // family stays high or low all year; adherence pinned at 1. The model scales the hazard by
    // rel_high = hr * rel_low in high-EE and rel_low = 1/(s*hr + 1 - s) in low-EE families, so
    // the average multiplier is 1. Checks: each group's one-year risk within Z binomial SEs of
    // 1 - exp(-h_on * 364 * multiplier), and the ratio of the groups' cumulative hazards
    // -ln(1 - risk) within Z delta-method SEs of relapse.rel_high_ee (2.94, Butzlaff & Hooley 1998).
    const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED + 2),
                             plus({"population.p_family=1", "family.ee_burden=0", "relapse.prevalence_at_start=0"},
                                  pin_adherence(1.0)));
    const auto& x = r.ctx();
    const double hr = x.cfg.relapse.rel_high_ee, s = x.cfg.family.share_high_ee;
    REQUIRE(hr == Approx(2.94));
    const double rel_low = 1.0 / (s * hr + 1.0 - s), rel_high = hr * rel_low;
    const double cum_on = -std::log(1.0 - 0.27) * 52 * WEEK / 365.25;  // cumulative hazard over the run at adherence 1
    double n[2] = {0, 0}, relapsed[2] = {0, 0};
    for (std::size_t i = 0; i < x.p.n; ++i) {
        REQUIRE(x.p.family[i] >= 0);
        const int high = x.f.high_ee[static_cast<std::size_t>(x.p.family[i])];
        n[high] += 1;
        relapsed[high] += x.p.n_relapses[i] > 0;
    }
    const double risk_low = relapsed[0] / n[0], risk_high = relapsed[1] / n[1];
    const double exp_low = 1.0 - std::exp(-cum_on * rel_low), exp_high = 1.0 - std::exp(-cum_on * rel_high);
    CAPTURE(n[0], n[1], risk_low, exp_low, risk_high, exp_high);
    CHECK(std::fabs(risk_low - exp_low) < binom_tol(exp_low, n[0]));
    CHECK(std::fabs(risk_high - exp_high) < binom_tol(exp_high, n[1]));
    const double ratio = std::log(1.0 - risk_high) / std::log(1.0 - risk_low);
    // var(-ln(1 - p_hat)) = p / ((1 - p) n); relative variances add for a ratio.
    const double rel_se = std::sqrt(exp_low / ((1 - exp_low) * n[0]) / std::pow(cum_on * rel_low, 2) +
                                    exp_high / ((1 - exp_high) * n[1]) / std::pow(cum_on * rel_high, 2));
    CAPTURE(ratio, rel_se);
    CHECK(std::fabs(ratio / hr - 1.0) < Z * rel_se);
}

TEST_CASE("the share of involuntary admissions follows admission.share_involuntary and the odds ratios",
          "[illness][admission][statistical]") {
    // Every patient is put into a community relapse and admitted (p_per_week_in_relapse = 1).
    // An engaged patient without past coercion at STAR-P = star_reference in a region of
    // average coercion is involuntary with probability share_involuntary; past coercion,
    // disengagement and each STAR-P point above the reference multiply the odds by
    // or_involuntary_history (2), or_involuntary_disengaged (2) and or_involuntary_per_star (0.7).
    // Each condition uses a fresh step (fresh draws); tolerance Z binomial SEs (N = 20000, ~0.014).
    for (const double share : {0.1, 0.3, 0.6}) {
        CAPTURE(share);
        auto r = test::one_step(test::small_yaml(N_STAT, 1.0, SEED + 3),
                                {"admission.p_per_week_in_relapse=1", "admission.share_involuntary=" + num(share)});
        auto& x = r.ctx();
        const double n = static_cast<double>(x.p.n), odds = share / (1 - share);
        struct Case {
            const char* what;
            std::int32_t past;
            bool engaged;
            double star;
            double expected;
        };
        const Case cases[] = {
            {"reference", 0, true, 0.0, share},
            {"past involuntary admission", 1, true, 0.0, odds_to_p(odds * x.cfg.admission.or_involuntary_history)},
            {"disengaged", 0, false, 0.0, odds_to_p(odds * x.cfg.admission.or_involuntary_disengaged)},
            {"one STAR point better", 0, true, 1.0, odds_to_p(odds * x.cfg.admission.or_involuntary_per_star)},
        };
        std::uint32_t step = 2;
        for (const Case& c : cases) {
            CAPTURE(c.what);
            prepare_relapse(x, c.past, c.engaged, c.star);
            const double got = involuntary_share(r, step++);
            CAPTURE(got, c.expected);
            CHECK(std::fabs(got - c.expected) < binom_tol(c.expected, n));
        }
    }
}

TEST_CASE("a past involuntary admission raises the share of involuntary admissions in a run", "[illness][admission][statistical]") {
    // Coercion history is a patient trait at the start (p_coercion_history); over a year, the
    // share of admissions that are involuntary must be higher among patients with a history
    // (odds ratio 2). Two-sample test of proportions at Z standard errors.
    const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED + 4));
    const auto& x = r.ctx();
    const auto history = baseline(r, "patient", "n_involuntary");
    double adm[2] = {0, 0}, inv[2] = {0, 0};
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const int h = history[i] > 0;
        adm[h] += x.p.n_admissions_voluntary[i] + x.p.n_admissions_involuntary[i];
        inv[h] += x.p.n_admissions_involuntary[i];
    }
    const double p0 = inv[0] / adm[0], p1 = inv[1] / adm[1];
    const double se = std::sqrt(p0 * (1 - p0) / adm[0] + p1 * (1 - p1) / adm[1]);
    CAPTURE(adm[0], adm[1], p0, p1, se);
    CHECK(p1 - p0 > Z * se);
}

TEST_CASE("with default parameters about 40% of admissions are involuntary (NHS Benchmarking 2018/19)",
          "[illness][admission][calibration]") {
    // Calibration target 0.40 (targets file: inpatient.share_of_admissions_under_mental_health_act).
    // The parameter note promises an overall share 'near 0.40'; tolerance 0.05, of which about
    // 0.03 is Z binomial SEs for the ~4,000 admissions of 20,000 patients in a year, the rest
    // allowance for the calibration being approximate.
    const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED + 5));
    double vol = 0, inv = 0;
    for (std::size_t s = 1; s <= r.world().n_steps; ++s) {
        vol += r.national("admissions_voluntary", s);
        inv += r.national("admissions_involuntary", s);
    }
    const double share = inv / (vol + inv);
    CAPTURE(vol, inv, share);
    CHECK(vol + inv > 1000);
    CHECK(std::fabs(share - 0.40) < 0.05);
}

TEST_CASE("length of stay has mean admission.los_mean_days and involuntary stays are longer by the configured ratio",
          "[illness][admission][statistical]") {
    // Admissions drawn as in the share test (reference condition, so the involuntary share is
    // exactly share_involuntary = 0.3; los_split_share is set to the same 0.3, so the mean stay
    // over both kinds is los_mean_days). Stays are gamma (shape 1.5) with mean 33 days overall;
    // their SD is about 28 days, so the SE of the mean of 20,000 stays is 0.2 days: tolerance Z
    // SEs computed from the sample. The ratio of involuntary to voluntary means (1.5) has a
    // relative SE of about 1.3%; tolerance Z of them.
    auto r = test::one_step(test::small_yaml(N_STAT, 1.0, SEED + 6),
                            {"admission.p_per_week_in_relapse=1", "admission.los_split_share=0.3"});
    auto& x = r.ctx();
    prepare_relapse(x, 0, true, 0.0);
    const std::vector<float> bed_days_before(x.p.bed_days, x.p.bed_days + x.p.n);
    (void)involuntary_share(r, 2);
    std::vector<double> los(x.p.n);
    double sum[2] = {0, 0}, sum2[2] = {0, 0}, n[2] = {0, 0};
    for (std::size_t i = 0; i < x.p.n; ++i) {
        los[i] = x.p.days_to_discharge[i];
        const int inv = x.p.involuntary[i];
        sum[inv] += los[i], sum2[inv] += los[i] * los[i], n[inv] += 1;
    }
    const double n_all = n[0] + n[1], mean = (sum[0] + sum[1]) / n_all;
    const double sd = std::sqrt((sum2[0] + sum2[1]) / n_all - mean * mean);
    CAPTURE(mean, sd);
    CHECK(std::fabs(mean - x.cfg.admission.los_mean_days) < Z * sd / std::sqrt(n_all));
    const double m0 = sum[0] / n[0], m1 = sum[1] / n[1];
    const double v0 = sum2[0] / n[0] - m0 * m0, v1 = sum2[1] / n[1] - m1 * m1;
    const double rel_se = std::sqrt(v0 / (n[0] * m0 * m0) + v1 / (n[1] * m1 * m1));
    CAPTURE(m0, m1, rel_se);
    CHECK(std::fabs((m1 / m0) / x.cfg.admission.rel_los_involuntary - 1.0) < Z * rel_se);

    SECTION("each stay is counted in full as bed-days by the time of discharge") {
        // Exact accounting: bed-days accrue min(7, days left) per step, so at discharge they
        // equal the drawn stay (float sums over up to ~100 steps: tolerance 1e-3 days).
        std::vector<int> done(x.p.n, 0);
        std::size_t left = x.p.n;
        for (std::uint32_t step = 3; step < 400 && left > 0; ++step) {
            for (std::size_t i = 0; i < x.p.n; ++i) x.p.events[i] = 0;
            r.world().step = step;
            for_blocks(x.p.n, [&](const sim::Block& b) { models::illness_step(x, r.world(), b); });
            for (std::size_t i = 0; i < x.p.n; ++i) {
                if (done[i] || !(x.p.events[i] & models::event::DISCHARGE)) continue;
                done[i] = 1;
                --left;
                CHECK(std::fabs((x.p.bed_days[i] - bed_days_before[i]) - los[i]) < 1e-3 * std::max(1.0, los[i] / 10));
                CHECK(x.p.inpatient[i] == 0);
                CHECK(x.p.relapsed[i] == 0);
                CHECK(x.p.ti_discharged[i] == static_cast<std::int32_t>(step));
            }
        }
        CHECK(left == 0);
    }
}

TEST_CASE("symptoms move towards a target raised by relapse and by missed treatment", "[illness]") {
    // Deterministic (symptoms.noise_sd = 0, hypothesis basis): one step moves symptoms by
    // r * (target - symptoms) with r = symptoms.recovery_rate per week and target = stable
    // level + relapse_increase * relapsed + nonadherence_increase * (1 - adherence).
    auto r = test::one_step(test::small_yaml(4000, 1.0, SEED + 7),
                            {"symptoms.noise_sd=0", "mechanism.hypothesis=basis", "admission.p_per_week_in_relapse=0"});
    auto& x = r.ctx();
    const auto& sy = x.cfg.symptoms;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        x.p.inpatient[i] = 0;
        x.p.relapsed[i] = i % 2;
        x.p.adherence[i] = static_cast<float>(static_cast<double>(i % 5) / 4.0);
        x.p.symptoms[i] = x.p.symptoms_base[i];
        x.p.events[i] = 0;
    }
    const std::vector<std::uint8_t> relapsed_before(x.p.relapsed, x.p.relapsed + x.p.n);
    r.world().step = 2;
    for_blocks(x.p.n, [&](const sim::Block& b) { models::illness_step(x, r.world(), b); });
    std::size_t checked = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        if (x.p.relapsed[i] != relapsed_before[i]) continue;  // remitted or relapsed during the step
        const double target = x.p.symptoms_base[i] + sy.relapse_increase * x.p.relapsed[i] +
                              sy.nonadherence_increase * (1.0 - x.p.adherence[i]);
        const double base = x.p.symptoms_base[i];
        if (target > 125.9 || base < 18.1) continue;  // clamped at the scale's ends
        const double expected = base + sy.recovery_rate * (target - base);
        CHECK(x.p.symptoms[i] == Approx(expected).margin(1e-3));
        ++checked;
    }
    CHECK(checked > 3000);
}

TEST_CASE("the mechanism switch: only the direct path lets STAR-P move symptoms within a step", "[illness][mechanism]") {
    // Deterministic rule check: patients stable, fully adherent, symptoms at their stable level,
    // STAR-P set to star_reference + delta. One step moves symptoms by
    // -r * w * symptom_effect * delta, with w = 0 (basis), 1 (therapy_in_itself) or
    // direct_weight (mixture, default 0.5). Patients who relapse during the step are skipped.
    struct Case {
        const char* hypothesis;
        double weight;
    };
    for (const Case c : {Case{"basis", 0.0}, Case{"therapy_in_itself", 1.0}, Case{"mixture", 0.5}}) {
        CAPTURE(c.hypothesis);
        auto r = test::one_step(test::small_yaml(3000, 1.0, SEED + 8),
                                {"symptoms.noise_sd=0", std::string("mechanism.hypothesis=") + c.hypothesis});
        auto& x = r.ctx();
        const double ref = x.cfg.mechanism.star_reference, effect = x.cfg.mechanism.symptom_effect;
        for (std::size_t i = 0; i < x.p.n; ++i) {
            x.p.inpatient[i] = 0;
            x.p.relapsed[i] = 0;
            x.p.adherence[i] = 1.0f;
            x.p.symptoms[i] = x.p.symptoms_base[i];
            x.p.events[i] = 0;
            x.d.star_p[i] = static_cast<float>(ref - 2.0 + 3.0 * static_cast<double>(i % 100) / 99.0);
        }
        r.world().step = 2;
        for_blocks(x.p.n, [&](const sim::Block& b) { models::illness_step(x, r.world(), b); });
        std::size_t checked = 0;
        for (std::size_t i = 0; i < x.p.n; ++i) {
            if (x.p.relapsed[i] || x.p.symptoms_base[i] < 25 || x.p.symptoms_base[i] > 110) continue;  // away from the clamps
            const double delta = x.d.star_p[i] - ref;
            const double expected = -x.cfg.symptoms.recovery_rate * c.weight * effect * delta;
            CHECK(x.p.symptoms[i] - x.p.symptoms_base[i] == Approx(expected).margin(1e-3));
            ++checked;
        }
        CHECK(checked > 2000);
    }
}

TEST_CASE("the mechanism switch in a run: STAR-P predicts symptom change only when the relationship is therapy in itself",
          "[illness][mechanism][statistical]") {
    // Engagement and adherence are pinned (nobody disengages; adherence 0.7 everywhere), there
    // are no families, no turnover, and every path from symptoms or admissions back to the
    // relationship is cut (symptom strain, coercion damage, the STAR effect on involuntary
    // admission, continuity growth). Then under 'basis' symptom change over a year is
    // independent of STAR-P: the OLS slope of (final - baseline symptoms) on final STAR-P must
    // lie within Z of its standard error of 0. Under 'therapy_in_itself' the symptom target
    // moves by -symptom_effect per STAR point, and symptoms (recovery 0.25/week) reach it within
    // the year, so the slope is -symptom_effect attenuated only by STAR-P's small week-to-week
    // noise: accepted within 10% + Z SEs. 'mixture' with weight 0.5 gives half that slope.
    const std::vector<std::string> isolate = plus(
        {"engagement.p_week_max=0", "engagement.p_disengaged_at_start=0", "population.p_family=0",
         "clinicians.turnover_per_year=0", "relationship.symptom_strain=0", "admission.coercion_damage=0",
         "admission.or_involuntary_per_star=1", "relationship.continuity_gain=0"},
        pin_adherence(0.7));
    auto slope_for = [&](const std::string& hypothesis) {
        const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED + 9), plus(isolate, {"mechanism.hypothesis=" + hypothesis}));
        const auto& x = r.ctx();
        const auto start = baseline(r, "patient", "symptoms");
        std::vector<double> star(x.p.n), change(x.p.n);
        for (std::size_t i = 0; i < x.p.n; ++i) {
            star[i] = x.d.star_p[i];
            change[i] = x.p.symptoms[i] - start[i];
        }
        return ols(star, change);
    };
    const double effect = 3.0;  // mechanism.symptom_effect default
    const Fit basis = slope_for("basis");
    CAPTURE(basis.slope, basis.se);
    CHECK(std::fabs(basis.slope) < Z * basis.se);
    const Fit direct = slope_for("therapy_in_itself");
    CAPTURE(direct.slope, direct.se);
    CHECK(std::fabs(direct.slope + effect) < 0.1 * effect + Z * direct.se);
    const Fit mixed = slope_for("mixture");
    CAPTURE(mixed.slope, mixed.se);
    CHECK(std::fabs(mixed.slope + 0.5 * effect) < 0.1 * 0.5 * effect + Z * mixed.se);
}

namespace {

/// Runs @p yaml step by step with the model's phases (serially, block by block, as the engine
/// fuses them) and calls @p after_step(ctx) after each step.
template <class F> void step_through(const std::string& yaml, const std::vector<std::string>& overrides, F after_step) {
    const sim::Scenario sc = test::scenario(yaml, overrides);
    models::TherasimModel model;
    sim::preflight(model, sc);
    sim::World w(test::schema(), sc);
    model.init(w);
    std::size_t rows = 0;
    for (const auto& t : w.tables()) rows = std::max(rows, t.size());
    w.series.init(test::schema(), w.n_groups(), w.n_steps, (rows + sim::BLOCK_SIZE - 1) / sim::BLOCK_SIZE);
    const auto phases = model.phases();
    for (w.step = 1; w.step <= w.n_steps; ++w.step) {
        for (const auto& p : phases) {
            if (p.agent_type.empty()) {
                p.serial(w);
                continue;
            }
            for_blocks(w.agents(p.agent_type).size(), [&](const sim::Block& b) {
                for (const auto& k : p.kernels) k.fn(w, b);
            });
        }
        w.series.commit(w.step);
        after_step(model.context());
    }
}

}  // namespace

TEST_CASE("in a default run admissions last admission.los_mean_days on average", "[illness][admission][statistical]") {
    // BUG (models/therasim_model.cpp, make_rates): the voluntary length-of-stay scale is solved
    // as los_mean_days / (1 + share_involuntary * (rel_los_involuntary - 1)), i.e. with the
    // involuntary share of the *reference* patient (0.30). In a run the realised share is about
    // 0.40 (past coercion, disengagement and poor relationships raise the odds, as intended), so
    // the mean stay is 28.7 * (1 + 0.40 * 0.5) = 34.4 days, not the 33 days that
    // admission.los_mean_days (NHS Benchmarking) and the documentation of
    // admission.rel_los_involuntary ("the overall mean stays admission.los_mean_days") promise.
    // Measured: the drawn stay of every admission of 40,000 patients over 2 years (~17,000
    // admissions, SD ~28 days): tolerance Z SEs of the mean (about 0.9 days).
    double n = 0, sum = 0, sum2 = 0, involuntary = 0;
    step_through(test::small_yaml(40000, 2.0, SEED + 11), {}, [&](models::Ctx& x) {
        for (std::size_t i = 0; i < x.p.n; ++i) {
            const std::uint8_t ev = x.p.events[i];
            if (!(ev & (models::event::ADMIT_VOLUNTARY | models::event::ADMIT_INVOLUNTARY))) continue;
            const double los = x.p.days_to_discharge[i];
            n += 1, sum += los, sum2 += los * los;
            involuntary += (ev & models::event::ADMIT_INVOLUNTARY) != 0;
        }
    });
    const double mean = sum / n, se = std::sqrt((sum2 / n - mean * mean) / n);
    CAPTURE(n, involuntary / n, mean, se);
    CHECK(std::fabs(mean - 33.0) < Z * se);
}
