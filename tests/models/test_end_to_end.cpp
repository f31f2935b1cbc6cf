// End to end: the therasim executable runs a small scenario, writes an HDF5 results file that
// reads back with sim::ResultsFile, agrees with the same run in process, and refuses bad
// input with exit code 2. Scores stay on their scales under extreme parameters.

#include "models/components.hpp"
#include "sim/h5.hpp"
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr const char* TEACHING = "scenarios/teaching_small.yaml";
constexpr int EXIT_OK = 0, EXIT_INPUT = 2;

/// A small scenario of our own, used when scenarios/teaching_small.yaml is not there.
const char* const FALLBACK_YAML = R"(name: end-to-end fallback
seed: 4242
time: {years: 1, step_days: 7}
output: {trajectories: 30}
population: {n_patients: 60}
structure:
  regions:
    - {name: Town, share: 1.0, n_trusts: 1}
  n_clinicians: 3
  team_size: 3
dialog:
  enabled: true
  uptake: 1.0
  rollout: {start_year: 0.25, duration_years: 0.25, n_waves: 1}
)";

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The scenario to run: teaching_small.yaml if another developer has written it, else ours.
struct Chosen {
    std::string path, yaml;
};
Chosen choose(const test::TempDir& dir) {
    const std::string teaching = test::source_path(TEACHING);
    if (std::filesystem::exists(teaching)) return {teaching, read_text(teaching)};
    const std::string own = dir.path("small.yaml");
    std::ofstream(own) << FALLBACK_YAML;
    return {own, FALLBACK_YAML};
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TEST_CASE("the executable runs a small scenario and writes a results file that reads back", "[end_to_end]") {
    test::TempDir dir;
    const Chosen sc = choose(dir);
    const std::string out = dir.path("results.h5");
    std::string log;
    const int rc = test::shell(quote(test::therasim_binary()) + " run " + quote(sc.path) + " -o " + quote(out) + " --threads 2 --quiet", &log);
    INFO(log);
    REQUIRE(rc == EXIT_OK);
    REQUIRE(std::filesystem::exists(out));
    for (const auto& e : std::filesystem::directory_iterator(dir.dir()))
        CHECK(e.path().filename().string().find(".partial") == std::string::npos);  // no temporary left behind

    const sim::ResultsFile f(out);
    // The same scenario in process (invariant checks on), for reference values.
    const auto ref = test::run(sc.yaml, {}, 1);
    const auto& w = ref.world();
    const auto n_steps = w.n_steps;
    const auto n_patients = static_cast<double>(w.agents("patient").size());

    const auto days = f.days();
    REQUIRE(days.size() == n_steps + 1);
    CHECK(days[0] == 0.0);
    CHECK(days[1] == Approx(w.step_days));

    const auto names = f.national_series();
    for (const char* expected : {"patients", "engaged", "mean_symptoms", "mean_qol", "admissions_involuntary",
                                 "dialog_sessions", "clinicians_dialog_trained"})
        CHECK(std::find(names.begin(), names.end(), expected) != names.end());
    // Every national series equals the in-process run's value at every step (same seed and
    // scenario, a different process and number of threads).
    for (const auto& name : names) {
        const sim::SeriesData d = f.national(name);
        REQUIRE(d.values.size() == n_steps + 1);
        for (std::size_t t = 0; t <= n_steps; ++t) {
            const double mine = ref.national(name, t);
            CAPTURE(name, t);
            CHECK((d.values[t] == mine || (std::isnan(mine) && std::isnan(d.values[t]))));
        }
    }
    for (const double v : f.national("patients").values) CHECK(v == n_patients);

    // Final and baseline agent state.
    const auto symptoms = f.read_numbers("/agents/patient/final/symptoms");
    const auto symptoms0 = f.read_numbers("/agents/patient/baseline/symptoms");
    REQUIRE(symptoms.size() == static_cast<std::size_t>(n_patients));
    REQUIRE(symptoms0.size() == symptoms.size());
    const auto& px = ref.ctx().p;
    for (std::size_t i = 0; i < symptoms.size(); ++i) {
        CHECK(symptoms[i] >= 18.0);
        CHECK(symptoms[i] <= 126.0);
        CHECK(symptoms[i] == Approx(px.symptoms[i]).epsilon(1e-6));
    }
    const auto star = f.read_numbers("/agents/dyad/final/star_p");
    REQUIRE(star.size() == symptoms.size());
    for (double s : star) CHECK((s >= 0.0 && s <= 4.0));
    CHECK(f.provenance("scenario_name").size() > 0);
}

TEST_CASE("the executable refuses bad input with exit code 2 and writes nothing", "[end_to_end]") {
    test::TempDir dir;
    const Chosen sc = choose(dir);
    const std::string out = dir.path("results.h5");
    const std::string run = quote(test::therasim_binary()) + " run " + quote(sc.path) + " -o " + quote(out) + " --quiet ";
    std::string log;
    CHECK(test::shell(run + "--set relapse.p_year_on_medication=1.5", &log) == EXIT_INPUT);
    CHECK(log.find("relapse.p_year_on_medication") != std::string::npos);
    CHECK(test::shell(run + "--set relapse.no_such_key=1", &log) == EXIT_INPUT);
    CHECK(test::shell(run + "--set structure.n_clinicians=1 --set population.n_patients=500", &log) == EXIT_INPUT);
    CHECK_FALSE(std::filesystem::exists(out));
    // An existing output is not overwritten without --overwrite.
    std::ofstream(out) << "not a results file";
    CHECK(test::shell(run, &log) == EXIT_INPUT);
    CHECK(read_text(out) == "not a results file");
    CHECK(test::shell(quote(test::therasim_binary()) + " validate " + quote(sc.path), &log) == EXIT_OK);
}

TEST_CASE("scores stay within their scales under extreme parameters", "[end_to_end][invariants]") {
    // The run helper checks every declared attribute range (STAR 0-4, ratings 1-7, BPRS 18-126,
    // needs 0-22, ...) and NaN after every step and throws on a violation. Parameters are pushed
    // to the ends of their ranges to drive the state against the scale limits.
    const std::vector<std::string> extreme = {
        "relapse.p_year_on_medication=0.95",  "relapse.p_year_off_medication=0.999", "symptoms.relapse_increase=100",
        "symptoms.noise_sd=20",               "symptoms.nonadherence_increase=50",  "wellbeing.qol_noise_sd=6",
        "wellbeing.qol_shock_sd=6",           "wellbeing.p_need_week=1",            "wellbeing.need_qol_effect=6",
        "admission.coercion_damage=4",        "admission.p_per_week_in_relapse=1",  "relationship.noise_sd=2",
        "relationship.symptom_strain=4",      "relationship.dialog_gain=4",         "relationship.chemistry_sd=4",
        "relationship.bias_patient_sd=4",     "mechanism.hypothesis=therapy_in_itself", "mechanism.symptom_effect=100",
        "mechanism.qol_effect=6",             "dialog.enabled=true",                "dialog.rollout.start_year=0.05",
        "dialog.approach_effect.none=10",     "dialog.variant=dialog_plus",         "wellbeing.sat_dialog=6",
        "adherence.noise_sd=1",               "family.ee_burden=10",                "family.burden_symptoms=10",
        "clinicians.turnover_per_year=1"};
    for (const double sign : {1.0, -1.0}) {
        CAPTURE(sign);
        std::vector<std::string> o = extreme;
        o.push_back("relationship.continuity_gain=" + std::to_string(4 * sign));
        o.push_back("relationship.match_gain=" + std::to_string(4 * sign));
        o.push_back("wellbeing.sat_relationship=" + std::to_string(6 * sign));
        REQUIRE_NOTHROW(test::run(test::small_yaml(3000, 1.0, 99), o, 2));
    }
}
