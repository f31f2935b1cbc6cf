// Probabilistic sensitivity analysis: distributions, the psa: block, its keyed draws and its
// paired intervention and comparator runs.
#include "tests/support.hpp"

#include "sim/distribution.hpp"
#include "sim/ensemble.hpp"
#include "sim/h5.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace {

using D = sim::Distribution;

std::uint64_t bits(double v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

std::string psa_yaml(int draws, int replicates, const std::string& distributions = "") {
    return test::small_yaml(200, 0.5, 99) + "replicates: " + std::to_string(replicates) +
           "\ndialog: {enabled: true, rollout: {start_year: 0.02, duration_years: 0.05, n_waves: 1}}\npsa:\n  draws: " +
           std::to_string(draws) + "\n  comparator:\n    dialog.enabled: false\n" + distributions;
}

/// Mean and SD of @p n quantiles at the mid-points of n equal strata: the distribution's own moments.
std::pair<double, double> moments(const D& d, int n = 20000) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
        const double x = d.quantile((i + 0.5) / n);
        s += x;
        s2 += x * x;
    }
    const double m = s / n;
    return {m, std::sqrt(s2 / n - m * m)};
}

}  // namespace

TEST_CASE("each distribution family has the mean and SD it is given", "[psa]") {
    for (const D& d : {D::beta(0.27, 0.027), D::beta(0.5, 0.2), D::gamma(450, 135), D::lognormal(0.042, 0.015),
                       D::normal(1.84, 0.245), D::gamma(5, 2.5)}) {
        INFO(d.text());
        REQUIRE(d.problem().empty());
        const auto [m, sd] = moments(d);
        CHECK(m == Approx(d.a).epsilon(2e-3));
        CHECK(sd == Approx(d.b).epsilon(2e-2));    // the stratified tails lose a little of the SD
    }
    const auto [m, sd] = moments(D::uniform(0.1, 0.3));
    CHECK(m == Approx(0.2));
    CHECK(sd == Approx(0.2 / std::sqrt(12.0)).epsilon(1e-3));
    CHECK(D::beta(0.3, 0.5).problem() != "");           // wider than a beta with this mean can be
    CHECK(D::gamma(-1, 1).problem() != "");
    CHECK(D::uniform(2, 1).problem() != "");
    // centring keeps the coefficient of variation
    const D c = D::gamma(450, 135).as_guess().centred_at(900);
    CHECK(c.a == 900);
    CHECK(c.b == Approx(270));
    CHECK(c.guess);
}

TEST_CASE("a psa: block draws every declared distribution, pairs each draw with its comparator", "[psa][scenario]") {
    const sim::Scenario sc = test::scenario(psa_yaml(5, 2));
    REQUIRE(sc.sweep);
    const sim::Sweep& s = *sc.sweep;
    CHECK(s.design == "psa");
    REQUIRE(s.points() == 10);
    CHECK(sc.runs() == 20);
    std::size_t declared = 0;
    for (const auto& p : test::schema().params()) declared += p.uncertainty.drawn() ? 1 : 0;
    CHECK(s.k() == declared);
    CHECK(declared >= 15);
    for (std::size_t d = 0; d < 5; ++d) {
        CHECK(s.role[2 * d] == 0);
        CHECK(s.role[2 * d + 1] == 1);
        CHECK(s.sample[2 * d] == static_cast<int>(d));
        for (std::size_t i = 0; i < s.k(); ++i) CHECK(s.value(2 * d, i) == s.value(2 * d + 1, i));
    }
    // the comparator arm is the scenario with the comparator's overrides, the same values otherwise
    const sim::Scenario a = sc.at_point(2), b = sc.at_point(3);
    CHECK(a.params.boolean("dialog.enabled"));
    CHECK_FALSE(b.params.boolean("dialog.enabled"));
    CHECK(a.params.real("costs.bed_day") == b.params.real("costs.bed_day"));
    CHECK(a.params.real("costs.bed_day") != sc.at_point(0).params.real("costs.bed_day"));
}

TEST_CASE("keyed psa draws follow their distributions (2,000 draws, 4 standard errors)", "[psa][statistics]") {
    // Monte Carlo draws, not strata: the mean of n draws is within 4 standard errors of the
    // distribution's mean, and the SD within 4 of its own (SE of an SD ~ sd / sqrt(2 n)), for
    // every drawn parameter; a failure here is a 1-in-15,000 event per check at the fixed seed.
    const int n = 2000;
    const sim::Scenario sc = test::scenario(psa_yaml(n, 1));
    const sim::Sweep& s = *sc.sweep;
    for (std::size_t i = 0; i < s.k(); ++i) {
        const D& d = s.parameters[i].dist;
        INFO(s.parameters[i].path << ": " << d.text());
        double sum = 0, sum2 = 0;
        for (int j = 0; j < n; ++j) {
            const double x = s.value(static_cast<std::size_t>(2 * j), i);
            sum += x;
            sum2 += x * x;
        }
        const double m = sum / n, sd = std::sqrt(sum2 / n - m * m);
        const auto [true_mean, true_sd] = moments(d);  // the declared ranges do not cut these distributions
        CHECK(std::abs(m - true_mean) < 4 * true_sd / std::sqrt(n));
        CHECK(std::abs(sd - true_sd) < 4 * true_sd / std::sqrt(2.0 * n) * 1.5);  // 1.5: heavier tails than normal
    }
}

TEST_CASE("psa draws are keyed by parameter name: adding one leaves the others' draws", "[psa][scenario]") {
    const sim::Scenario one = test::scenario(psa_yaml(6, 1));
    const sim::Scenario two = test::scenario(psa_yaml(6, 1, "  distributions:\n    adherence.slope: {uniform: [0.5, 2.0]}\n"));
    REQUIRE(two.sweep->k() == one.sweep->k() + 1);
    const auto index = [](const sim::Sweep& s, const std::string& path) {
        for (std::size_t i = 0; i < s.k(); ++i)
            if (s.parameters[i].path == path) return i;
        FAIL("no " << path);
        return std::size_t{0};
    };
    for (const std::string path : {"costs.bed_day", "relapse.p_year_on_medication", "dialog.uptake"})
        for (std::size_t p = 0; p < 12; ++p)
            CHECK(one.sweep->value(p, index(*one.sweep, path)) == two.sweep->value(p, index(*two.sweep, path)));
    // a different seed draws differently
    const sim::Scenario other = test::scenario(psa_yaml(6, 1), {"seed=100"});
    CHECK(other.sweep->value(0, 0) != one.sweep->value(0, 0));
}

TEST_CASE("the psa block overrides distributions, fixes parameters and follows changed values", "[psa][scenario]") {
    const sim::Scenario sc = test::scenario(psa_yaml(3, 1, "  distributions:\n"
                                                           "    costs.bed_day: {gamma: {mean: 500, interval: [300, 700]}}\n"
                                                           "    dialog.uptake: fixed\n"),
                                            {"costs.contact=120"});
    const sim::Sweep& s = *sc.sweep;
    bool bed = false, uptake = false, contact = false;
    for (const auto& p : s.parameters) {
        if (p.path == "costs.bed_day") {
            bed = true;
            CHECK(p.dist.kind == D::Kind::gamma);
            CHECK(p.dist.a == 500);
            CHECK(p.dist.b == Approx(400 / 3.92));
        }
        uptake = uptake || p.path == "dialog.uptake";
        if (p.path == "costs.contact") {
            contact = true;
            CHECK(p.dist.a == 120);             // the declared gamma(60, 18), centred on the scenario's value
            CHECK(p.dist.b == Approx(36));
        }
    }
    CHECK(bed);
    CHECK_FALSE(uptake);
    CHECK(contact);
    // the resolved scenario gives the same design
    const sim::Scenario again = test::scenario(sc.resolved_yaml(test::schema()));
    REQUIRE(again.sweep);
    CHECK(again.sweep->unit == s.unit);
    CHECK(again.resolved_yaml(test::schema()) == sc.resolved_yaml(test::schema()));
    for (std::size_t p = 0; p < s.points(); ++p)
        for (std::size_t i = 0; i < s.k(); ++i) CHECK(again.sweep->value(p, i) == s.value(p, i));
}

TEST_CASE("bad psa blocks are refused with file, line, key and what was expected", "[psa][scenario][errors]") {
    const auto refused = [](const std::string& extra, const std::string& key, const std::string& says) {
        try {
            (void)test::scenario(test::small_yaml(200, 0.5, 99) + extra);
            FAIL("expected an error for " << extra);
        } catch (const sim::InputError& e) {
            INFO(e.what());
            CHECK(e.key() == key);
            CHECK_THAT(e.detail(), Catch::Contains(says));
            CHECK(e.where().line > 0);
        }
    };
    refused("psa:\n  draws: 4\n", "psa.comparator", "missing");
    refused("psa:\n  comparator: {dialog.enabled: false}\n", "psa.draws", "missing");
    refused("psa:\n  draws: 4\n  comparater: {dialog.enabled: false}\n", "psa.comparater", "did you mean 'comparator'");
    refused("psa:\n  draws: 4\n  comparator: {dialog.enabld: false}\n", "psa.comparator.dialog.enabld", "did you mean 'dialog.enabled'");
    refused("psa:\n  draws: 4\n  comparator: {dialog.enabled: false}\n  distributions:\n    costs.bed_day: {gama: {mean: 1, sd: 1}}\n",
            "psa.distributions.costs.bed_day.gama", "did you mean 'gamma'");
    refused("psa:\n  draws: 4\n  comparator: {dialog.enabled: false}\n  distributions:\n    costs.bed_day: {gamma: {mean: 1}}\n",
            "psa.distributions.costs.bed_day.gamma", "expected {mean: M, sd: S}");
    refused("psa:\n  draws: 4\n  comparator: {dialog.enabled: false}\n  distributions:\n    dialog.uptake: {beta: {mean: 0.5, sd: 0.6}}\n",
            "psa.distributions.dialog.uptake", "beta: expected 0 < sd");
    refused("psa:\n  draws: 4\n  comparator: {dialog.enabled: false}\n  distributions:\n    costs.bed_day: {beta: {mean: 0.5, sd: 0.1}}\n",
            "psa.distributions.costs.bed_day", "a beta distribution is for a probability");
    refused("psa:\n  draws: 4\n  comparator: {time.years: 2}\n", "psa.comparator.time.years", "which the comparator must share");
    refused("psa:\n  draws: 1\n  comparator: {dialog.enabled: false}\n", "psa.draws", "");
}

TEST_CASE("a psa runs the same at 1 and 2 threads, and each draw's arms share their random numbers", "[psa][determinism][crn]") {
    test::TempDir dir;
    const sim::Scenario sc = test::scenario(psa_yaml(3, 2));
    std::vector<std::vector<std::vector<double>>> out;
    for (unsigned threads : {1u, 2u}) {
        sim::EnsembleOptions opt;
        opt.threads = threads;
        const std::string path = dir.path("psa" + std::to_string(threads) + ".h5");
        (void)sim::run_ensemble(models::make_model, test::schema(), sc, path, opt);
        const sim::ResultsFile f(path);
        CHECK(f.read_numbers("/sweep/role") == std::vector<double>{0, 1, 0, 1, 0, 1});
        out.push_back(f.national_replicates("mean_symptoms"));
        if (threads == 2) {
            // Runs are point-major: run 2 p + r is replicate r of point p. The comparator runs
            // (points 1, 3, 5) have no DIALOG sessions, the intervention runs have some.
            const auto sessions = f.national_replicates("dialog_sessions");
            for (std::size_t run = 0; run < 12; ++run) {
                const double total = std::accumulate(sessions[run].begin(), sessions[run].end(), 0.0);
                if ((run / 2) % 2 == 1) CHECK(total == 0.0);
                else CHECK(total > 0.0);
            }
            // step 0 (before anything differs between the arms) is the same in both arms of a draw
            const auto qol = f.national_replicates("mean_qol");
            for (std::size_t d = 0; d < 3; ++d)
                for (std::size_t r = 0; r < 2; ++r) CHECK(bits(qol[(2 * d) * 2 + r][0]) == bits(qol[(2 * d + 1) * 2 + r][0]));
        }
    }
    REQUIRE(out[0].size() == out[1].size());
    for (std::size_t r = 0; r < out[0].size(); ++r)
        for (std::size_t t = 0; t < out[0][r].size(); ++t) REQUIRE(bits(out[0][r][t]) == bits(out[1][r][t]));
}

TEST_CASE("the shipped national PSA scenario is valid, at its size and at 3,000 patients", "[psa][scenario]") {
    const std::string path = std::string(THERASIM_SOURCE_DIR) + "/scenarios/psa/england_rollout_psa.yaml";
    for (const std::vector<std::string>& set : {std::vector<std::string>{}, std::vector<std::string>{"population.n_patients=3000"}}) {
        const sim::Scenario sc = sim::load_scenario(test::schema(), path, set);
        REQUIRE(sc.sweep);
        CHECK(sc.sweep->design == "psa");
        CHECK(sc.sweep->samples == 200);
        REQUIRE(sc.comparator.size() == 1);
        CHECK(sc.comparator[0].first == "dialog.enabled");
        auto model = models::make_model();
        sim::preflight(*model, sc, 2);  // every draw of both arms is a valid scenario
        CHECK(sc.at_point(0).params.boolean("dialog.enabled"));
        CHECK_FALSE(sc.at_point(1).params.boolean("dialog.enabled"));
    }
}
