// Ensembles: replicates with their own keyed streams, streamed to one file with summaries.
#include "tests/support.hpp"

#include "sim/ensemble.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <cmath>
#include <cstring>

namespace {
constexpr int PATIENTS = 300;
constexpr std::uint32_t SEED = 4242;
constexpr int REPLICATES = 4;
const std::vector<std::string> SERIES = {"patients", "mean_qol", "relapses", "mean_star_p", "bed_days"};

std::uint64_t bits(double v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

std::string ensemble_yaml() { return test::small_yaml(PATIENTS, 1.0, SEED) + "replicates: " + std::to_string(REPLICATES) + "\n"; }

std::string run_to(const test::TempDir& dir, const std::string& name, unsigned threads) {
    const sim::Scenario sc = test::scenario(ensemble_yaml());
    sim::EnsembleOptions opt;
    opt.threads = threads;
    const std::string path = dir.path(name);
    (void)sim::run_ensemble(models::make_model, test::schema(), sc, path, opt);
    return path;
}

/// numpy's default (linear) quantile, computed independently of the engine's.
double np_quantile(std::vector<double> x, double p) {
    std::sort(x.begin(), x.end());
    const double h = (static_cast<double>(x.size()) - 1) * p;
    const double lo = std::floor(h);
    const auto i = static_cast<std::size_t>(lo);
    return i + 1 < x.size() ? x[i] + (h - lo) * (x[i + 1] - x[i]) : x[i];
}
}  // namespace

TEST_CASE("replicate r of an ensemble is the single run with replicate r", "[ensemble]") {
    test::TempDir dir;
    const sim::ResultsFile f(run_to(dir, "e.h5", 2));
    REQUIRE(f.replicates() == REPLICATES);
    for (std::uint32_t r : {0u, 3u}) {
        auto model = models::make_model();
        const sim::Scenario sc = test::scenario(ensemble_yaml());
        sim::RunOptions opt;
        opt.threads = 1;
        opt.replicate = r;
        const auto res = sim::run(*model, test::schema(), sc, opt);
        for (const auto& name : SERIES) {
            const auto rows = f.national_replicates(name);
            const int id = res->world->series_id(name);
            for (std::size_t t = 0; t < rows[r].size(); ++t)
                REQUIRE(bits(rows[r][t]) == bits(res->world->series.value(test::schema(), t, static_cast<std::size_t>(id),
                                                                           sim::SeriesStore::ALL)));
        }
    }
}

TEST_CASE("an ensemble gives the same file contents at 1 and 2 threads, and replicates differ", "[ensemble]") {
    test::TempDir dir;
    const sim::ResultsFile a(run_to(dir, "a.h5", 1)), b(run_to(dir, "b.h5", 2));
    for (const auto& name : SERIES) {
        const auto ra = a.national_replicates(name), rb = b.national_replicates(name);
        REQUIRE(ra.size() == rb.size());
        for (std::size_t r = 0; r < ra.size(); ++r)
            for (std::size_t t = 0; t < ra[r].size(); ++t) REQUIRE(bits(ra[r][t]) == bits(rb[r][t]));
        const auto sa = a.read_numbers("/summary/national/" + name), sb = b.read_numbers("/summary/national/" + name);
        for (std::size_t k = 0; k < sa.size(); ++k) REQUIRE(bits(sa[k]) == bits(sb[k]));
    }
    // Different replicates draw from different streams.
    const auto q = a.national_replicates("mean_qol");
    CHECK(q[0].back() != q[1].back());
    CHECK(q[1].back() != q[2].back());
}

TEST_CASE("summaries hold the mean and the 2.5, 50 and 97.5% quantiles over replicates", "[ensemble]") {
    test::TempDir dir;
    const sim::ResultsFile f(run_to(dir, "e.h5", 2));
    for (const auto& name : SERIES) {
        INFO("series " << name);
        const auto rows = f.national_replicates(name);
        const auto stats = f.read_numbers("/summary/national/" + name);
        const std::size_t steps = rows.front().size();
        REQUIRE(stats.size() == 4 * steps);
        for (std::size_t t = 0; t < steps; ++t) {
            std::vector<double> x;
            for (const auto& row : rows) x.push_back(row[t]);
            double mean = 0;
            for (double v : x) mean += v;
            mean /= static_cast<double>(x.size());
            CHECK(stats[t] == Approx(mean).epsilon(1e-12));
            CHECK(stats[steps + t] == Approx(np_quantile(x, 0.025)).epsilon(1e-12));
            CHECK(stats[2 * steps + t] == Approx(np_quantile(x, 0.5)).epsilon(1e-12));
            CHECK(stats[3 * steps + t] == Approx(np_quantile(x, 0.975)).epsilon(1e-12));
        }
    }
}

TEST_CASE("every replicate is marked done and agent states come from replicate 0", "[ensemble]") {
    test::TempDir dir;
    const sim::ResultsFile f(run_to(dir, "e.h5", 2));
    const auto done = f.read_numbers("/replicates/done");
    REQUIRE(done.size() == REPLICATES);
    for (double d : done) CHECK(d == 1.0);
    CHECK(f.read_numbers("/agents/patient/final/qol").size() == PATIENTS);
}

TEST_CASE("compare pairs replicates and prints the range of paired differences", "[ensemble][cli]") {
    test::TempDir dir;
    const std::string a = run_to(dir, "a.h5", 2);
    const sim::Scenario sc = test::scenario(ensemble_yaml(), {"dialog.enabled=true", "dialog.rollout.start_year=0.1"});
    sim::EnsembleOptions opt;
    (void)sim::run_ensemble(models::make_model, test::schema(), sc, dir.path("b.h5"), opt);
    std::string out;
    REQUIRE(test::shell(test::therasim_binary() + " compare " + dir.path("b.h5") + " " + a, &out) == 0);
    CHECK_THAT(out, Catch::Contains("A - B"));
    CHECK_THAT(out, Catch::Contains("2.5%"));
    CHECK_THAT(out, Catch::Contains("97.5%"));
    CHECK_THAT(out, Catch::Contains("Paired: replicate r of each run with replicate r of B"));
}

namespace {
/// The therasim model, raising a stop flag (as SIGINT would) when replicate STOP_AFTER finishes.
class StoppingModel final : public sim::Model {
public:
    StoppingModel(volatile std::sig_atomic_t* stop, std::uint32_t after) : inner_(models::make_model()), stop_(stop), after_(after) {}
    void declare(sim::Schema& s) const override { inner_->declare(s); }
    void check(const sim::Scenario& sc) const override { inner_->check(sc); }
    std::size_t estimate_bytes(const sim::Params& p) const override { return inner_->estimate_bytes(p); }
    void init(sim::World& w) override { inner_->init(w); }
    std::vector<sim::Phase> phases() override { return inner_->phases(); }
    std::vector<std::string> traced_agents() const override { return inner_->traced_agents(); }
    void finalize(sim::World& w) override {
        inner_->finalize(w);
        if (w.rng.replicate() == after_) *stop_ = SIGINT;
    }

private:
    std::unique_ptr<sim::Model> inner_;
    volatile std::sig_atomic_t* stop_;
    std::uint32_t after_;
};
}  // namespace

TEST_CASE("an interrupted ensemble keeps its finished replicates and the same command resumes it", "[ensemble][resume]") {
    // One thread runs replicates in order 0, 1, 2, ...: stopping after replicate 1 keeps 2 of 4.
    constexpr std::uint32_t STOP_AFTER = 1;
    test::TempDir dir;
    const sim::Scenario sc = test::scenario(ensemble_yaml());
    const std::string out = dir.path("resumed.h5");
    volatile std::sig_atomic_t stop = 0;
    sim::EnsembleOptions opt;
    opt.threads = 1;
    opt.stop = &stop;
    const sim::ModelFactory stopping = [&] { return std::make_unique<StoppingModel>(&stop, STOP_AFTER); };
    try {
        (void)sim::run_ensemble(stopping, test::schema(), sc, out, opt);
        FAIL("the ensemble was not interrupted");
    } catch (const sim::Interrupted& e) {
        CHECK_THAT(e.what(), Catch::Contains("2 of 4 replicates are kept in " + out + ".partial-run"));
    }
    CHECK_FALSE(std::filesystem::exists(out));
    REQUIRE(std::filesystem::exists(out + ".partial-run"));
    CHECK_THROWS_WITH(sim::ResultsFile(out + ".partial-run"), Catch::Contains("partial file of an unfinished run"));

    // The same command again: replicates 0 and 1 are skipped, 2 and 3 run, and the file equals
    // an uninterrupted run's.
    stop = 0;
    const sim::EnsembleInfo info = sim::run_ensemble(models::make_model, test::schema(), sc, out, opt);
    CHECK_FALSE(std::filesystem::exists(out + ".partial-run"));
    CHECK(info.step_seconds > 0.0);
    const sim::ResultsFile resumed(out), whole(run_to(dir, "whole.h5", 1));
    for (const auto& name : SERIES) {
        const auto a = resumed.national_replicates(name), b = whole.national_replicates(name);
        for (std::size_t r = 0; r < a.size(); ++r)
            for (std::size_t t = 0; t < a[r].size(); ++t) REQUIRE(bits(a[r][t]) == bits(b[r][t]));
        const auto sa = resumed.read_numbers("/summary/national/" + name), sb = whole.read_numbers("/summary/national/" + name);
        for (std::size_t k = 0; k < sa.size(); ++k) REQUIRE(bits(sa[k]) == bits(sb[k]));
    }
    CHECK(resumed.read_numbers("/agents/patient/final/qol") == whole.read_numbers("/agents/patient/final/qol"));
}

TEST_CASE("a partial file of another scenario is refused rather than resumed", "[ensemble][resume]") {
    test::TempDir dir;
    const std::string out = dir.path("x.h5");
    {
        const sim::Scenario other = test::scenario(ensemble_yaml(), {"seed=99"});
        sim::ResultsWriter w(out, test::schema(), other);
        auto model = models::make_model();
        sim::RunOptions ro;
        ro.threads = 1;
        const auto res = sim::run(*model, test::schema(), other, ro);
        w.write(*res);
    }
    REQUIRE(std::filesystem::exists(out + ".partial-run"));
    const sim::Scenario sc = test::scenario(ensemble_yaml());
    CHECK_THROWS_WITH(sim::ResultsWriter(out, test::schema(), sc), Catch::Contains("different scenario or seed"));
}

TEST_CASE("a run counts every step it takes, burn-in included, for the ensemble's progress", "[ensemble][progress]") {
    // The progress of an ensemble is the steps done over runs x (horizon + burn-in steps): each
    // run must add exactly its steps, so that the bar reaches 100% when the last run ends.
    const sim::Scenario sc = test::scenario(test::small_yaml(PATIENTS, 1.0, SEED), {"time.burn_in_weeks=10"});
    std::atomic<std::uint64_t> steps{0};
    sim::RunOptions ro;
    ro.threads = 1;
    ro.steps_done = &steps;
    auto model = models::make_model();
    const auto res = sim::run(*model, test::schema(), sc, ro);
    CHECK(res->world->n_burn_in == 10);
    CHECK(steps.load() == res->world->n_steps + res->world->n_burn_in);
}
