// Common random numbers: a DIALOG rollout and the same scenario without DIALOG, run with the
// same seed, share every draw DIALOG does not change. Every series and every agent column is
// identical at every step before the first training wave, and differs from then on; patients
// whose care coordinator never takes DIALOG up stay identical all run. Different seeds differ.
//
// The two scenarios are stepped side by side with the model's own phases, block by block as
// the engine runs them, so that the whole state can be compared after every step.

#include "models/components.hpp"
#include "sim/simulation.hpp"
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t SEED = 20240620;
constexpr int N_PATIENTS = 5000;  // three blocks of patients
constexpr double UPTAKE = 0.6;    // some clinicians never take DIALOG up
/// Agent types compared at every step (trusts differ from step 0: they carry the rollout schedule).
const std::vector<std::string> COMPARED = {"patient", "dyad", "clinician", "family", "team"};

std::string rollout_yaml(std::uint32_t seed = SEED) {
    return "seed: " + std::to_string(seed) +
           "\n"
           "time: {years: 1}\n"
           "population: {n_patients: " +
           std::to_string(N_PATIENTS) +
           "}\n"
           "structure:\n  team_size: 5\n  regions:\n"
           "    - {name: A, share: 0.5, n_trusts: 3}\n"
           "    - {name: B, share: 0.5, n_trusts: 3}\n"
           "clinicians: {turnover_per_year: 0}\n"
           "dialog:\n  enabled: true\n  uptake: " +
           std::to_string(UPTAKE) + "\n  rollout: {start_year: 0.25, duration_years: 0.5, n_waves: 3}\n";
}

/// A run advanced one step at a time: the engine's loop (init, burn-in without observers,
/// start of reporting, baseline observers, then the phases of each step with kernels fused per
/// block), without threads.
class Stepper {
public:
    Stepper(const std::string& yaml, const std::vector<std::string>& overrides)
        : scenario_(std::make_unique<sim::Scenario>(test::scenario(yaml, overrides))) {
        sim::preflight(model_, *scenario_);
        world_ = std::make_unique<sim::World>(test::schema(), *scenario_);
        model_.init(*world_);
        std::size_t rows = 0;
        for (const auto& t : world_->tables()) rows = std::max(rows, t.size());
        world_->series.init(test::schema(), world_->n_groups(), world_->n_steps, (rows + sim::BLOCK_SIZE - 1) / sim::BLOCK_SIZE);
        phases_ = model_.phases();
        for (std::uint32_t b = world_->n_burn_in; b > 0; --b) {
            world_->step = static_cast<std::uint32_t>(-static_cast<std::int64_t>(b));
            run_phases(Kernels::state);
        }
        world_->step = 0;
        model_.start_reporting(*world_);
        for (const auto& p : phases_)
            if (!p.agent_type.empty()) sweep(p, Kernels::observers);
        world_->series.commit(0);
    }
    void step() {
        sim::World& w = *world_;
        ++w.step;
        run_phases(Kernels::all);
        w.series.commit(w.step);
    }
    /// What the engine does after the last step (run means, trial analysis).
    void finish() { model_.finalize(*world_); }
    [[nodiscard]] sim::World& world() { return *world_; }
    [[nodiscard]] models::Ctx& ctx() { return model_.context(); }

private:
    enum class Kernels { all, observers, state };
    void run_phases(Kernels which) {
        for (const auto& p : phases_) {
            if (p.agent_type.empty())
                p.serial(*world_);
            else
                sweep(p, which);
        }
    }
    void sweep(const sim::Phase& p, Kernels which) {
        const std::size_t n = world_->agents(p.agent_type).size();
        for (std::size_t b = 0, begin = 0; begin < n; ++b, begin += sim::BLOCK_SIZE) {
            const sim::Block blk{b, begin, std::min(n, begin + sim::BLOCK_SIZE)};
            for (const auto& k : p.kernels)
                if (which == Kernels::all || (which == Kernels::observers) == k.observer) k.fn(*world_, blk);
        }
    }
    std::unique_ptr<sim::Scenario> scenario_;
    models::TherasimModel model_;
    std::unique_ptr<sim::World> world_;
    std::vector<sim::Phase> phases_;
};

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

/// Rows of agent type @p agent that differ in at least one column (with the first such column).
struct Differences {
    std::size_t rows = 0;
    std::string first;
};
Differences diff_table(const sim::World& a, const sim::World& b, const std::string& agent) {
    const auto &ta = a.agents(agent), &tb = b.agents(agent);
    REQUIRE(ta.size() == tb.size());
    Differences d;
    for (std::size_t r = 0; r < ta.size(); ++r) {
        for (std::size_t c = 0; c < ta.spec().attributes.size(); ++c)
            if (!same(ta.as_double(c, r), tb.as_double(c, r))) {
                if (d.first.empty()) d.first = agent + "[" + std::to_string(r) + "]." + ta.spec().attributes[c].name;
                ++d.rows;
                break;
            }
    }
    return d;
}

/// Series values of step @p step that differ (national-only values and every group's sums).
std::size_t diff_series(const sim::World& a, const sim::World& b, std::size_t step, std::string* first = nullptr) {
    std::size_t n = 0;
    for (std::size_t s = 0; s < a.series.n_series(); ++s) {
        bool differs = !same(a.series.national(step, s), b.series.national(step, s));
        for (std::size_t g = 0; g < a.series.n_groups(); ++g) differs = differs || !same(a.series.sum(step, g, s), b.series.sum(step, g, s));
        if (differs && first && first->empty()) *first = a.schema.series()[s].name;
        n += differs;
    }
    return n;
}

}  // namespace

TEST_CASE("a rollout and its comparison share every draw until the first training wave", "[crn][dialog]") {
    Stepper on(rollout_yaml(), {}), off(rollout_yaml(), {"dialog.enabled=false"});
    const auto& trusts = on.ctx().trust;
    std::int32_t first_wave = 1 << 30;
    for (std::size_t t = 0; t < trusts.n; ++t) first_wave = std::min(first_wave, trusts.ti_dialog_start[t]);
    REQUIRE(first_wave == 13);  // round(0.25 * 365.25 / 7)
    const auto steps = on.world().n_steps;
    for (std::uint32_t s = 0; s <= steps; ++s) {
        if (s > 0) {
            on.step();
            off.step();
        }
        CAPTURE(s);
        std::string first_series;
        const std::size_t series = diff_series(on.world(), off.world(), s, &first_series);
        CAPTURE(first_series);
        if (static_cast<std::int32_t>(s) < first_wave) {
            CHECK(series == 0);
            for (const auto& agent : COMPARED) {
                const auto d = diff_table(on.world(), off.world(), agent);
                CAPTURE(d.first);
                CHECK(d.rows == 0);
            }
        } else {
            // From the wave on, the number of clinicians using DIALOG differs (and so on).
            CHECK(series > 0);
            CHECK(diff_table(on.world(), off.world(), "clinician").rows > 0);
        }
    }
    // By the end, DIALOG has changed many patients' outcomes.
    const auto patients = diff_table(on.world(), off.world(), "patient");
    CHECK(patients.rows > static_cast<std::size_t>(N_PATIENTS) / 4);
    std::size_t qol = 0;
    for (std::size_t i = 0; i < on.ctx().p.n; ++i) qol += on.ctx().p.qol[i] != off.ctx().p.qol[i];
    CHECK(qol > static_cast<std::size_t>(N_PATIENTS) / 4);

    SECTION("patients whose care coordinator never took DIALOG up are identical all run") {
        // No turnover, so a post's holder is the same all run; rows of untrained posts' patients,
        // their dyads and their families must match in every column; exposed patients differ.
        auto& x = on.ctx();
        const auto& pa = on.world().agents("patient");
        const auto& pb = off.world().agents("patient");
        const auto& da = on.world().agents("dyad");
        const auto& db = off.world().agents("dyad");
        const auto& fa = on.world().agents("family");
        const auto& fb = off.world().agents("family");
        std::size_t unexposed = 0, exposed_differ = 0, exposed = 0;
        for (std::size_t i = 0; i < x.p.n; ++i) {
            const bool trained = x.c.dialog_trained[static_cast<std::size_t>(x.p.clinician[i])];
            bool all_same = true;
            for (std::size_t c = 0; c < pa.spec().attributes.size(); ++c) all_same = all_same && same(pa.as_double(c, i), pb.as_double(c, i));
            for (std::size_t c = 0; c < da.spec().attributes.size(); ++c) all_same = all_same && same(da.as_double(c, i), db.as_double(c, i));
            const std::int32_t fam = x.p.family[i];
            if (fam >= 0)
                for (std::size_t c = 0; c < fa.spec().attributes.size(); ++c)
                    all_same = all_same && same(fa.as_double(c, static_cast<std::size_t>(fam)), fb.as_double(c, static_cast<std::size_t>(fam)));
            if (trained) {
                ++exposed;
                exposed_differ += !all_same;
            } else {
                ++unexposed;
                CAPTURE(i);
                CHECK(all_same);
            }
        }
        CHECK(unexposed > 1000);
        CHECK(exposed_differ > exposed * 9 / 10);
    }
}

TEST_CASE("runs with different seeds differ from the start", "[crn]") {
    Stepper a(rollout_yaml(), {"dialog.enabled=false"}), b(rollout_yaml(SEED + 1), {"dialog.enabled=false"});
    CHECK(diff_series(a.world(), b.world(), 0) > 0);
    const auto d = diff_table(a.world(), b.world(), "patient");
    CHECK(d.rows > static_cast<std::size_t>(N_PATIENTS) * 9 / 10);
    a.step();
    b.step();
    CHECK(diff_series(a.world(), b.world(), 1) > 0);
}

TEST_CASE("the stepper used here reproduces the engine's run exactly", "[crn][determinism]") {
    // So that the comparisons above are about the model's runs, not about a different loop.
    Stepper s(rollout_yaml(), {});
    for (std::uint32_t t = 0; t < s.world().n_steps; ++t) s.step();
    s.finish();
    const auto r = test::run(rollout_yaml(), {}, 2);
    for (const auto& agent : COMPARED) {
        const auto d = diff_table(s.world(), r.world(), agent);
        CAPTURE(d.first);
        CHECK(d.rows == 0);
    }
    for (std::size_t t = 0; t <= r.world().n_steps; ++t) CHECK(diff_series(s.world(), r.world(), t) == 0);
}
