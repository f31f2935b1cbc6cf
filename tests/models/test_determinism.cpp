// Determinism: the same scenario and seed give bit-identical results whatever the number of
// threads, and across repeated runs: every column of every agent table, every series value
// (national and per group), the baseline snapshot and the sampled trajectories.

#include "models/components.hpp"
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t SEED = 20240619;
/// More than two blocks of patients (BLOCK_SIZE 2048) and of families, so that threads really
/// split the sweeps; every optional component is switched on so that each code path runs.
constexpr int N_PATIENTS = 6000;

std::string scenario_yaml() {
    return "seed: " + std::to_string(SEED) +
           "\n"
           "time: {years: 1.5}\n"
           "population: {n_patients: " +
           std::to_string(N_PATIENTS) +
           ", p_family: 0.8}\n"
           "structure:\n  team_size: 5\n  match_preferences: true\n  regions:\n"
           "    - {name: A, share: 0.6, n_trusts: 3, coercion: 1.5}\n"
           "    - {name: B, share: 0.4, n_trusts: 2, capacity: 0.8}\n"
           "clinicians:\n  turnover_per_year: 0.3\n  skills_training: {enabled: true, start_year: 0.3, coverage: 0.5}\n"
           "family:\n  intervention: {enabled: true, start_year: 0.4, coverage: 0.5}\n"
           "dialog:\n  enabled: true\n  variant: dialog\n  rollout: {start_year: 0.2, duration_years: 0.8, n_waves: 3}\n"
           "output: {trajectories: 500}\n";
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

/// @return a description of the first difference between two columns, or "".
std::string diff_columns(const sim::Column& a, const sim::Column& b) {
    if (a.index() != b.index()) return "column types differ";
    return std::visit(
        [&](const auto& va) -> std::string {
            const auto& vb = std::get<std::decay_t<decltype(va)>>(b);
            if (va.size() != vb.size()) return "sizes differ";
            for (std::size_t r = 0; r < va.size(); ++r)
                if (!same(static_cast<double>(va[r]), static_cast<double>(vb[r]))) {
                    std::ostringstream m;
                    m << "row " << r << ": " << +va[r] << " vs " << +vb[r];
                    return m.str();
                }
            return "";
        },
        a);
}

/// @return a description of the first difference between two runs' results, or "".
std::string diff_results(const sim::Results& a, const sim::Results& b) {
    const sim::World &wa = *a.world, &wb = *b.world;
    if (wa.tables().size() != wb.tables().size()) return "number of agent types";
    for (std::size_t t = 0; t < wa.tables().size(); ++t) {
        const auto &ta = wa.tables()[t], &tb = wb.tables()[t];
        if (ta.size() != tb.size()) return ta.name() + ": sizes differ";
        for (std::size_t c = 0; c < ta.spec().attributes.size(); ++c) {
            const std::string d = diff_columns(ta.column_at(c), tb.column_at(c));
            if (!d.empty()) return ta.name() + "." + ta.spec().attributes[c].name + " " + d;
        }
    }
    const auto &sa = wa.series, &sb = wb.series;
    if (sa.n_steps() != sb.n_steps() || sa.n_groups() != sb.n_groups() || sa.n_series() != sb.n_series()) return "series shapes";
    for (std::size_t step = 0; step <= sa.n_steps(); ++step)
        for (std::size_t s = 0; s < sa.n_series(); ++s) {
            const std::string name = wa.schema.series()[s].name + " at step " + std::to_string(step);
            if (!same(sa.national(step, s), sb.national(step, s))) return "national-only value of " + name;
            if (!same(sa.value(wa.schema, step, s, sim::SeriesStore::ALL), sb.value(wb.schema, step, s, sim::SeriesStore::ALL)))
                return "national value of " + name;
            for (std::size_t g = 0; g < sa.n_groups(); ++g) {
                if (!same(sa.sum(step, g, s), sb.sum(step, g, s))) return "group sum of " + name + ", group " + std::to_string(g);
                if (!same(sa.value(wa.schema, step, s, g), sb.value(wb.schema, step, s, g)))
                    return "group value of " + name + ", group " + std::to_string(g);
            }
        }
    if (a.baseline.size() != b.baseline.size()) return "baseline snapshots";
    for (std::size_t k = 0; k < a.baseline.size(); ++k) {
        if (a.baseline[k].agent != b.baseline[k].agent || a.baseline[k].columns != b.baseline[k].columns)
            return "baseline snapshot layout";
        for (std::size_t c = 0; c < a.baseline[k].data.size(); ++c) {
            const std::string d = diff_columns(a.baseline[k].data[c], b.baseline[k].data[c]);
            if (!d.empty()) return "baseline " + a.baseline[k].agent + " column " + std::to_string(c) + " " + d;
        }
    }
    const auto &ra = a.trajectories, &rb = b.trajectories;
    if (ra.rows != rb.rows || ra.columns.size() != rb.columns.size() || ra.values.size() != rb.values.size()) return "trajectory layout";
    for (std::size_t k = 0; k < ra.values.size(); ++k)
        if (!same(ra.values[k], rb.values[k])) return "trajectory value " + std::to_string(k);
    return "";
}

}  // namespace

TEST_CASE("the same scenario and seed give bit-identical results at 1, 2 and 8 threads and across runs", "[determinism]") {
    const auto reference = test::run(scenario_yaml(), {}, 1);
    REQUIRE(reference.world().agents("patient").size() > 2 * sim::BLOCK_SIZE);
    REQUIRE(reference.world().agents("family").size() > sim::BLOCK_SIZE);
    // The run did something in every component (otherwise identical results prove little).
    const auto& x = reference.ctx();
    double trained = 0, hires = 0, treated = 0;
    for (std::size_t post = 0; post < x.c.n; ++post) trained += x.c.dialog_trained[post], hires += x.c.hire[post];
    for (std::size_t j = 0; j < x.f.n; ++j) treated += x.f.intervention[j];
    CHECK(trained > 0);
    CHECK(hires > 0);
    CHECK(treated > 0);

    const auto again = test::run(scenario_yaml(), {}, 1);
    CHECK(diff_results(*reference.results, *again.results) == "");
    for (const unsigned threads : {2u, 8u}) {
        CAPTURE(threads);
        const auto other = test::run(scenario_yaml(), {}, threads);
        CHECK(other.results->threads == threads);
        CHECK(diff_results(*reference.results, *other.results) == "");
    }
}

TEST_CASE("a different seed gives different results", "[determinism]") {
    // Guards the comparison above: it must be able to see a difference.
    const auto a = test::run(scenario_yaml(), {}, 2);
    const auto b = test::run(scenario_yaml(), {"seed=" + std::to_string(SEED + 1)}, 2);
    CHECK(diff_results(*a.results, *b.results) != "");
}

TEST_CASE("every instruction-set version of the kernels and of Philox gives the same bits", "[determinism][isa]") {
    // models/simd.hpp: the patient kernels for the baseline x86-64, AVX2 and AVX-512; sim/rng.cpp:
    // Philox and the normals' first try for the baseline, AVX2 and AVX-512. A version this
    // processor lacks falls back to the one below it, and is then not tested.
    using sim::detail::Isa;
    sim::detail::force_isa(Isa::scalar);
    const auto scalar = test::run(scenario_yaml(), {}, 2);
    CHECK(scalar.ctx().isa == Isa::scalar);
    for (const Isa isa : {Isa::avx2, Isa::avx512}) {
        if (!sim::detail::isa_supported(isa)) continue;
        CAPTURE(static_cast<int>(isa));
        sim::detail::force_isa(isa);
        const auto other = test::run(scenario_yaml(), {}, 2);
        CHECK(other.ctx().isa == isa);
        CHECK(diff_results(*scalar.results, *other.results) == "");
    }
    sim::detail::force_isa(std::nullopt);
}
