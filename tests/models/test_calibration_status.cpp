// The calibration status of run's summary (models/calibration.cpp): the generated record
// (models/calibration_status.hpp, written by tools/validate.sh) must be of the current
// defaults, and run says when a run changes a fitted parameter.
#include "models/calibration_status.hpp"
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

TEST_CASE("the calibration record is of the current fitted defaults and of every declared hypothesis", "[calibration][status]") {
    // A default changed by hand (a refit) without regenerating docs/validation.md fails here:
    // the figures that run and the report quote would no longer be those of the defaults.
    for (const auto& f : models::calibration::FITTED_DEFAULTS) {
        const std::string path(f.path);
        INFO(path);
        const sim::ParamSpec* spec = test::schema().find_param(path);
        REQUIRE(spec != nullptr);
        CHECK(spec->default_yaml == std::string(f.value));
    }
    const sim::ParamSpec* h = test::schema().find_param("mechanism.hypothesis");
    REQUIRE(h != nullptr);
    CHECK(h->choices.size() == models::calibration::HYPOTHESES.size());
    for (const auto& rec : models::calibration::HYPOTHESES) {
        INFO(std::string(rec.name));
        CHECK(std::find(h->choices.begin(), h->choices.end(), std::string(rec.name)) != h->choices.end());
        CHECK(rec.scored > 0);
        CHECK(rec.inside <= rec.scored);
    }
}

TEST_CASE("run's summary gives the calibration status, and says when a run changes a fitted parameter", "[calibration][status][cli]") {
    test::TempDir dir;
    const std::string scenario = dir.path("small.yaml");
    test::write_file(scenario, test::small_yaml(200, 0.1));
    const std::string bin = "'" + test::therasim_binary() + "' run '" + scenario + "' --threads 1 -o ";
    std::string out;
    REQUIRE(test::shell(bin + "'" + dir.path("a.h5") + "'", &out) == 0);
    CHECK_THAT(out, Catch::Contains("calibration: ") && Catch::Contains(" published targets inside with the defaults under mixture"));
    CHECK_THAT(out, !Catch::Contains("changes fitted parameters"));
    REQUIRE(test::shell(bin + "'" + dir.path("b.h5") + "' --set dialog.session_gain=0.3 --set mechanism.hypothesis=basis", &out) == 0);
    CHECK_THAT(out, Catch::Contains("under basis") && Catch::Contains("this run changes fitted parameters (dialog.session_gain)"));
}
