// DIALOG as an intervention (models/dialog.cpp): stepped-wedge rollout by trust, uptake,
// training of new hires, fidelity and its drift, session frequency (DIALOG vs DIALOG+), costs,
// and its effects on needs and the relationship.
//
// Statistical checks use fixed seeds and a tolerance of Z standard errors; with Z = 4 a
// correct model fails a given check with probability about 6e-5.

#include "models/components.hpp"
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr double Z = 4.0;                 // tolerance in standard errors
constexpr std::uint32_t SEED = 20240618;  // fixed seed of every run in this file
constexpr int N_TRUSTS = 12;              // trusts in the rollout scenario (2 regions x 6)
constexpr int N_PATIENTS = 8000;
constexpr double START_YEAR = 0.2, DURATION = 1.0, YEARS = 1.5;
constexpr int N_WAVES = 4;

/// Two regions of 6 trusts each; DIALOG rolled out in N_WAVES waves from START_YEAR over DURATION.
std::string rollout_yaml(std::uint32_t seed = SEED, int n_patients = N_PATIENTS) {
    return "seed: " + std::to_string(seed) + "\ntime: {years: " + std::to_string(YEARS) +
           "}\npopulation: {n_patients: " + std::to_string(n_patients) +
           "}\n"
           "structure:\n  team_size: 5\n  regions:\n"
           "    - {name: East, share: 0.5, n_trusts: 6}\n"
           "    - {name: West, share: 0.5, n_trusts: 6}\n"
           "dialog:\n  enabled: true\n  rollout: {start_year: " +
           std::to_string(START_YEAR) + ", duration_years: " + std::to_string(DURATION) +
           ", n_waves: " + std::to_string(N_WAVES) + "}\n";
}

int steps_in_years(double years) { return static_cast<int>(std::lround(years * 365.25 / 7.0)); }

double sum_series(const test::Run& r, const std::string& name, std::uint32_t from = 1, std::uint32_t to = 0) {
    if (to == 0) to = r.world().n_steps;
    double s = 0;
    for (std::uint32_t t = from; t <= to; ++t) s += r.national(name, t);
    return s;
}

/// Overrides that keep every patient engaged and in the community, with no turnover.
const std::vector<std::string> STEADY = {"engagement.p_week_max=0", "engagement.p_disengaged_at_start=0",
                                         "relapse.prevalence_at_start=0", "admission.p_per_week_in_relapse=0",
                                         "clinicians.turnover_per_year=0"};

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

TEST_CASE("trusts start DIALOG in waves between start_year and start_year + duration", "[dialog][rollout]") {
    // Wave w of n starts at start_year + duration * w / n (rounded to a step, at least step 1);
    // trusts are split evenly over the waves, in an order that depends on the seed.
    std::set<std::vector<int>> orders;
    for (const std::uint32_t seed : {SEED, SEED + 1, SEED + 2}) {
        const auto r = test::run(rollout_yaml(seed, 1000));
        const auto& x = r.ctx();
        REQUIRE(x.trust.n == static_cast<std::size_t>(N_TRUSTS));
        std::map<int, int> per_wave;
        std::vector<int> order;
        for (std::size_t t = 0; t < x.trust.n; ++t) {
            const int wave = x.trust.wave[t];
            REQUIRE(wave >= 0);
            REQUIRE(wave < N_WAVES);
            ++per_wave[wave];
            order.push_back(wave);
            const int expected = std::max(1, steps_in_years(START_YEAR + DURATION * wave / N_WAVES));
            CHECK(x.trust.ti_dialog_start[t] == expected);
            CHECK(x.trust.ti_dialog_start[t] >= steps_in_years(START_YEAR));
            CHECK(x.trust.ti_dialog_start[t] < steps_in_years(START_YEAR + DURATION));
        }
        for (int w = 0; w < N_WAVES; ++w) CHECK(per_wave[w] == N_TRUSTS / N_WAVES);
        orders.insert(order);
    }
    CHECK(orders.size() > 1);  // the stepped-wedge order is random, not the trusts' order
}

TEST_CASE("clinicians are trained at their trust's wave with probability dialog.uptake", "[dialog][rollout][statistical]") {
    // No turnover, 2,000 posts, uptake 0.7: every trained clinician was trained at their trust's
    // start step, and the share trained is within Z binomial SEs of 0.7 (about 0.04). The
    // series count them, and training and device costs are charged once per trained clinician.
    const auto r = test::run(rollout_yaml(), {"dialog.uptake=0.7", "clinicians.turnover_per_year=0", "structure.n_clinicians=2000"});
    const auto& x = r.ctx();
    double trained = 0;
    for (std::size_t post = 0; post < x.c.n; ++post) {
        const auto trust = static_cast<std::size_t>(x.team.trust[static_cast<std::size_t>(x.c.team[post])]);
        if (x.c.dialog_trained[post]) {
            trained += 1;
            CHECK(x.c.ti_trained[post] == x.trust.ti_dialog_start[trust]);
        } else {
            CHECK(x.c.ti_trained[post] == -1);
        }
    }
    const double n = static_cast<double>(x.c.n);
    CHECK(std::fabs(trained / n - 0.7) < Z * std::sqrt(0.21 / n));
    const auto last = r.world().n_steps;
    CHECK(r.national("clinicians_dialog_trained", last) == trained);
    const int first = steps_in_years(START_YEAR);
    for (int s = 1; s < first; ++s) CHECK(r.national("clinicians_dialog_trained", static_cast<std::size_t>(s)) == 0);
    CHECK(sum_series(r, "cost_training") == Approx(trained * x.cfg.dialog.cost_training));
    CHECK(sum_series(r, "cost_devices") == Approx(trained * x.cfg.dialog.cost_device));
}

TEST_CASE("new hires in a trust that has started are trained after dialog.new_staff_delay_weeks", "[dialog][workforce]") {
    // Uptake 1 and high turnover: a holder hired before their trust's start is trained at the
    // start; one hired at or after it is trained new_staff_delay_weeks (12 steps) after being
    // hired, if the run lasts that long, and not before.
    const auto r = test::run(rollout_yaml(), {"dialog.uptake=1", "clinicians.turnover_per_year=0.6"});
    const auto& x = r.ctx();
    const auto steps = static_cast<std::int32_t>(r.world().n_steps);
    const auto delay = static_cast<std::int32_t>(x.cfg.dialog.new_staff_delay_weeks);
    std::size_t late = 0;
    for (std::size_t post = 0; post < x.c.n; ++post) {
        const auto trust = static_cast<std::size_t>(x.team.trust[static_cast<std::size_t>(x.c.team[post])]);
        const std::int32_t start = x.trust.ti_dialog_start[trust], hired = x.c.ti_hired[post];
        CAPTURE(post, start, hired, x.c.ti_trained[post]);
        if (hired < start) {
            CHECK(x.c.dialog_trained[post] == 1);
            CHECK(x.c.ti_trained[post] == start);
        } else if (hired + delay <= steps) {
            CHECK(x.c.dialog_trained[post] == 1);
            CHECK(x.c.ti_trained[post] == hired + delay);
            ++late;
        } else {
            CHECK(x.c.dialog_trained[post] == 0);
        }
    }
    CHECK(late > 10);
}

TEST_CASE("sessions delivered per session planned equal the clinicians' fidelity", "[dialog][sessions][statistical]") {
    // Fidelity fixed at 0.67 for everyone (SD 0, floor = initial, so no drift): each planned
    // session is delivered with probability 0.67. Delivered / planned within Z binomial SEs
    // (computed from the number planned, thousands). Sessions happen only with trained
    // clinicians, and the patient counters agree with the series.
    const auto r = test::run(rollout_yaml(), plus(STEADY, {"dialog.uptake=0.8", "dialog.fidelity_sd=0",
                                                           "dialog.fidelity_initial=0.67", "dialog.fidelity_floor=0.67"}));
    const auto& x = r.ctx();
    double planned = 0, delivered = 0;
    for (std::size_t i = 0; i < x.p.n; ++i) {
        planned += x.p.n_dialog_planned[i];
        delivered += x.p.n_dialog_sessions[i];
        REQUIRE(x.p.n_dialog_sessions[i] <= x.p.n_dialog_planned[i]);
        if (!x.c.dialog_trained[static_cast<std::size_t>(x.p.clinician[i])]) REQUIRE(x.p.n_dialog_planned[i] == 0);
    }
    CHECK(planned == sum_series(r, "dialog_sessions_planned"));
    CHECK(delivered == sum_series(r, "dialog_sessions"));
    CAPTURE(planned, delivered / planned);
    CHECK(planned > 5000);
    CHECK(std::fabs(delivered / planned - 0.67) < Z * std::sqrt(0.67 * 0.33 / planned));
    // Cost of the extra minutes: one charge per delivered session.
    CHECK(sum_series(r, "cost_dialog_time") == Approx(delivered * x.cfg.dialog.extra_minutes * x.cfg.dialog.cost_per_clinician_minute));
}

TEST_CASE("sessions are planned no more often than the DIALOG interval", "[dialog][sessions]") {
    // A patient exposed from step s can have at most 1 + (steps - s) / interval_steps sessions
    // planned, the interval being 9 weekly steps (8.7 weeks rounded).
    const auto r = test::run(rollout_yaml(), plus(STEADY, {"dialog.uptake=1"}));
    const auto& x = r.ctx();
    const auto steps = static_cast<std::int32_t>(r.world().n_steps);
    const auto interval = static_cast<std::int32_t>(std::lround(x.cfg.dialog.interval_weeks_dialog));
    for (std::size_t i = 0; i < x.p.n; ++i) {
        const auto post = static_cast<std::size_t>(x.p.clinician[i]);
        const std::int32_t exposed = steps - x.c.ti_trained[post] + 1;
        REQUIRE(x.p.n_dialog_planned[i] <= 1 + (exposed - 1) / interval);
    }
}

TEST_CASE("DIALOG+ sessions are about twice as frequent as DIALOG sessions", "[dialog][sessions][statistical]") {
    // Every clinician trained at step 1 (one wave, uptake 1), everyone always in contact;
    // planned sessions counted in the second year (steady state). The intervals are 8.7 and
    // 4.35 weeks, a ratio of 2; rounded to whole weekly steps they are 9 and 4 (ratio 2.25), and
    // a session due waits for the next meeting, which pulls the ratio back towards 2 (the
    // model gives about 2.1). Accepted: 1.7 to 2.3, i.e. the rounding's 2.25 plus the sampling
    // error of tens of thousands of sessions (below 1%).
    auto planned_rate = [&](const char* variant) {
        const auto r = test::run(rollout_yaml(SEED + 1, 4000),
                                 plus(STEADY, {"time.years=2", "dialog.uptake=1", "dialog.rollout.start_year=0.01",
                                               "dialog.rollout.n_waves=1", std::string("dialog.variant=") + variant}));
        return sum_series(r, "dialog_sessions_planned", 53, r.world().n_steps);
    };
    const double dialog = planned_rate("dialog"), plus_ = planned_rate("dialog_plus");
    CAPTURE(dialog, plus_, plus_ / dialog);
    CHECK(dialog > 3000);
    CHECK(std::fabs(plus_ / dialog - 2.0) < 0.3);
}

TEST_CASE("fidelity drifts towards its floor with dialog.fidelity_half_life_years, half as fast with supervision",
          "[dialog][fidelity]") {
    // Fidelity 0.9 at training (SD 0), floor 0.2, half-life 0.5 years, supervision halving the
    // drift. For a clinician trained at step s, (f - floor) / (0.9 - floor) at the end of the run
    // is 2^(-elapsed / half-life); the implied elapsed time must be the weeks since training
    // (between steps - s and steps - s + 1: drift may or may not apply in the training step),
    // with the half-life doubled for supervised clinicians.
    const auto r = test::run(rollout_yaml(), {"dialog.uptake=1", "dialog.fidelity_sd=0", "dialog.fidelity_initial=0.9",
                                              "dialog.fidelity_floor=0.2", "dialog.fidelity_half_life_years=0.5",
                                              "clinicians.turnover_per_year=0"});
    const auto& x = r.ctx();
    const double steps = static_cast<double>(r.world().n_steps), half_life_weeks = 0.5 * 365.25 / 7.0;
    std::size_t n_sup = 0, n_unsup = 0;
    for (std::size_t post = 0; post < x.c.n; ++post) {
        REQUIRE(x.c.dialog_trained[post] == 1);
        const double ratio = (x.c.fidelity[post] - 0.2) / (0.9 - 0.2);
        const double hl = x.c.supervised[post] ? half_life_weeks / x.cfg.dialog.supervision_drift : half_life_weeks;
        const double elapsed = -std::log2(ratio) * hl, since = steps - x.c.ti_trained[post];
        CAPTURE(post, x.c.supervised[post], elapsed, since);
        CHECK(elapsed > since - 0.01);
        CHECK(elapsed < since + 1.01);
        (x.c.supervised[post] ? n_sup : n_unsup) += 1;
    }
    CHECK(n_sup > 10);
    CHECK(n_unsup > 10);
}

TEST_CASE("DIALOG meets needs faster and improves the relationship, against the same scenario without it",
          "[dialog][wellbeing][statistical]") {
    // Rollout at step 1 with uptake 1 vs dialog.enabled=false, same seed (common random
    // numbers: the same patients and draws). After 1.5 years: needs met per patient, mean STAR-P
    // and satisfaction with meetings are higher with DIALOG, unmet needs lower, each by more
    // than Z SEs of the paired per-patient difference.
    const std::vector<std::string> early = {"dialog.uptake=1", "dialog.rollout.start_year=0.01", "dialog.rollout.n_waves=1"};
    const auto on = test::run(rollout_yaml(SEED + 2), early);
    const auto off = test::run(rollout_yaml(SEED + 2), plus(early, {"dialog.enabled=false"}));
    const auto &xo = on.ctx(), &xf = off.ctx();
    auto paired = [&](auto value) {
        double d = 0, d2 = 0;
        for (std::size_t i = 0; i < xo.p.n; ++i) {
            const double diff = value(xo, i) - value(xf, i);
            d += diff, d2 += diff * diff;
        }
        const double n = static_cast<double>(xo.p.n), mean = d / n;
        return std::pair<double, double>{mean, std::sqrt((d2 / n - mean * mean) / n)};
    };
    const auto met = paired([](const models::Ctx& x, std::size_t i) { return double(x.p.needs_met[i]); });
    const auto unmet = paired([](const models::Ctx& x, std::size_t i) { return double(x.p.unmet_needs[i]); });
    const auto star = paired([](const models::Ctx& x, std::size_t i) { return double(x.d.star_p[i]); });
    const auto meetings = paired([](const models::Ctx& x, std::size_t i) { return double(x.p.sat_meetings[i]); });
    CAPTURE(met.first, met.second, unmet.first, unmet.second, star.first, star.second, meetings.first, meetings.second);
    CHECK(met.first > Z * met.second);
    CHECK(unmet.first < -Z * unmet.second);
    CHECK(star.first > Z * star.second);
    CHECK(meetings.first > Z * meetings.second);
    CHECK(on.national("mean_unmet_needs", on.world().n_steps) < off.national("mean_unmet_needs", off.world().n_steps));
}
