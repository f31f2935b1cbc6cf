// Sensitivity sweeps: the designs, their validation and their runs as one ensemble.
#include "tests/support.hpp"

#include "sim/ensemble.hpp"
#include "sim/h5.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <cstring>
#include <set>

namespace {

sim::Sweep design(const std::string& name, std::size_t samples, std::size_t k, int levels = 0, std::uint32_t seed = 1) {
    sim::Sweep s;
    s.design = name;
    s.samples = samples;
    s.levels = levels;
    for (std::size_t i = 0; i < k; ++i) s.parameters.push_back({"p" + std::to_string(i), 0.0, 1.0, false, {}, {}});
    sim::make_design(s, seed);
    return s;
}

double u(const sim::Sweep& s, std::size_t point, std::size_t i) { return s.unit[point * s.k() + i]; }

std::uint64_t bits(double v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

std::string sweep_yaml(const std::string& design, int samples, int replicates, const std::string& extra = "") {
    return test::small_yaml(200, 0.5, 99) + "replicates: " + std::to_string(replicates) + "\nsweep:\n  design: " + design +
           "\n  samples: " + std::to_string(samples) + "\n" + extra +
           "  parameters:\n"
           "    costs.bed_day: [200, 600]\n"
           "    adherence.slope: [0.5, 2.0]\n"
           "    structure.n_clinicians: [40, 60]\n";
}

}  // namespace

TEST_CASE("a Latin hypercube puts one point in each stratum of every parameter", "[sweep]") {
    const std::size_t n = 50, k = 4;
    const sim::Sweep s = design("latin_hypercube", n, k);
    REQUIRE(s.points() == n);
    for (std::size_t i = 0; i < k; ++i) {
        std::set<std::size_t> strata;
        for (std::size_t p = 0; p < n; ++p) {
            REQUIRE(u(s, p, i) >= 0.0);
            REQUIRE(u(s, p, i) < 1.0);
            strata.insert(static_cast<std::size_t>(u(s, p, i) * n));
        }
        CHECK(strata.size() == n);
    }
    // The strata are shuffled independently per parameter: columns are not all in the same order.
    std::size_t same = 0;
    for (std::size_t p = 0; p < n; ++p) same += static_cast<std::size_t>(u(s, p, 0) * n) == static_cast<std::size_t>(u(s, p, 1) * n);
    CHECK(same < n / 5);
}

TEST_CASE("a design depends only on the block and the seed", "[sweep]") {
    for (const char* name : {"latin_hypercube", "morris"}) {
        const int levels = std::string(name) == "morris" ? 4 : 0;
        const sim::Sweep a = design(name, 20, 3, levels, 7), b = design(name, 20, 3, levels, 7), c = design(name, 20, 3, levels, 8);
        CHECK(a.unit == b.unit);
        CHECK(a.unit != c.unit);
    }
    // Sobol' points are not random: the same for any seed.
    CHECK(design("saltelli", 8, 3, 0, 1).unit == design("saltelli", 8, 3, 0, 2).unit);
}

TEST_CASE("a Saltelli design holds A, B and A with one column from B for each base sample", "[sweep]") {
    const std::size_t n = 16, k = 3;
    const sim::Sweep s = design("saltelli", n, k);
    REQUIRE(s.points() == n * (k + 2));
    std::set<std::vector<double>> rows_a;
    for (std::size_t j = 0; j < n; ++j) {
        const std::size_t a = j * (k + 2), b = a + 1;
        CHECK(s.role[a] == 0);
        CHECK(s.role[b] == 1);
        CHECK(s.sample[a] == static_cast<int>(j));
        for (std::size_t i = 0; i < k; ++i) {
            const std::size_t ab = a + 2 + i;
            CHECK(s.role[ab] == static_cast<int>(2 + i));
            for (std::size_t c = 0; c < k; ++c) CHECK(u(s, ab, c) == (c == i ? u(s, b, c) : u(s, a, c)));
        }
        bool differs = false;
        for (std::size_t c = 0; c < k; ++c) differs |= u(s, a, c) != u(s, b, c);
        CHECK(differs);  // the Sobol' point with A = B is skipped
        rows_a.insert({&s.unit[a * k], &s.unit[a * k] + k});
    }
    CHECK(rows_a.size() == n);
    // A's first column is a (0, 1) low-discrepancy sequence: half of 16 points below 0.5.
    std::size_t low = 0;
    for (std::size_t j = 0; j < n; ++j) low += u(s, j * (k + 2), 0) < 0.5;
    CHECK(low == n / 2);
}

TEST_CASE("a Morris trajectory moves one parameter at a time by Delta on the grid", "[sweep]") {
    const std::size_t r = 30, k = 5;
    const int levels = 6;
    const double delta = levels / (2.0 * (levels - 1));
    const sim::Sweep s = design("morris", r, k, levels);
    REQUIRE(s.points() == r * (k + 1));
    std::size_t ups = 0, downs = 0;
    for (std::size_t t = 0; t < r; ++t) {
        const std::size_t first = t * (k + 1);
        CHECK(s.role[first] == -1);
        std::set<int> changed;
        for (std::size_t m = 0; m <= k; ++m) {
            const std::size_t p = first + m;
            CHECK(s.sample[p] == static_cast<int>(t));
            for (std::size_t i = 0; i < k; ++i) {
                const double g = u(s, p, i) * (levels - 1);
                CHECK(std::fabs(g - std::round(g)) < 1e-9);  // on the grid
                CHECK(u(s, p, i) >= 0.0);
                CHECK(u(s, p, i) <= 1.0);
            }
            if (m == 0) continue;
            const auto i = static_cast<std::size_t>(s.role[p]);
            changed.insert(s.role[p]);
            for (std::size_t c = 0; c < k; ++c) {
                const double d = u(s, p, c) - u(s, p - 1, c);
                if (c == i) {
                    CHECK(std::fabs(std::fabs(d) - delta) < 1e-12);
                    (d > 0 ? ups : downs) += 1;
                } else {
                    CHECK(d == 0.0);
                }
            }
        }
        CHECK(changed.size() == k);  // every parameter moves once
    }
    CHECK(ups > r * k / 4);  // both directions are used
    CHECK(downs > r * k / 4);
}

TEST_CASE("a sweep's runs are the point scenarios' replicates, keyed by replicate only", "[sweep][end_to_end]") {
    test::TempDir dir;
    const sim::Scenario sc = test::scenario(sweep_yaml("latin_hypercube", 3, 2));
    REQUIRE(sc.sweep);
    REQUIRE(sc.runs() == 6);
    sim::EnsembleOptions opt;
    opt.threads = 2;
    const std::string path = dir.path("sweep.h5");
    const auto info = sim::run_ensemble(models::make_model, test::schema(), sc, path, opt);
    CHECK(info.replicates == 6);
    const sim::ResultsFile f(path);
    REQUIRE(f.replicates() == 6);
    CHECK(f.read_numbers("/sweep/point") == std::vector<double>{0, 0, 1, 1, 2, 2});
    CHECK(f.read_numbers("/sweep/replicate") == std::vector<double>{0, 1, 0, 1, 0, 1});
    const auto values = f.read_numbers("/sweep/values");
    REQUIRE(values.size() == 9);
    for (std::size_t p = 0; p < 3; ++p) {
        CHECK(values[p * 3 + 2] == std::round(values[p * 3 + 2]));  // structure.n_clinicians is an integer
        CHECK(values[p * 3 + 0] >= 200.0);
        CHECK(values[p * 3 + 0] <= 600.0);
    }
    // Run 5 (point 2, replicate 1) is the single run of point 2's scenario with replicate 1.
    auto model = models::make_model();
    sim::RunOptions ro;
    ro.threads = 1;
    ro.replicate = 1;
    const sim::Scenario at = sc.at_point(2);
    CHECK(at.params.real("costs.bed_day") == values[6]);
    CHECK(at.params.where("costs.bed_day").line > 0);  // located at the sweep entry
    const auto res = sim::run(*model, test::schema(), at, ro);
    for (const char* name : {"mean_qol", "relapses", "cost_bed_days", "adherent"}) {
        const auto rows = f.national_replicates(name);
        const int id = res->world->series_id(name);
        for (std::size_t t = 0; t <= res->world->n_steps; ++t)
            REQUIRE(bits(rows[5][t]) == bits(res->world->series.value(test::schema(), t, static_cast<std::size_t>(id), sim::SeriesStore::ALL)));
    }
}

TEST_CASE("sweep points share random numbers: a parameter only costs depend on changes only costs", "[sweep][crn]") {
    test::TempDir dir;
    const std::string yaml = test::small_yaml(200, 0.5, 99) + "replicates: 2\nsweep:\n  design: sobol\n  samples: 3\n"
                             "  parameters:\n    costs.bed_day: [200, 600]\n";
    const sim::Scenario sc = test::scenario(yaml);
    sim::EnsembleOptions opt;
    opt.threads = 2;
    const std::string path = dir.path("crn.h5");
    (void)sim::run_ensemble(models::make_model, test::schema(), sc, path, opt);
    const sim::ResultsFile f(path);
    const auto qol = f.national_replicates("mean_qol"), cost = f.national_replicates("cost_bed_days"),
               beds = f.national_replicates("bed_days");
    for (std::size_t p = 1; p < 3; ++p)
        for (std::size_t j = 0; j < 2; ++j) {
            CHECK(qol[p * 2 + j] == qol[j]);    // the same patients, the same draws
            CHECK(beds[p * 2 + j] == beds[j]);
            CHECK(cost[p * 2 + j] != cost[j]);  // only the unit cost differs
        }
    CHECK(qol[0] != qol[1]);  // replicates differ
}

TEST_CASE("a sweep runs the same at 1 and 2 threads and its resolved scenario reproduces the design", "[sweep][determinism]") {
    test::TempDir dir;
    const sim::Scenario sc = test::scenario(sweep_yaml("morris", 2, 1, "  levels: 4\n"));
    REQUIRE(sc.runs() == 8);
    std::vector<std::vector<double>> out;
    for (unsigned threads : {1u, 2u}) {
        sim::EnsembleOptions opt;
        opt.threads = threads;
        const std::string path = dir.path("m" + std::to_string(threads) + ".h5");
        (void)sim::run_ensemble(models::make_model, test::schema(), sc, path, opt);
        const sim::ResultsFile f(path);
        std::vector<double> all;
        for (const auto& row : f.national_replicates("mean_symptoms")) all.insert(all.end(), row.begin(), row.end());
        out.push_back(all);
    }
    REQUIRE(out[0].size() == out[1].size());
    for (std::size_t i = 0; i < out[0].size(); ++i) REQUIRE(bits(out[0][i]) == bits(out[1][i]));

    const sim::Scenario again = test::scenario(sc.resolved_yaml(test::schema()));
    REQUIRE(again.sweep);
    CHECK(again.sweep->unit == sc.sweep->unit);
    CHECK(again.sweep->levels == 4);
    CHECK(again.resolved_yaml(test::schema()) == sc.resolved_yaml(test::schema()));
}

TEST_CASE("a swept parameter cannot also be set on the command line", "[sweep][scenario]") {
    try {
        (void)test::scenario(sweep_yaml("sobol", 4, 1), {"adherence.slope=1.0"});
        FAIL("expected an error");
    } catch (const sim::InconsistentScenario& e) {
        CHECK(e.key() == "adherence.slope");
        CHECK_THAT(e.detail(), Catch::Contains("is swept by the scenario's sweep: block"));
    }
    // Nor in the sweep's own file (the value would be ignored at every point) ...
    try {
        (void)test::scenario(sweep_yaml("sobol", 4, 1) + "adherence:\n  slope: 1.0\n");
        FAIL("expected an error");
    } catch (const sim::InconsistentScenario& e) {
        CHECK(e.key() == "adherence.slope");
        CHECK_THAT(e.detail(), Catch::Contains("is also swept by the sweep: block"));
    }
    // ... but a base file's value is what the sweep replaces, and the resolved scenario (which
    // lists every other parameter) runs again as it is.
    test::TempDir dir;
    {
        std::ofstream(dir.path("base.yaml")) << test::small_yaml(200, 0.5, 99) << "adherence:\n  slope: 1.0\n";
        std::ofstream(dir.path("child.yaml")) << "extends: base.yaml\nsweep:\n  design: sobol\n  samples: 4\n  parameters:\n"
                                                 "    adherence.slope: [0.5, 2.0]\n    costs.bed_day: [200, 600]\n";
    }
    const sim::Scenario sc = sim::load_scenario(test::schema(), dir.path("child.yaml"));
    CHECK(sc.params.real("adherence.slope") == 1.0);
    CHECK(sc.at_point(0).params.real("adherence.slope") != 1.0);
    const std::string resolved = sc.resolved_yaml(test::schema());
    CHECK(resolved.find("slope: 1") == std::string::npos);
    CHECK(test::scenario(resolved).sweep->unit == sc.sweep->unit);
}

TEST_CASE("integer parameters take each value of their range equally often", "[sweep]") {
    sim::Sweep s = design("latin_hypercube", 300, 1);
    s.parameters[0] = {"n", 1.0, 3.0, true, {}, {}};
    std::array<int, 3> count{};
    for (std::size_t p = 0; p < s.points(); ++p) {
        const double v = s.value(p, 0);
        REQUIRE(v == std::round(v));
        REQUIRE(v >= 1.0);
        REQUIRE(v <= 3.0);
        ++count[static_cast<std::size_t>(v) - 1];
    }
    CHECK(count == std::array<int, 3>{100, 100, 100});  // one stratum per point: exactly a third each
}

TEST_CASE("output.grouped: false writes the national series only, unchanged", "[sweep][h5]") {
    test::TempDir dir;
    std::vector<std::vector<std::vector<double>>> qol;
    for (const char* grouped : {"true", "false"}) {
        const sim::Scenario sc = test::scenario(test::small_yaml(200, 0.5, 99) + "replicates: 2\n", {std::string("output.grouped=") + grouped});
        sim::EnsembleOptions opt;
        opt.threads = 2;
        const std::string path = dir.path(std::string("g_") + grouped + ".h5");
        (void)sim::run_ensemble(models::make_model, test::schema(), sc, path, opt);
        const sim::ResultsFile f(path);
        CHECK(f.names("/series/grouped").empty() == (std::string(grouped) == "false"));
        CHECK(f.names("/summary/grouped").empty() == (std::string(grouped) == "false"));
        CHECK_FALSE(f.names("/series/national").empty());
        qol.push_back(f.national_replicates("mean_qol"));
    }
    CHECK(qol[0] == qol[1]);
}
