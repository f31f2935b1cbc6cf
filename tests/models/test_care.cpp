// Meetings, engagement and adherence: the first two steps of the cascade (models/care.cpp).
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
constexpr std::uint32_t SEED = 20240612;  // fixed seed of every run in this file
constexpr std::uint32_t TRIAL_STEPS = 10; // steps over which a rule is applied in rule-level trials

using test::for_blocks;

std::string num(double v) { return std::to_string(v); }
double binom_tol(double p, double n) { return Z * std::sqrt(p * (1.0 - p) / n); }
double logistic(double z) { return 1.0 / (1.0 + std::exp(-z)); }

/// Overrides that keep every patient engaged and in the community all run (no disengagement,
/// no relapse at the start, no admission), so every patient can meet their coordinator every step.
const std::vector<std::string> ALWAYS_IN_CONTACT = {"engagement.p_week_max=0", "engagement.p_disengaged_at_start=0",
                                                    "relapse.prevalence_at_start=0", "admission.p_per_week_in_relapse=0"};

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// Meetings per patient-week of a run in which every patient is always eligible.
double contacts_per_week(const test::Run& r) {
    const auto& x = r.ctx();
    double contacts = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) contacts += x.p.n_contacts[i];
    return contacts / (static_cast<double>(x.p.n) * static_cast<double>(r.world().n_steps));
}

/// Runs engagement_step over all patients at steps first..first+TRIAL_STEPS-1, resetting every
/// patient to engaged and in the community before each step; @p setup prepares the state.
/// @return per patient, the number of disengagements.
template <class Setup> std::vector<int> disengagement_trials(test::Run& r, std::uint32_t first, Setup setup) {
    auto& x = r.ctx();
    std::vector<int> count(x.p.n, 0);
    for (std::uint32_t s = first; s < first + TRIAL_STEPS; ++s) {
        for (std::size_t i = 0; i < x.p.n; ++i) {
            x.p.engaged[i] = 1;
            x.p.inpatient[i] = 0;
            x.p.events[i] = 0;
            setup(i);
        }
        r.world().step = s;
        for_blocks(x.p.n, [&](const sim::Block& b) { models::engagement_step(x, r.world(), b); });
        for (std::size_t i = 0; i < x.p.n; ++i) count[i] += x.p.engaged[i] == 0;
    }
    return count;
}

/// Overrides that switch off every disengagement risk factor but the relationship.
const std::vector<std::string> NO_RISK_FACTORS = {"engagement.rel_young=1", "engagement.rel_male=1",
                                                  "engagement.rel_after_discharge=1", "engagement.rel_early=1",
                                                  "engagement.family_protection=0"};

}  // namespace

TEST_CASE("meetings per week match structure.contact_interval_weeks", "[care][contacts][statistical]") {
    // Teams have no spread, caseloads are at most the mean (no thinning), and every patient is
    // always eligible; expected meetings per patient-week = 1/interval. (This failed before
    // commit cc10ad8, when 1 - exp(-1/interval) per step gave 0.393 a week for a 2-week norm.)
    // Tolerance Z binomial SEs over N * 52 patient-weeks (~0.01 for N = 20000).
    for (const double interval : {2.0, 4.0}) {
        CAPTURE(interval);
        const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED),
                                 plus(ALWAYS_IN_CONTACT, {"structure.contact_interval_spread=0",
                                                          "structure.contact_interval_weeks=" + num(interval)}));
        const double got = contacts_per_week(r), expected = 1.0 / interval;
        CAPTURE(got, expected);
        CHECK(std::fabs(got - expected) < binom_tol(expected, static_cast<double>(N_STAT) * r.world().n_steps));
    }
}

TEST_CASE("meetings happen only for engaged community patients, at most one a step", "[care][contacts]") {
    auto r = test::one_step(test::small_yaml(6000, 1.0, SEED + 1));
    auto& x = r.ctx();
    for (std::size_t i = 0; i < x.p.n; ++i) {
        x.p.engaged[i] = i % 3 != 0;
        x.p.inpatient[i] = i % 3 == 1;
    }
    const std::vector<std::int32_t> before(x.p.n_contacts, x.p.n_contacts + x.p.n);
    std::size_t met = 0;
    for (std::uint32_t s = 2; s < 12; ++s) {
        r.world().step = s;
        for_blocks(x.p.n, [&](const sim::Block& b) { models::contact_step(x, r.world(), b); });
        for (std::size_t i = 0; i < x.p.n; ++i) {
            if (i % 3 != 2) REQUIRE(x.p.contact[i] == 0);  // disengaged, or admitted
            met += x.p.contact[i];
        }
    }
    std::size_t counted = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        CHECK(x.p.n_contacts[i] - before[i] <= 10);
        counted += static_cast<std::size_t>(x.p.n_contacts[i] - before[i]);
    }
    CHECK(counted == met);
    CHECK(met > 1000);  // eligible patients do meet (about 0.4 a week each)
}

TEST_CASE("meetings are more frequent with a shorter team interval and thinned by caseloads above the mean",
          "[care][contacts][statistical]") {
    // Meetings per patient-week, every patient always eligible: with interval 2 weeks they must
    // exceed those with interval 4 weeks, and caseloads of twice structure.caseload_mean (70,
    // posts fixed by structure.n_clinicians) must give half the meetings of caseloads at the mean.
    // Each rate has a binomial SE below 0.0005 (N * 52 >= 1e6 patient-weeks); differences must
    // be within (or beyond) Z combined SEs.
    const std::vector<std::string> base = plus(ALWAYS_IN_CONTACT, {"structure.contact_interval_spread=0"});
    const auto two = test::run(test::small_yaml(N_STAT, 1.0, SEED + 2), plus(base, {"structure.contact_interval_weeks=2"}));
    const auto four = test::run(test::small_yaml(N_STAT, 1.0, SEED + 2), plus(base, {"structure.contact_interval_weeks=4"}));
    const auto crowded = test::run(test::small_yaml(N_STAT, 1.0, SEED + 2),
                                   plus(base, {"structure.n_clinicians=" + std::to_string(N_STAT / 70), "structure.caseload_max=80"}));
    const double n = static_cast<double>(N_STAT) * 52;
    const double r2 = contacts_per_week(two), r4 = contacts_per_week(four), rc = contacts_per_week(crowded);
    CAPTURE(r2, r4, rc);
    const double se = std::sqrt(r2 * (1 - r2) / n + r4 * (1 - r4) / n);
    CHECK(r2 - r4 > Z * se);
    CHECK(r2 - rc > Z * se);
    // Thinning: the expected meetings per step are load / interval with load = caseload_mean /
    // caseload, so caseloads of twice the mean halve the meeting rate.
    CHECK(std::fabs(rc - 0.5 * r2) < Z * std::sqrt(rc * (1 - rc) / n + 0.25 * r2 * (1 - r2) / n));
}

TEST_CASE("disengagement is rare above engagement.threshold and frequent below it", "[care][engagement][statistical]") {
    // Rule-level trials: every patient engaged, in the community, every risk factor but the
    // relationship switched off; STAR-P set to threshold + k * width for k = +3, 0, -3. The
    // weekly risk is p_week_max * logistic(-k): 0.00142, 0.015 and 0.0286 with the defaults.
    // N = 20000 patients x 10 steps = 200,000 trials per value; tolerance Z binomial SEs.
    auto r = test::one_step(test::small_yaml(N_STAT, 1.0, SEED + 3), NO_RISK_FACTORS);
    auto& x = r.ctx();
    const auto& e = x.cfg.engagement;
    double share[3];
    int idx = 0;
    std::uint32_t first = 2;
    for (const double k : {3.0, 0.0, -3.0}) {
        const auto star = static_cast<float>(e.threshold + k * e.width);
        const auto count = disengagement_trials(r, first, [&](std::size_t i) { x.d.star_p[i] = star; });
        first += TRIAL_STEPS;
        double total = 0;
        for (int c : count) total += c;
        const double trials = static_cast<double>(x.p.n) * TRIAL_STEPS;
        const double got = total / trials, expected = e.p_week_max * logistic(-k);
        CAPTURE(k, got, expected);
        CHECK(std::fabs(got - expected) < binom_tol(expected, trials));
        share[idx++] = got;
    }
    CHECK(share[2] > 10 * share[0]);  // "rare above, frequent below"
}

TEST_CASE("disengagement risk is higher for young, male, early-illness and recently discharged patients",
          "[care][engagement][statistical]") {
    // At STAR-P = threshold (base weekly risk p_week_max / 2 = 0.015), groups of patients set up
    // by row: reference (female, 40, ill for 10 years, no recent discharge), male (x rel_male
    // 1.2), under 30 (x rel_young 1.5), ill for under engagement.early_years (x rel_early 1.5),
    // discharged last step (x rel_after_discharge 2). 4,000 patients x 20 steps = 80,000 trials
    // per group; each group's share within Z binomial SEs of its expected risk (a missing 1.2
    // factor is 5 SEs off, so it fails). Family support is neutralised (family_protection 0).
    auto r = test::one_step(test::small_yaml(N_STAT, 1.0, SEED + 4), {"engagement.family_protection=0"});
    auto& x = r.ctx();
    const auto& e = x.cfg.engagement;
    const auto star = static_cast<float>(e.threshold);
    constexpr std::size_t GROUPS = 5;
    constexpr std::uint32_t STEPS = 20;
    // One step at a time, so that the discharge is always in the previous step.
    std::vector<int> count(x.p.n, 0);
    for (std::uint32_t s = 2; s < 2 + STEPS; ++s) {
        for (std::size_t i = 0; i < x.p.n; ++i) {
            const std::size_t g = i % GROUPS;
            x.p.engaged[i] = 1;
            x.p.inpatient[i] = 0;
            x.d.star_p[i] = star;
            x.p.male[i] = g == 1;
            x.p.age[i] = g == 2 ? 22.0f : 40.0f;
            x.p.illness_years[i] = g == 3 ? 0.0f : 10.0f;
            x.p.ti_discharged[i] = g == 4 ? static_cast<std::int32_t>(s) - 1 : -100000;
        }
        r.world().step = s;
        for_blocks(x.p.n, [&](const sim::Block& b) { models::engagement_step(x, r.world(), b); });
        for (std::size_t i = 0; i < x.p.n; ++i) count[i] += x.p.engaged[i] == 0;
    }
    // Steps 2-21 are under half a year in: the under-30s stay under 30, early illness stays early.
    REQUIRE(e.early_years > (2 + STEPS) * 7 / 365.25);
    const double base = e.p_week_max * 0.5;
    const double expected[GROUPS] = {base, base * e.rel_male, base * e.rel_young, base * e.rel_early, base * e.rel_after_discharge};
    for (std::size_t g = 0; g < GROUPS; ++g) {
        double total = 0, trials = 0;
        for (std::size_t i = g; i < x.p.n; i += GROUPS) {
            total += count[i];
            trials += STEPS;
        }
        CAPTURE(g, total / trials, expected[g]);
        CHECK(std::fabs(total / trials - expected[g]) < binom_tol(expected[g], trials));
    }
}

TEST_CASE("outreach re-engages disengaged patients at p_reengage_week scaled by team capacity",
          "[care][engagement][statistical]") {
    // Two regions with capacity 1 and 2: weekly re-engagement 0.04 and 0.08. 10,000 patients per
    // region x 10 steps; tolerance Z binomial SEs.
    const std::string yaml = "seed: " + std::to_string(SEED + 5) +
                             "\npopulation: {n_patients: 20000}\n"
                             "structure:\n  team_size: 5\n  regions:\n"
                             "    - {name: Low, share: 0.5, n_trusts: 2, capacity: 1.0}\n"
                             "    - {name: High, share: 0.5, n_trusts: 2, capacity: 2.0}\n";
    auto r = test::one_step(yaml);
    auto& x = r.ctx();
    double back[2] = {0, 0}, trials[2] = {0, 0};
    for (std::uint32_t s = 2; s < 2 + TRIAL_STEPS; ++s) {
        for (std::size_t i = 0; i < x.p.n; ++i) {
            x.p.engaged[i] = 0;
            x.p.inpatient[i] = 0;
            x.p.events[i] = 0;
        }
        r.world().step = s;
        for_blocks(x.p.n, [&](const sim::Block& b) { models::engagement_step(x, r.world(), b); });
        for (std::size_t i = 0; i < x.p.n; ++i) {
            const auto reg = static_cast<std::size_t>(x.p.region[i]);
            back[reg] += x.p.engaged[i];
            trials[reg] += 1;
            if (x.p.engaged[i]) CHECK((x.p.events[i] & models::event::REENGAGE) != 0);
        }
    }
    for (std::size_t reg = 0; reg < 2; ++reg) {
        const double expected = x.cfg.engagement.p_reengage_week * (reg == 0 ? 1.0 : 2.0);
        CAPTURE(reg, back[reg] / trials[reg], expected);
        CHECK(std::fabs(back[reg] / trials[reg] - expected) < binom_tol(expected, trials[reg]));
    }
}

TEST_CASE("adherence needs a stronger relationship than engagement", "[care][adherence]") {
    // The relationship at which disengagement risk is half its maximum is engagement.threshold
    // (checked statistically above); the adherence class score of an engaged community patient
    // of average insight and no family is 0 only at adherence.threshold, which must be higher.
    // At the engagement threshold such a patient stays engaged most weeks but moves to
    // intentional non-adherence (target adherence.floor, below 'good'), and a good relationship
    // moves them back (target adherence.ceiling, good). Classes change only past the hysteresis.
    auto r = test::one_step(test::small_yaml(200, 1.0, SEED + 6));
    auto& x = r.ctx();
    const auto& a = x.cfg.adherence;
    const auto& e = x.cfg.engagement;
    CHECK(a.threshold > e.threshold);
    CHECK(a.floor < a.good_threshold);
    CHECK(a.ceiling > a.good_threshold);
    const std::size_t i = 0;
    x.p.engaged[i] = 1;
    x.p.inpatient[i] = 0;
    x.p.family[i] = -1;
    x.p.insight[i] = 0;
    auto set_star = [&](double star) { x.d.star_p[i] = x.d.star_latent[i] = static_cast<float>(star); };
    set_star(a.threshold);
    CHECK(models::adherence_score(x, i) == Approx(0.0).margin(1e-6));
    set_star(e.threshold);
    CHECK(models::adherence_score(x, i) == Approx(a.slope * (e.threshold - a.threshold)).margin(1e-6));
    // Monotone in the relationship.
    double prev = -1e9;
    for (double s = 0; s <= 4.0; s += 0.25) {
        set_star(s);
        const double z = models::adherence_score(x, i);
        CHECK(z > prev);
        prev = z;
    }
    // Hysteresis: from the adherent class, a score just below 0 keeps the class; one past
    // -hysteresis switches to intentional non-adherence, and back only past +hysteresis.
    x.p.intentional[i] = 0;
    const double per_point = a.slope;
    set_star(a.threshold - 0.5 * a.hysteresis / per_point);
    models::update_adherence_class(x, i);
    CHECK(x.p.intentional[i] == 0);
    CHECK(models::adherence_target(x, i) == Approx(a.ceiling));
    set_star(a.threshold - 2 * a.hysteresis / per_point);
    REQUIRE(models::adherence_score(x, i) < -a.hysteresis);
    models::update_adherence_class(x, i);
    CHECK(x.p.intentional[i] == 1);
    CHECK(models::adherence_target(x, i) == Approx(a.floor));
    set_star(a.threshold + 0.5 * a.hysteresis / per_point);
    models::update_adherence_class(x, i);
    CHECK(x.p.intentional[i] == 1);
    set_star(a.threshold + 2 * a.hysteresis / per_point);
    REQUIRE(models::adherence_score(x, i) > a.hysteresis);
    models::update_adherence_class(x, i);
    CHECK(x.p.intentional[i] == 0);
    // Disengaged and admitted patients have their fixed levels, whatever the relationship.
    x.d.star_p[i] = 4.0f;
    x.p.engaged[i] = 0;
    CHECK(models::adherence_target(x, i) == Approx(a.disengaged_level));
    x.p.inpatient[i] = 1;
    CHECK(models::adherence_target(x, i) == Approx(a.inpatient_level));
}

TEST_CASE("adherence moves towards its target at adherence.rate per week", "[care][adherence]") {
    // Deterministic (adherence.noise_sd = 0): new = old + rate * (target - old).
    auto r = test::one_step(test::small_yaml(3000, 1.0, SEED + 7), {"adherence.noise_sd=0"});
    auto& x = r.ctx();
    std::vector<double> target(x.p.n), old(x.p.n);
    for (std::size_t i = 0; i < x.p.n; ++i) {
        x.p.adherence[i] = static_cast<float>(static_cast<double>(i % 11) / 10.0);
        old[i] = x.p.adherence[i];
        target[i] = models::adherence_target(x, i);
    }
    r.world().step = 2;
    for_blocks(x.p.n, [&](const sim::Block& b) { models::adherence_step(x, r.world(), b); });
    const double rate = x.cfg.adherence.rate;
    for (std::size_t i = 0; i < x.p.n; ++i) CHECK(x.p.adherence[i] == Approx(old[i] + rate * (target[i] - old[i])).margin(1e-5));
}

TEST_CASE("engaged patients with a better relationship are more often adherent in a run", "[care][adherence][statistical]") {
    // After a year of the default model, engaged community patients are split by STAR-P at the
    // adherence threshold: the share with good adherence must be higher above it (two-sample
    // test at Z SEs), and a sizeable share of engaged patients is not adherent (engaged but
    // not adherent is possible): at least 20% (the default model gives ~40%).
    const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED + 8));
    const auto& x = r.ctx();
    const double good = x.cfg.adherence.good_threshold, thr = x.cfg.adherence.threshold;
    double n[2] = {0, 0}, adherent[2] = {0, 0};
    for (std::size_t i = 0; i < x.p.n; ++i) {
        if (!x.p.engaged[i] || x.p.inpatient[i]) continue;
        const int hi = x.d.star_p[i] >= thr;
        n[hi] += 1;
        adherent[hi] += x.p.adherence[i] >= good;
    }
    const double p0 = adherent[0] / n[0], p1 = adherent[1] / n[1];
    CAPTURE(n[0], n[1], p0, p1);
    CHECK(p1 - p0 > Z * std::sqrt(p0 * (1 - p0) / n[0] + p1 * (1 - p1) / n[1]));
    CHECK(1.0 - (adherent[0] + adherent[1]) / (n[0] + n[1]) > 0.2);
}

TEST_CASE("mean adherence and disengagement over a year lie within the published ranges", "[care][calibration]") {
    // Targets file: mean fraction of antipsychotic taken 0.58, range 0.24-0.90 (Cramer &
    // Rosenheck 1998); share of SMI patients disengaging 'up to one third', range 0.04-0.46
    // (Kreyenbuhl et al. 2009). Published ranges are the tolerance (sampling error of 20,000
    // patients is below 0.01).
    const auto r = test::run(test::small_yaml(N_STAT, 1.0, SEED + 9));
    const auto& x = r.ctx();
    const double adherence = r.national("mean_adherence", r.world().n_steps);
    double ever = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) ever += x.p.n_disengagements[i] > 0;
    const double disengaged = ever / static_cast<double>(x.p.n);
    CAPTURE(adherence, disengaged);
    CHECK(adherence > 0.24);
    CHECK(adherence < 0.90);
    CHECK(disengaged > 0.04);
    CHECK(disengaged < 0.46);
}

TEST_CASE("share_engaged and mean_adherence are the means over steps 1..n of engaged and adherence", "[care]") {
    // Every patient is traced, so the per-step values are in the run's trajectories.
    const int n = 300;
    const auto r = test::run(test::small_yaml(n, 1.0, 5), {"output.trajectories=300"});
    const sim::Trajectories& tr = r.results->trajectories;
    REQUIRE(tr.rows.size() == static_cast<std::size_t>(n));
    const auto& patients = r.world().agents("patient");
    std::size_t c_engaged = 0, c_adherence = 0;
    for (std::size_t c = 0; c < tr.columns.size(); ++c) {
        const auto& a = r.world().tables()[tr.columns[c].table];
        if (a.name() != "patient") continue;
        const std::string& name = a.spec().attributes[tr.columns[c].attribute].name;
        if (name == "engaged") c_engaged = c;
        if (name == "adherence") c_adherence = c;
    }
    const std::size_t nc = tr.columns.size(), k = tr.rows.size(), steps = r.world().n_steps;
    const auto& p = r.ctx().p;
    std::size_t varied = 0;
    for (std::size_t i = 0; i < k; ++i) {
        double engaged = 0, adherence = 0;
        for (std::size_t t = 1; t <= steps; ++t) {
            engaged += tr.values[(t * nc + c_engaged) * k + i];
            adherence += tr.values[(t * nc + c_adherence) * k + i];
        }
        const std::size_t row = tr.rows[i];
        const auto n_steps = static_cast<double>(steps);
        CHECK(p.share_engaged[row] == Approx(engaged / n_steps).margin(1e-6));
        CHECK(p.mean_adherence[row] == Approx(adherence / n_steps).margin(1e-4));
        varied += p.share_engaged[row] > 0 && p.share_engaged[row] < 1;
    }
    CHECK(varied > 0);  // some patients disengaged for part of the year
    CHECK(patients.size() == static_cast<std::size_t>(n));
}
