// The service structure and the population at step 0 (models/population.cpp): regions,
// trusts, teams, posts and caseloads; patient and family traits; matching of preferences.
//
// Statistical checks use fixed seeds and a tolerance of Z standard errors; with Z = 4 a
// correct model fails a given check with probability about 6e-5.

#include "models/components.hpp"
#include "sim/errors.hpp"
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr double Z = 4.0;                 // tolerance in standard errors
constexpr int N_STAT = 20000;             // patients in statistical checks
constexpr std::uint32_t SEED = 20240614;  // fixed seed of every run in this file
constexpr double SHARES[3] = {0.5, 0.3, 0.2};

/// Three regions of unequal size; @p extra is appended to the structure section.
std::string three_regions(int n_patients, const std::string& extra = "", std::uint32_t seed = SEED) {
    // No burn-in: the tests here check the population as drawn.
    return "seed: " + std::to_string(seed) + "\ntime: {burn_in_weeks: 0}\npopulation: {n_patients: " + std::to_string(n_patients) +
           "}\n"
           "structure:\n  team_size: 5\n" +
           extra +
           "  regions:\n"
           "    - {name: Big, share: 0.5, n_trusts: 3}\n"
           "    - {name: Middle, share: 0.3, n_trusts: 2}\n"
           "    - {name: Small, share: 0.2, n_trusts: 1}\n";
}

double binom_tol(double p, double n) { return Z * std::sqrt(p * (1.0 - p) / n); }

using test::baseline;

/// Checks the structure invariants of a run: caseloads, team membership, regions.
void check_structure(const test::Run& r, double caseload_max) {
    const auto& x = r.ctx();
    std::vector<std::int32_t> count(x.c.n, 0);
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const auto post = static_cast<std::size_t>(x.p.clinician[i]);
        REQUIRE(post < x.c.n);
        ++count[post];
        // A patient's care coordinator works in the patient's team, which is in the patient's region.
        REQUIRE(x.c.team[post] == x.p.team[i]);
        REQUIRE(x.team.region[static_cast<std::size_t>(x.p.team[i])] == x.p.region[i]);
    }
    long long total = 0;
    for (std::size_t post = 0; post < x.c.n; ++post) {
        CHECK(x.c.caseload[post] == count[post]);
        CHECK(x.c.caseload[post] <= caseload_max);
        total += x.c.caseload[post];
    }
    CHECK(total == static_cast<long long>(x.p.n));
    // Within a team, caseloads differ by at most one patient.
    for (std::size_t t = 0; t < x.team.n; ++t) {
        std::int32_t lo = 1 << 30, hi = -1;
        for (std::size_t post = 0; post < x.c.n; ++post)
            if (x.c.team[post] == static_cast<std::int32_t>(t)) lo = std::min(lo, count[post]), hi = std::max(hi, count[post]);
        CHECK(hi - lo <= 1);
    }
    // Trusts belong to their team's region.
    for (std::size_t t = 0; t < x.team.n; ++t)
        CHECK(x.trust.region[static_cast<std::size_t>(x.team.trust[t])] == x.team.region[t]);
}

}  // namespace

TEST_CASE("caseloads respect structure.caseload_max and patients per region follow the shares", "[population][structure]") {
    for (const int n : {7000, 333}) {
        for (const bool match : {false, true}) {
            CAPTURE(n, match);
            const auto r = test::one_step(three_regions(n, match ? "  match_preferences: true\n" : ""));
            const auto& x = r.ctx();
            check_structure(r, x.cfg.structure.caseload_max);
            // Posts: at least enough for the mean caseload.
            CHECK(static_cast<double>(x.c.n) >= std::ceil(n / x.cfg.structure.caseload_mean));
            // Patients per region: the shares, rounded (largest remainder: within one patient).
            std::vector<double> per_region(3, 0);
            for (std::size_t i = 0; i < x.p.n; ++i) per_region[static_cast<std::size_t>(x.p.region[i])] += 1;
            for (std::size_t reg = 0; reg < 3; ++reg) CHECK(std::fabs(per_region[reg] - SHARES[reg] * n) <= 1.0);
            // Trusts per region as declared.
            std::vector<int> trusts(3, 0);
            for (std::size_t t = 0; t < x.trust.n; ++t) ++trusts[static_cast<std::size_t>(x.trust.region[t])];
            CHECK(trusts == std::vector<int>{3, 2, 1});
        }
    }
}

TEST_CASE("a tight caseload limit is respected", "[population][structure]") {
    const auto r = test::one_step(three_regions(7000, "  caseload_mean: 35\n  caseload_max: 35\n"));
    check_structure(r, 35);
}

TEST_CASE("an impossible structure is refused before the run with the key to blame", "[population][structure]") {
    // 1000 patients cannot go to 10 posts of at most 40.
    try {
        (void)test::run(three_regions(1000, "  n_clinicians: 10\n"));
        FAIL("the scenario was accepted");
    } catch (const sim::InconsistentScenario& e) {
        CHECK(e.key() == "structure.n_clinicians");
    }
    // A region with more trusts than posts is refused too.
    CHECK_THROWS_AS(test::run(three_regions(30, "  n_clinicians: 3\n")), sim::InconsistentScenario);
}

TEST_CASE("patient traits at the start follow their parameters", "[population][statistical]") {
    // Shares of 20,000 patients within Z binomial SEs of the parameter (about 0.014 at p = 0.5).
    // The age mean allows for the clamp to 18-90 (E[clamp(X)] for X ~ N(44, 13)) within Z SEs.
    const auto r = test::one_step(three_regions(N_STAT));
    const auto& x = r.ctx();
    const auto& po = x.cfg.population;
    const double n = static_cast<double>(x.p.n);
    double male = 0, family = 0, negative = 0, history = 0, age = 0, age2 = 0, needs = 0, relapsed = 0, inpatient = 0,
           disengaged = 0;
    std::vector<double> dx(5, 0);
    const auto inv0 = baseline(r, "patient", "n_involuntary"), needs0 = baseline(r, "patient", "unmet_needs"),
               relapsed0 = baseline(r, "patient", "relapsed"), inpatient0 = baseline(r, "patient", "inpatient"),
               engaged0 = baseline(r, "patient", "engaged");
    for (std::size_t i = 0; i < x.p.n; ++i) {
        male += x.p.male[i];
        family += x.p.family[i] >= 0;
        negative += x.p.negative_experiences[i];
        history += inv0[i] > 0;
        age += x.p.age[i], age2 += x.p.age[i] * x.p.age[i];
        dx[x.p.diagnosis[i]] += 1;
        needs += needs0[i];
        relapsed += relapsed0[i];
        inpatient += inpatient0[i];
        disengaged += 1 - engaged0[i];
        REQUIRE(x.p.age[i] >= 18.0f);
        REQUIRE(x.p.age[i] <= 90.0f);
    }
    CHECK(std::fabs(male / n - po.p_male) < binom_tol(po.p_male, n));
    CHECK(std::fabs(family / n - po.p_family) < binom_tol(po.p_family, n));
    CHECK(std::fabs(negative / n - po.p_negative_experiences) < binom_tol(po.p_negative_experiences, n));
    CHECK(std::fabs(history / n - po.p_coercion_history) < binom_tol(po.p_coercion_history, n));
    for (std::size_t k = 0; k < 5; ++k) {
        CAPTURE(k);
        CHECK(std::fabs(dx[k] / n - po.diagnosis_mix[k]) < binom_tol(po.diagnosis_mix[k], n));
    }
    // Unmet needs are Poisson(3) (capped at 22): SE sqrt(3/n).
    CHECK(std::fabs(needs / n - x.cfg.wellbeing.mean_unmet_needs) < Z * std::sqrt(x.cfg.wellbeing.mean_unmet_needs / n));
    // 6% start in a relapse, a third of them admitted; 8% of the others start disengaged.
    const double p_rel = x.cfg.relapse.prevalence_at_start;
    CHECK(std::fabs(relapsed / n - p_rel) < binom_tol(p_rel, n));
    CHECK(std::fabs(inpatient / n - p_rel / 3) < binom_tol(p_rel / 3, n));
    const double p_dis = x.cfg.engagement.p_disengaged_at_start * (1 - p_rel / 3);
    CHECK(std::fabs(disengaged / n - p_dis) < binom_tol(p_dis, n));
    // Age: N(44, 13) clamped to [18, 90].
    auto Phi = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
    auto phi = [](double z) { return std::exp(-z * z / 2) / std::sqrt(2 * M_PI); };
    const double mu = po.age_mean, sd = po.age_sd, a = (18 - mu) / sd, b = (90 - mu) / sd;
    const double expected_age = 18 * Phi(a) + 90 * (1 - Phi(b)) + mu * (Phi(b) - Phi(a)) + sd * (phi(a) - phi(b));
    const double m = age / n, s = std::sqrt(age2 / n - m * m);
    CAPTURE(m, expected_age);
    CHECK(std::fabs(m - expected_age) < Z * s / std::sqrt(n));
}

TEST_CASE("severity subgroups are the BPRS bands of the baseline symptoms", "[population]") {
    const auto r = test::one_step(three_regions(5000));
    const auto& x = r.ctx();
    const auto symptoms0 = baseline(r, "patient", "symptoms");
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const int band = symptoms0[i] >= x.cfg.symptoms.cut_high ? 2 : symptoms0[i] >= x.cfg.symptoms.cut_moderate ? 1 : 0;
        REQUIRE(x.p.severity[i] == band);
    }
}

TEST_CASE("younger patients and those with negative experiences prefer partnership (Hamann et al. 2005)",
          "[population][statistical]") {
    // Mean preference under 35 vs over 55, and with vs without negative experiences: each
    // difference must be positive by more than Z SEs of a two-sample difference of means.
    const auto r = test::one_step(three_regions(N_STAT));
    const auto& x = r.ctx();
    auto diff = [&](auto in_a, auto in_b) {
        double sa = 0, sa2 = 0, na = 0, sb = 0, sb2 = 0, nb = 0;
        for (std::size_t i = 0; i < x.p.n; ++i) {
            const double v = x.p.pref_partnership[i];
            if (in_a(i)) sa += v, sa2 += v * v, na += 1;
            if (in_b(i)) sb += v, sb2 += v * v, nb += 1;
        }
        const double ma = sa / na, mb = sb / nb;
        const double se = std::sqrt((sa2 / na - ma * ma) / na + (sb2 / nb - mb * mb) / nb);
        CAPTURE(ma, mb, se);
        CHECK(ma - mb > Z * se);
    };
    diff([&](std::size_t i) { return x.p.age[i] < 35; }, [&](std::size_t i) { return x.p.age[i] > 55; });
    diff([&](std::size_t i) { return x.p.negative_experiences[i] == 1; }, [&](std::size_t i) { return x.p.negative_experiences[i] == 0; });
}

TEST_CASE("with structure.match_preferences the patient-clinician style mismatch is smaller and the relationship better",
          "[population][relationship][statistical]") {
    // Same seed with and without matching: the patients and clinicians are the same (traits
    // are keyed by row), only the allocation differs. Matching sorts patients by preference onto
    // posts sorted by style within each team, so the mean |preference - style| must fall by at
    // least a quarter (independent allocation gives ~0.22, matching ~0.13), and the mean STAR-P
    // at the start (dyads start at their target, which includes the match) must rise by more
    // than Z SEs of the paired difference.
    const auto plain = test::run(three_regions(N_STAT), {"time.years=0.0192"});
    const auto matched = test::run(three_regions(N_STAT, "  match_preferences: true\n"), {"time.years=0.0192"});
    const auto &xp = plain.ctx(), &xm = matched.ctx();
    auto mismatch = [](const models::Ctx& x) {
        double s = 0;
        for (std::size_t i = 0; i < x.p.n; ++i)
            s += std::fabs(x.p.pref_partnership[i] - x.c.style_partnership[static_cast<std::size_t>(x.p.clinician[i])]);
        return s / static_cast<double>(x.p.n);
    };
    for (std::size_t i = 0; i < xp.p.n; ++i) REQUIRE(xp.p.pref_partnership[i] == xm.p.pref_partnership[i]);
    const double mp = mismatch(xp), mm = mismatch(xm);
    CAPTURE(mp, mm);
    CHECK(mm < 0.75 * mp);
    const auto sp = baseline(plain, "dyad", "star_p"), sm = baseline(matched, "dyad", "star_p");
    double d = 0, d2 = 0;
    for (std::size_t i = 0; i < sp.size(); ++i) d += sm[i] - sp[i], d2 += (sm[i] - sp[i]) * (sm[i] - sp[i]);
    const double n = static_cast<double>(sp.size()), mean = d / n, se = std::sqrt((d2 / n - mean * mean) / n);
    CAPTURE(mean, se);
    CHECK(mean > Z * se);
}

TEST_CASE("teams' meeting intervals vary around structure.contact_interval_weeks", "[population][statistical]") {
    // Lognormal with its mean preserved: over the teams, the mean interval is within Z SEs
    // (SE from the sample SD) of the parameter; with contact_interval_spread = 0 all are equal.
    const auto r = test::one_step(three_regions(N_STAT, "  contact_interval_weeks: 3\n"));
    const auto& x = r.ctx();
    double s = 0, s2 = 0;
    for (std::size_t t = 0; t < x.team.n; ++t) s += x.team.contact_interval_weeks[t], s2 += std::pow(x.team.contact_interval_weeks[t], 2);
    const double n = static_cast<double>(x.team.n), m = s / n, sd = std::sqrt(s2 / n - m * m);
    CAPTURE(n, m, sd);
    CHECK(n > 100);
    CHECK(std::fabs(m - 3.0) < Z * sd / std::sqrt(n));
    CHECK(sd > 0.1);
    const auto flat = test::one_step(three_regions(2000, "  contact_interval_weeks: 3\n  contact_interval_spread: 0\n"));
    for (std::size_t t = 0; t < flat.ctx().team.n; ++t) CHECK(flat.ctx().team.contact_interval_weeks[t] == Approx(3.0));
}

TEST_CASE("a region's patients have its rate of needs and its added symptoms", "[population][statistical]") {
    // Two regions, one with needs 2 and symptoms +10: at the start its patients' unmet needs are
    // Poisson(2 x mean_unmet_needs) (SE sqrt(mean / n)) and their stable symptom level is 10 BPRS
    // points higher (Z SEs of the difference of means); the team's need_rate is the region's.
    const std::string yaml = "seed: " + std::to_string(SEED) + "\ntime: {burn_in_weeks: 0}\npopulation: {n_patients: " +
                             std::to_string(N_STAT) +
                             "}\nstructure:\n  team_size: 5\n  regions:\n"
                             "    - {name: Plain, share: 0.5, n_trusts: 2}\n"
                             "    - {name: Needy, share: 0.5, n_trusts: 2, needs: 2, symptoms: 10}\n";
    const auto r = test::one_step(yaml);
    const auto& x = r.ctx();
    const auto needs0 = baseline(r, "patient", "unmet_needs");
    double n[2] = {0, 0}, needs[2] = {0, 0}, sym[2] = {0, 0}, sym2[2] = {0, 0};
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const auto k = static_cast<std::size_t>(x.p.region[i]);
        n[k] += 1;
        needs[k] += needs0[i];
        sym[k] += x.p.symptoms_base[i];
        sym2[k] += x.p.symptoms_base[i] * x.p.symptoms_base[i];
    }
    for (std::size_t t = 0; t < x.team.n; ++t)
        CHECK(x.team.need_rate[t] == (x.team.region[t] == 1 ? 2.0f : 1.0f));
    const double mu = x.cfg.wellbeing.mean_unmet_needs;
    for (std::size_t k = 0; k < 2; ++k) {
        const double expected = mu * (k == 1 ? 2.0 : 1.0);
        CAPTURE(k, needs[k] / n[k], expected);
        CHECK(std::fabs(needs[k] / n[k] - expected) < Z * std::sqrt(expected / n[k]));
    }
    auto var = [&](std::size_t k) { return sym2[k] / n[k] - (sym[k] / n[k]) * (sym[k] / n[k]); };
    const double diff = sym[1] / n[1] - sym[0] / n[0], se = std::sqrt(var(0) / n[0] + var(1) / n[1]);
    CAPTURE(diff, se);
    CHECK(std::fabs(diff - 10.0) < Z * se);
}
