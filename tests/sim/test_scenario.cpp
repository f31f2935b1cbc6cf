// Scenario loading and validation: every error names the file, the 1-based line and the key,
// and has the documented type; `extends:` chains, `--set` overrides, hostile files, the
// model's cross-parameter checks (preflight), and the resolved YAML round trip.
#include "tests/support.hpp"

#include "sim/errors.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// ---- constants ------------------------------------------------------------------------------

constexpr const char* FILE_NAME = "inline.yaml";  // stands in for a file name in load_scenario_text
constexpr const char* P_ON = "relapse.p_year_on_medication";
constexpr const char* N_PATIENTS = "population.n_patients";
constexpr const char* REGIONS = "structure.regions";
constexpr const char* DIRECT_WEIGHT = "mechanism.direct_weight";
constexpr const char* START_YEAR = "dialog.rollout.start_year";
constexpr const char* SET_PREFIX = "--set ";
constexpr long long MAX_PATIENTS = 20000000;  // upper bound of population.n_patients

// A valid scenario small enough to run; one region line per row so that lines are predictable.
constexpr const char* SMALL = R"(seed: 1
time: {years: 1}
population: {n_patients: 400}
structure:
  team_size: 5
  regions:
    - {name: North, share: 0.5, n_trusts: 2}
    - {name: South, share: 0.5, n_trusts: 2}
)";
constexpr int SMALL_REGIONS_LINE = 7;  // the regions list starts at its first "-"

// ---- helpers --------------------------------------------------------------------------------

sim::Scenario load(const std::string& yaml, const std::vector<std::string>& overrides = {},
                   const std::string& base_dir = ".") {
    return sim::load_scenario_text(test::schema(), yaml, FILE_NAME, overrides, base_dir);
}

/// Runs @p f and returns the exception of exactly type E it throws; fails the test otherwise.
template <class E, class F> E thrown(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e;
    } catch (const std::exception& e) {
        FAIL("threw another exception type: " << e.what());
    }
    FAIL("did not throw");
    throw std::logic_error("unreachable");
}

/// SMALL with its population line (line 3) replaced by @p line.
std::string with_population(const std::string& line) {
    std::string yaml = SMALL;
    const std::string old = "population: {n_patients: 400}";
    return yaml.replace(yaml.find(old), old.size(), line);
}

template <class E> E load_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    return thrown<E>([&] { (void)load(yaml, overrides); });
}

template <class E> E preflight_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    const sim::Scenario sc = load(yaml, overrides);
    models::TherasimModel model;
    return thrown<E>([&] { sim::preflight(model, sc); });
}

/// Name of file @p i of an `extends:` chain.
std::string chain_file(int i) {
    std::string name = "f";
    name += std::to_string(i);
    name += ".yaml";
    return name;
}

/// Writes f0.yaml extending f1.yaml ... extending f(n-1).yaml, the last one a plain scenario.
void write_chain(const test::TempDir& dir, int n) {
    for (int i = 0; i < n; ++i) {
        std::string text = "seed: 1\n";
        if (i + 1 < n) text = "extends: " + chain_file(i + 1) + "\n";
        test::write_file(dir.path(chain_file(i)), text);
    }
}

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

/// Every parameter of @p a equals the one of @p b: type, number (bit for bit), string, table rows.
void require_same_params(const sim::Params& a, const sim::Params& b) {
    REQUIRE(a.all().size() == b.all().size());
    for (const auto& [path, va] : a.all()) {
        INFO("parameter " << path);
        REQUIRE(b.all().count(path) == 1);
        const sim::Value& vb = b.get(path);
        CHECK(va.type == vb.type);
        CHECK(bits(va.num) == bits(vb.num));
        CHECK(va.str == vb.str);
        REQUIRE(va.rows.size() == vb.rows.size());
        for (std::size_t r = 0; r < va.rows.size(); ++r) {
            REQUIRE(va.rows[r].size() == vb.rows[r].size());
            for (const auto& [field, cell] : va.rows[r]) {
                INFO("row " << r << " field " << field);
                REQUIRE(vb.rows[r].count(field) == 1);
                CHECK(bits(cell.num) == bits(vb.rows[r].at(field).num));
                CHECK(cell.str == vb.rows[r].at(field).str);
            }
        }
    }
}

}  // namespace

// ==== unknown keys ===========================================================================

TEST_CASE("an unknown top-level key is refused with a suggestion, file, line and key", "[scenario][keys]") {
    const auto e = load_error<sim::UnknownKey>("seed: 3\npopuation:\n  n_patients: 10\n");
    CHECK(e.key() == "popuation");
    CHECK(e.where().file == FILE_NAME);
    CHECK(e.where().line == 2);
    CHECK_THAT(e.what(), Catch::StartsWith("inline.yaml:2: key 'popuation': unknown key"));
    CHECK_THAT(e.what(), Catch::Contains("did you mean 'population'?"));
}

TEST_CASE("a misspelt nested key is refused with the nearest key of its section", "[scenario][keys]") {
    const auto e = load_error<sim::UnknownKey>("seed: 3\nrelapse:\n  p_year_on_medication: 0.2\n  mean_duration_weks: 8\n");
    CHECK(e.key() == "relapse.mean_duration_weks");
    CHECK(e.where().line == 4);
    CHECK_THAT(e.what(), Catch::Contains("did you mean 'mean_duration_weeks'?"));
    CHECK_THAT(e.what(), Catch::Contains("Valid keys in 'relapse' are:"));
    CHECK_THAT(e.what(), Catch::Contains("p_year_off_medication"));
}

TEST_CASE("a key far from every valid key gets no suggestion but the list of valid keys", "[scenario][keys]") {
    const auto e = load_error<sim::UnknownKey>("zzzzzzzzzzzzzzzz: 1\n");
    CHECK(e.key() == "zzzzzzzzzzzzzzzz");
    CHECK_THAT(e.what(), !Catch::Contains("did you mean"));
    CHECK_THAT(e.what(), Catch::Contains("Valid keys are:"));
    CHECK_THAT(e.what(), Catch::Contains("extends"));
}

TEST_CASE("nearest_keys ranks candidates by edit distance and drops far ones", "[scenario][keys]") {
    const std::vector<std::string> candidates{"population", "relapse", "popular", "time"};
    const auto near = sim::nearest_keys("populaton", candidates);
    REQUIRE(!near.empty());
    CHECK(near.front() == "population");
    CHECK(std::find(near.begin(), near.end(), "time") == near.end());
    CHECK(sim::nearest_keys("qqqqqqqqq", candidates).empty());
}

TEST_CASE("a non-scalar key is refused", "[scenario][keys]") {
    const auto e = load_error<sim::WrongType>("seed: 1\n? [a, b]\n: 1\n");
    CHECK_THAT(e.what(), Catch::Contains("a key must be a plain name"));
    CHECK(e.where().line == 2);
}

// ==== wrong types ============================================================================

TEST_CASE("a string where a number is expected is a WrongType at the value's line", "[scenario][types]") {
    const auto e = load_error<sim::WrongType>("seed: 1\nrelapse:\n  p_year_on_medication: high\n");
    CHECK(e.key() == P_ON);
    CHECK(e.where().line == 3);
    CHECK_THAT(e.what(), Catch::StartsWith("inline.yaml:3: key 'relapse.p_year_on_medication': "));
    CHECK_THAT(e.what(), Catch::Contains("expected a real number, got 'high'"));
}

TEST_CASE("a quoted number is a string, not a number", "[scenario][types]") {
    SECTION("double quotes") {
        const auto e = load_error<sim::WrongType>("relapse: {p_year_on_medication: \"0.3\"}\n");
        CHECK(e.key() == P_ON);
        CHECK_THAT(e.what(), Catch::Contains("(a quoted string)"));
    }
    SECTION("single quotes, integer") {
        const auto e = load_error<sim::WrongType>("population: {n_patients: '400'}\n");
        CHECK(e.key() == N_PATIENTS);
        CHECK_THAT(e.what(), Catch::Contains("expected an integer"));
        CHECK_THAT(e.what(), Catch::Contains("(a quoted string)"));
    }
    SECTION("quoted boolean") {
        const auto e = load_error<sim::WrongType>("dialog: {enabled: \"true\"}\n");
        CHECK(e.key() == "dialog.enabled");
        CHECK_THAT(e.what(), Catch::Contains("expected true or false"));
    }
}

TEST_CASE("a list where a section (map) is expected is refused with the section's keys", "[scenario][types]") {
    const auto e = load_error<sim::WrongType>("seed: 1\nrelapse: [0.2, 0.5]\n");
    CHECK(e.key() == "relapse");
    CHECK(e.where().line == 2);
    CHECK_THAT(e.what(), Catch::Contains("expected a section with keys ["));
    CHECK_THAT(e.what(), Catch::Contains("p_year_on_medication"));
    CHECK_THAT(e.what(), Catch::EndsWith("got a list"));
}

TEST_CASE("a map where a value is expected is refused", "[scenario][types]") {
    const auto e = load_error<sim::WrongType>("seed: 1\nrelapse:\n  p_year_on_medication:\n    value: 0.2\n");
    CHECK(e.key() == P_ON);
    CHECK(e.where().line == 4);
    CHECK_THAT(e.what(), Catch::Contains("expected a real number, got a mapping"));
}

TEST_CASE("other wrong types: fractional integer, non-boolean, null value, list for a choice", "[scenario][types]") {
    CHECK_THAT(load_error<sim::WrongType>("population: {n_patients: 10.5}\n").what(),
               Catch::Contains("expected an integer, got '10.5'"));
    CHECK_THAT(load_error<sim::WrongType>("dialog: {enabled: maybe}\n").what(),
               Catch::Contains("expected true or false, got 'maybe'"));
    CHECK_THAT(load_error<sim::WrongType>("time:\n  years:\n").what(), Catch::Contains("got nothing (null)"));
    const auto e = load_error<sim::WrongType>("mechanism: {hypothesis: [basis]}\n");
    CHECK(e.key() == "mechanism.hypothesis");
    CHECK_THAT(e.what(), Catch::Contains("expected one of [basis, therapy_in_itself, mixture], got a list"));
}

TEST_CASE("a scenario that is not a mapping is refused", "[scenario][types]") {
    const auto e = load_error<sim::WrongType>("- seed\n- 1\n");
    CHECK_THAT(e.what(), Catch::Contains("a scenario must be a mapping of keys, got a list"));
}

// ==== ranges and choices =====================================================================

TEST_CASE("a probability of 1.5 is out of range, with the range and unit", "[scenario][range]") {
    const auto e = load_error<sim::OutOfRange>("seed: 1\nrelapse: {p_year_on_medication: 1.5}\n");
    CHECK(e.key() == P_ON);
    CHECK(e.where().line == 2);
    CHECK_THAT(e.what(), Catch::Contains("expected a value in [0, 1], got 1.5 (unit: probability/year)"));
}

TEST_CASE("a negative population size is out of range", "[scenario][range]") {
    const auto e = load_error<sim::OutOfRange>("population:\n  n_patients: -5\n");
    CHECK(e.key() == N_PATIENTS);
    CHECK(e.where().line == 2);
    CHECK_THAT(e.what(), Catch::Contains("expected a value in [1, "));
    CHECK_THAT(e.what(), Catch::Contains("got -5 (unit: patients)"));
}

TEST_CASE("zero is refused where the range excludes its lower bound", "[scenario][range]") {
    const auto e = load_error<sim::OutOfRange>("time: {years: 0}\n");
    CHECK(e.key() == "time.years");
    CHECK_THAT(e.what(), Catch::Contains("expected a value in (0, 100], got 0"));
    // The bounds themselves: the open end is excluded, the closed end included.
    CHECK_NOTHROW(load("time: {years: 100}\n"));
    CHECK_NOTHROW(load("time: {years: 0.0001}\n"));
    CHECK_THROWS_AS(load("time: {years: 100.0001}\n"), sim::OutOfRange);
}

TEST_CASE("NaN and infinities are refused as not finite", "[scenario][range]") {
    for (const char* v : {".nan", ".NaN", ".inf", "-.inf", "+.inf", ".Inf", "nan", "inf"}) {
        INFO("value " << v);
        const auto e = load_error<sim::OutOfRange>(std::string("relapse:\n  p_year_on_medication: ") + v + "\n");
        CHECK(e.key() == P_ON);
        CHECK(e.where().line == 2);
        CHECK_THAT(e.what(), Catch::Contains("expected a finite number in [0, 1]"));
    }
    // Other spellings are not numbers at all; they must still be refused.
    for (const char* v : {".INF", "NaN", "infinity", "1e400"}) {
        INFO("value " << v);
        CHECK_THROWS_AS(load(std::string("relapse: {p_year_on_medication: ") + v + "}\n"), sim::InputError);
    }
}

TEST_CASE("an integer beyond its range or beyond 64 bits is refused", "[scenario][range]") {
    CHECK_THAT(load_error<sim::OutOfRange>("seed: 4294967296\n").what(), Catch::Contains("[0, 4294967295]"));
    CHECK_THAT(load_error<sim::OutOfRange>("population: {n_patients: 20000001}\n").what(), Catch::Contains("got 20000001"));
    CHECK_THAT(load_error<sim::WrongType>("population: {n_patients: 99999999999999999999999}\n").what(),
               Catch::Contains("expected an integer"));
}

TEST_CASE("a choice not in the list is refused with the nearest choice", "[scenario][choice]") {
    SECTION("hypothesis") {
        const auto e = load_error<sim::OutOfRange>("seed: 1\nmechanism:\n  hypothesis: mixtur\n");
        CHECK(e.key() == "mechanism.hypothesis");
        CHECK(e.where().line == 3);
        CHECK_THAT(e.what(), Catch::Contains("expected one of [basis, therapy_in_itself, mixture], got 'mixtur'"));
        CHECK_THAT(e.what(), Catch::Contains("did you mean 'mixture'?"));
    }
    SECTION("variant") {
        const auto e = load_error<sim::OutOfRange>("dialog: {variant: dialog_pluss}\n");
        CHECK_THAT(e.what(), Catch::Contains("did you mean 'dialog_plus'?"));
    }
    SECTION("far from every choice") {
        const auto e = load_error<sim::OutOfRange>("dialog: {variant: qqqqqqqqqqqqqqqqqqqq}\n");
        CHECK_THAT(e.what(), !Catch::Contains("did you mean"));
        CHECK_THAT(e.what(), Catch::Contains("expected one of [dialog, dialog_plus]"));
    }
}

// ==== table rows =============================================================================

TEST_CASE("a table row with an unknown field names the row, the field and the valid fields", "[scenario][table]") {
    const auto e = load_error<sim::UnknownKey>(
        "structure:\n  regions:\n    - {name: A, share: 0.5, n_trusts: 2}\n    - {name: B, shares: 0.5, n_trusts: 2}\n");
    CHECK(e.key() == "structure.regions[1].shares");
    CHECK(e.where().line == 4);
    CHECK_THAT(e.what(), Catch::Contains("unknown field; did you mean 'share'?"));
    CHECK_THAT(e.what(), Catch::Contains("Fields are: name, share, n_trusts, coercion, capacity"));
}

TEST_CASE("a table row missing a required field is refused while optional fields take defaults", "[scenario][table]") {
    const auto e = load_error<sim::InconsistentScenario>(
        "seed: 1\nstructure:\n  regions:\n    - {name: A, share: 1.0}\n");
    CHECK(e.key() == "structure.regions[0]");
    CHECK(e.where().line == 4);
    CHECK_THAT(e.what(), Catch::Contains("missing field 'n_trusts'"));

    const sim::Scenario sc = load("structure:\n  regions:\n    - {name: A, share: 1.0, n_trusts: 3}\n");
    const auto& rows = sc.params.table(REGIONS);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("name").str == "A");
    CHECK(rows[0].at("n_trusts").num == 3);
    CHECK(rows[0].at("coercion").num == 1.0);
    CHECK(rows[0].at("capacity").num == 1.0);
}

TEST_CASE("table cells are validated like parameters and the table must be a non-empty list", "[scenario][table]") {
    SECTION("a cell of the wrong type") {
        const auto e = load_error<sim::WrongType>("structure:\n  regions:\n    - {name: A, share: lots, n_trusts: 2}\n");
        CHECK(e.key() == "structure.regions[0].share");
        CHECK(e.where().line == 3);
    }
    SECTION("a cell out of range") {
        const auto e = load_error<sim::OutOfRange>("structure:\n  regions:\n    - {name: A, share: 1, n_trusts: 0}\n");
        CHECK(e.key() == "structure.regions[0].n_trusts");
        CHECK_THAT(e.what(), Catch::Contains("[1, 1000]"));
    }
    SECTION("a row that is not a record") {
        const auto e = load_error<sim::WrongType>("structure:\n  regions:\n    - North\n");
        CHECK(e.key() == "structure.regions[0]");
        CHECK_THAT(e.what(), Catch::Contains("expected a record {name, share, n_trusts, coercion, capacity, needs, symptoms}"));
    }
    SECTION("a map instead of a list") {
        const auto e = load_error<sim::WrongType>("structure:\n  regions: {name: A, share: 1, n_trusts: 2}\n");
        CHECK(e.key() == REGIONS);
        CHECK_THAT(e.what(), Catch::Contains("expected a list of records, got a mapping"));
    }
    SECTION("an empty list") {
        const auto e = load_error<sim::OutOfRange>("structure:\n  regions: []\n");
        CHECK_THAT(e.what(), Catch::Contains("expected at least 1 rows, got 0"));
    }
}

// ==== extends ================================================================================

TEST_CASE("extends: a missing base file is named with the line of the extends key", "[scenario][extends]") {
    test::TempDir dir;
    test::write_file(dir.path("child.yaml"), "seed: 1\nextends: no_such_base.yaml\n");
    const auto e = thrown<sim::UnreadableScenario>([&] { (void)sim::load_scenario(test::schema(), dir.path("child.yaml")); });
    CHECK(e.key() == "extends");
    CHECK(e.where().file == dir.path("child.yaml"));
    CHECK(e.where().line == 2);
    CHECK_THAT(e.what(), Catch::Contains("no_such_base.yaml' does not exist"));
}

TEST_CASE("extends: two files extending each other are a cycle", "[scenario][extends]") {
    test::TempDir dir;
    test::write_file(dir.path("a.yaml"), "extends: b.yaml\nseed: 1\n");
    test::write_file(dir.path("b.yaml"), "seed: 2\nextends: a.yaml\n");
    const auto e = thrown<sim::InconsistentScenario>([&] { (void)sim::load_scenario(test::schema(), dir.path("a.yaml")); });
    CHECK(e.key() == "extends");
    CHECK(e.where().file == dir.path("b.yaml"));
    CHECK(e.where().line == 2);
    CHECK_THAT(e.what(), Catch::Contains("cycle"));

    test::write_file(dir.path("self.yaml"), "extends: self.yaml\n");
    CHECK_THAT(thrown<sim::InconsistentScenario>([&] { (void)sim::load_scenario(test::schema(), dir.path("self.yaml")); })
                   .what(),
               Catch::Contains("cycle"));
}

TEST_CASE("extends: a child overriding one key inherits the rest from its base", "[scenario][extends]") {
    test::TempDir dir;
    fs::create_directory(dir.path("sub"));
    test::write_file(dir.path("base.yaml"),
               "name: Base\nseed: 5\npopulation: {n_patients: 1234}\nrelapse:\n  p_year_on_medication: 0.3\n"
               "  p_year_off_medication: 0.7\n");
    // Relative to the child's own directory, not the working directory.
    test::write_file(dir.path("sub/child.yaml"), "extends: ../base.yaml\nrelapse:\n  p_year_on_medication: 0.2\n");
    const sim::Scenario sc = sim::load_scenario(test::schema(), dir.path("sub/child.yaml"));
    CHECK(sc.params.real(P_ON) == 0.2);
    CHECK(sc.params.real("relapse.p_year_off_medication") == 0.7);
    CHECK(sc.params.integer("seed") == 5);
    CHECK(sc.params.integer(N_PATIENTS) == 1234);
    CHECK(sc.params.where(P_ON).file == dir.path("sub/child.yaml"));
    CHECK(sc.params.where(P_ON).line == 3);
    CHECK(sc.params.where(N_PATIENTS).file == (fs::path(dir.path("sub")) / "../base.yaml").string());
    CHECK(sc.params.where(N_PATIENTS).line == 3);
    CHECK_FALSE(sc.params.is_set("time.years"));
    CHECK(sc.name == "Base");  // a child without a name keeps its base's
    REQUIRE(sc.chain.size() == 2);
    CHECK(sc.path == dir.path("sub/child.yaml"));

    // A third level: the grandchild's own value wins over both.
    test::write_file(dir.path("sub/grandchild.yaml"), "name: Grandchild\nextends: child.yaml\nseed: 9\n");
    const sim::Scenario g = sim::load_scenario(test::schema(), dir.path("sub/grandchild.yaml"));
    CHECK(g.params.integer("seed") == 9);
    CHECK(g.params.real(P_ON) == 0.2);
    CHECK(g.params.integer(N_PATIENTS) == 1234);
    CHECK(g.name == "Grandchild");
    CHECK(g.chain.size() == 3);
}

TEST_CASE("extends: an error in the base file names the base file, not the child", "[scenario][extends]") {
    test::TempDir dir;
    test::write_file(dir.path("base.yaml"), "seed: 1\nrelapse:\n  p_year_on_medication: 2\n");
    test::write_file(dir.path("child.yaml"), "extends: base.yaml\nseed: 2\n");
    const auto e = thrown<sim::OutOfRange>([&] { (void)sim::load_scenario(test::schema(), dir.path("child.yaml")); });
    CHECK(e.key() == P_ON);
    CHECK(e.where().file == dir.path("base.yaml"));
    CHECK(e.where().line == 3);
}

TEST_CASE("extends: the shipped comparison scenario inherits the rollout scenario", "[scenario][extends]") {
    const sim::Scenario sc = sim::load_scenario(test::schema(), test::source_path("scenarios/england_no_dialog.yaml"));
    CHECK(sc.name == "England without DIALOG");
    CHECK_FALSE(sc.params.boolean("dialog.enabled"));
    CHECK(sc.params.integer("seed") == 20260101);
    CHECK(sc.params.integer(N_PATIENTS) == 300000);
}

TEST_CASE("extends: too long a chain is refused", "[scenario][extends]") {
    test::TempDir dir;
    constexpr int N_FILES = 40;
    write_chain(dir, N_FILES);
    const auto e = thrown<sim::InconsistentScenario>([&] { (void)sim::load_scenario(test::schema(), dir.path("f0.yaml")); });
    CHECK(e.key() == "extends");
    CHECK_THAT(e.what(), Catch::Contains("chain of more than 16 files"));
    // A chain of 16 files is within the limit.
    CHECK_NOTHROW(sim::load_scenario(test::schema(), dir.path(chain_file(N_FILES - 16))));
}

TEST_CASE("extends: a chain of 17 files is refused, as the message says", "[scenario][extends]") {
    // "chain of more than 16 files" is refused, yet 17 files load: the check is
    // depth >= MAX_EXTENDS before loading the base, so depth 16 (the 17th file) is accepted.
    test::TempDir dir;
    constexpr int N_FILES = 17;
    write_chain(dir, N_FILES);
    CHECK_THROWS_AS(sim::load_scenario(test::schema(), dir.path("f0.yaml")), sim::InconsistentScenario);
}

TEST_CASE("extends: the chain lists the base first, as documented", "[scenario][extends]") {
    // scenario.hpp: `chain` is "files read, base first"; the loader appends the child before
    // its base, so chain is {child, base}.
    test::TempDir dir;
    test::write_file(dir.path("base.yaml"), "seed: 1\n");
    test::write_file(dir.path("child.yaml"), "extends: base.yaml\n");
    const sim::Scenario sc = sim::load_scenario(test::schema(), dir.path("child.yaml"));
    REQUIRE(sc.chain.size() == 2);
    CHECK(sc.chain.front() == dir.path("base.yaml"));
    CHECK(sc.chain.back() == dir.path("child.yaml"));
}

TEST_CASE("extends: a value that is not a path is refused", "[scenario][extends]") {
    CHECK_THAT(load_error<sim::WrongType>("extends: [a.yaml]\n").what(),
               Catch::Contains("expected the path of a base scenario file, got a list"));
    CHECK_THAT(load_error<sim::WrongType>("extends: \"\"\n").what(), Catch::Contains("expected the path of a base scenario file"));
}

// ==== --set overrides ========================================================================

TEST_CASE("overrides with --set: an unknown key is refused with a suggestion and names the override", "[scenario][set]") {
    const std::string o = "relapse.p_year_on_medicaton=0.3";
    const auto e = load_error<sim::UnknownKey>(SMALL, {o});
    CHECK(e.key() == "relapse.p_year_on_medicaton");
    CHECK(e.where().file == SET_PREFIX + o);
    CHECK_THAT(e.what(), Catch::StartsWith(SET_PREFIX + o + ": key 'relapse.p_year_on_medicaton': unknown parameter"));
    CHECK_THAT(e.what(), Catch::Contains("did you mean 'relapse.p_year_on_medication'?"));
}

TEST_CASE("overrides with --set: a section instead of a key is refused with the section's keys", "[scenario][set]") {
    const auto e = load_error<sim::UnknownKey>(SMALL, {"relapse=0.3"});
    CHECK(e.key() == "relapse");
    CHECK_THAT(e.what(), Catch::Contains("is a section; set one of its keys: p_year_on_medication"));
}

TEST_CASE("overrides with --set: bad values are refused like values in a file", "[scenario][set]") {
    SECTION("out of range") {
        const auto e = load_error<sim::OutOfRange>(SMALL, {"relapse.p_year_on_medication=1.5"});
        CHECK(e.key() == P_ON);
        CHECK(e.where().file == "--set relapse.p_year_on_medication=1.5");
        CHECK_THAT(e.what(), Catch::Contains("expected a value in [0, 1], got 1.5"));
    }
    SECTION("wrong type") {
        CHECK_THAT(load_error<sim::WrongType>(SMALL, {"population.n_patients=many"}).what(),
                   Catch::Contains("expected an integer, got 'many'"));
    }
    SECTION("empty value") {
        CHECK_THAT(load_error<sim::WrongType>(SMALL, {"time.years="}).what(), Catch::Contains("got nothing (null)"));
    }
    SECTION("NaN") {
        CHECK_THAT(load_error<sim::OutOfRange>(SMALL, {"time.years=.nan"}).what(), Catch::Contains("expected a finite number"));
    }
    SECTION("choice") {
        CHECK_THAT(load_error<sim::OutOfRange>(SMALL, {"mechanism.hypothesis=basiss"}).what(),
                   Catch::Contains("did you mean 'basis'?"));
    }
    SECTION("invalid YAML") {
        CHECK_THAT(load_error<sim::WrongType>(SMALL, {"structure.regions=[{name: A"}).what(),
                   Catch::Contains("value is not valid YAML"));
    }
    SECTION("no '=' at all") {
        CHECK_THAT(load_error<sim::UsageError>(SMALL, {"seed"}).what(), Catch::Contains("--set expects key.path=value, got 'seed'"));
        CHECK_THROWS_AS(load(SMALL, {"=3"}), sim::UsageError);
    }
}

TEST_CASE("overrides with --set: a valid override wins over the file and records where it came from", "[scenario][set]") {
    const sim::Scenario sc = load(SMALL, {"seed=99", "structure.regions=[{name: Only, share: 1, n_trusts: 3}]"});
    CHECK(sc.params.integer("seed") == 99);
    CHECK(sc.params.where("seed").file == "--set seed=99");
    CHECK(sc.params.is_set("seed"));
    REQUIRE(sc.params.table(REGIONS).size() == 1);
    CHECK(sc.params.table(REGIONS)[0].at("name").str == "Only");
    CHECK(sc.params.integer(N_PATIENTS) == 400);  // untouched values stay as the file set them
    CHECK(sc.params.where(N_PATIENTS).line == 3);
}

// ==== unreadable files =======================================================================

TEST_CASE("an empty file or one with only comments is refused as empty", "[scenario][unreadable]") {
    for (const char* text : {"", "\n\n", "# nothing but a comment\n"}) {
        const auto e = load_error<sim::UnreadableScenario>(text);
        CHECK(e.where().file == FILE_NAME);
        CHECK_THAT(e.what(), Catch::Contains("the scenario is empty"));
    }
    test::TempDir dir;
    test::write_file(dir.path("empty.yaml"), "");
    const auto e = thrown<sim::UnreadableScenario>([&] { (void)sim::load_scenario(test::schema(), dir.path("empty.yaml")); });
    CHECK(e.where().file == dir.path("empty.yaml"));
    CHECK_THAT(e.what(), Catch::Contains("the scenario is empty"));
}

TEST_CASE("a directory is not a scenario file", "[scenario][unreadable]") {
    test::TempDir dir;
    const auto e = thrown<sim::UnreadableScenario>([&] { (void)sim::load_scenario(test::schema(), dir.dir()); });
    CHECK(e.where().file == dir.dir());
    CHECK_THAT(e.what(), Catch::Contains("is a directory, not a scenario file"));
}

TEST_CASE("a missing file is refused with its name", "[scenario][unreadable]") {
    test::TempDir dir;
    const std::string missing = dir.path("missing.yaml");
    const auto e = thrown<sim::UnreadableScenario>([&] { (void)sim::load_scenario(test::schema(), missing); });
    CHECK(e.where().file == missing);
    CHECK_THAT(e.what(), Catch::Contains("scenario file '" + missing + "' does not exist"));
}

TEST_CASE("bytes that are not UTF-8 are refused with their line", "[scenario][unreadable]") {
    const auto e = load_error<sim::UnreadableScenario>("seed: 1\ntime: {years: 1}\nname: caf\xe9\n");
    CHECK(e.where().file == FILE_NAME);
    CHECK(e.where().line == 3);
    CHECK_THAT(e.what(), Catch::Contains("not valid UTF-8"));
    // A truncated multi-byte sequence at the very end.
    CHECK(load_error<sim::UnreadableScenario>("seed: 1\n# \xe2\x82").where().line == 2);
    // Valid multi-byte UTF-8 is fine.
    CHECK(load("name: \"Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\nseed: 1\n").name == "Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST_CASE("overlong encodings, surrogates and code points above U+10FFFF are not UTF-8", "[scenario][unreadable]") {
    // The UTF-8 check only looks at lead and continuation bits, so these invalid sequences pass.
    for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf5\x80\x80\x80"}) {
        INFO("bytes " << bad);
        const auto e = load_error<sim::UnreadableScenario>(std::string("seed: 1\n# ") + bad + "\n");
        CHECK_THAT(e.what(), Catch::Contains("not valid UTF-8"));
    }
}

TEST_CASE("a YAML syntax error is refused with its line", "[scenario][unreadable]") {
    SECTION("bad indentation") {
        const auto e = load_error<sim::UnreadableScenario>("seed: 1\ntime:\n  years: 5\n step_days: 7\n");
        CHECK(e.where().line == 4);
        CHECK_THAT(e.what(), Catch::StartsWith("inline.yaml:4: YAML syntax error: "));
    }
    SECTION("unclosed flow mapping") {
        const auto e = load_error<sim::UnreadableScenario>("seed: 1\ntime: {years: 5\nrelapse: {}\n");
        CHECK(e.where().line >= 2);
        CHECK_THAT(e.what(), Catch::Contains("YAML syntax error"));
    }
    SECTION("tab indentation") {
        const auto e = load_error<sim::UnreadableScenario>("seed: 1\ntime:\n\tyears: 5\n");
        CHECK(e.where().line == 3);
    }
}

TEST_CASE("an alias bomb (billion laughs) is refused by the node limit", "[scenario][unreadable]") {
    std::string yaml = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (char c = 'b'; c <= 'i'; ++c) {
        const std::string prev(1, static_cast<char>(c - 1));
        yaml += std::string(1, c) + ": &" + c + " [";
        for (int k = 0; k < 9; ++k) yaml += (k ? ", *" : "*") + prev;
        yaml += "]\n";
    }
    const auto e = load_error<sim::UnreadableScenario>(yaml);
    CHECK(e.where().file == FILE_NAME);
    CHECK_THAT(e.what(), Catch::Contains("more than 100000 YAML nodes"));
}

TEST_CASE("very deep nesting is refused", "[scenario][unreadable]") {
    SECTION("just beyond the engine's limit") {
        const int depth = sim::MAX_NESTING + 8;
        const auto e = load_error<sim::UnreadableScenario>("seed: 1\nrelapse: " + std::string(depth, '[') + std::string(depth, ']') + "\n");
        CHECK_THAT(e.what(), Catch::Contains("nesting deeper than 32 levels"));
        CHECK(e.where().line == 2);
    }
    SECTION("deep enough to overflow a recursive parser") {
        constexpr int DEPTH = 100000;
        const auto e = load_error<sim::UnreadableScenario>("seed: " + std::string(DEPTH, '[') + std::string(DEPTH, ']') + "\n");
        CHECK(e.where().file == FILE_NAME);
    }
    SECTION("a self-referencing alias") {
        CHECK_THROWS_AS(load("seed: 1\nloop: &x [*x]\n"), sim::InputError);
    }
}

TEST_CASE("a file larger than 1 MiB is refused before parsing", "[scenario][unreadable]") {
    const std::string big = "seed: 1\n" + std::string(sim::MAX_SCENARIO_BYTES, '#') + "\n";
    const auto e = load_error<sim::UnreadableScenario>(big);
    CHECK_THAT(e.what(), Catch::Contains("larger than 1 MiB"));
}

TEST_CASE("an empty value is reported at the line of its key", "[scenario][types]") {
    // A null value's YAML mark is the next token, so the error points at a later line
    // (here line 6, the next key, instead of line 3).
    const auto e = load_error<sim::WrongType>("seed: 1\ntime:\n  years:\n\n\npopulation: {n_patients: 5}\n");
    CHECK(e.key() == "time.years");
    CHECK(e.where().line == 3);
}

TEST_CASE("a second YAML document is refused rather than silently ignored", "[scenario][unreadable]") {
    // YAML::Load reads the first document only: everything after "---" is dropped unseen.
    const std::string yaml = "seed: 1\n---\nrelapse: {p_year_on_medication: 7}\n";
    CHECK_THROWS_AS(load(yaml), sim::InputError);
}

TEST_CASE("a duplicated key is refused rather than silently overriding the first", "[scenario][keys]") {
    // YAML requires unique keys; the loader walks both and the second silently wins.
    const auto e = load_error<sim::InputError>("seed: 1\ntime: {years: 2}\nseed: 2\n");
    CHECK(e.where().line == 3);
    CHECK_THAT(e.what(), Catch::Contains("seed"));
}

// ==== model-level checks (preflight) =========================================================

TEST_CASE("preflight accepts the small scenario", "[scenario][preflight]") {
    const sim::Scenario sc = load(SMALL);
    models::TherasimModel model;
    CHECK_NOTHROW(sim::preflight(model, sc));
}

TEST_CASE("preflight: a DIALOG rollout starting at or after the horizon is refused", "[scenario][preflight]") {
    for (const char* start : {"1", "1.5"}) {
        INFO("start_year " << start);
        const auto e = preflight_error<sim::InconsistentScenario>(SMALL, {"dialog.enabled=true", std::string(START_YEAR) + "=" + start});
        CHECK(e.key() == START_YEAR);
        CHECK(e.where().file == std::string(SET_PREFIX) + START_YEAR + "=" + start);
        CHECK_THAT(e.what(), Catch::Contains("at or after the end of the horizon (time.years = 1"));
    }
    const sim::Scenario ok = load(SMALL, {"dialog.enabled=true", std::string(START_YEAR) + "=0.9"});
    models::TherasimModel model;
    CHECK_NOTHROW(sim::preflight(model, ok));
    // Disabled, the start year does not matter.
    CHECK_NOTHROW(sim::preflight(model, load(SMALL, {std::string(START_YEAR) + "=50"})));
}

TEST_CASE("preflight: mechanism.direct_weight set while the hypothesis is not mixture is refused", "[scenario][preflight]") {
    const std::string yaml = std::string(SMALL) + "mechanism:\n  hypothesis: basis\n  direct_weight: 0.3\n";
    const auto e = preflight_error<sim::InconsistentScenario>(yaml);
    CHECK(e.key() == DIRECT_WEIGHT);
    CHECK(e.where().file == FILE_NAME);
    CHECK(e.where().line == 11);
    CHECK_THAT(e.what(), Catch::Contains("direct_weight only applies when mechanism.hypothesis is 'mixture' (it is 'basis')"));

    models::TherasimModel model;
    CHECK_NOTHROW(sim::preflight(model, load(SMALL, {"mechanism.hypothesis=mixture", "mechanism.direct_weight=0.3"})));
    CHECK_NOTHROW(sim::preflight(model, load(SMALL, {"mechanism.hypothesis=therapy_in_itself"})));
    CHECK_THROWS_AS(sim::preflight(model, load(SMALL, {"mechanism.hypothesis=therapy_in_itself", "mechanism.direct_weight=1"})),
                    sim::InconsistentScenario);
}

TEST_CASE("preflight: a mean caseload above the maximum is refused", "[scenario][preflight]") {
    const auto e = preflight_error<sim::InconsistentScenario>(SMALL, {"structure.caseload_mean=50", "structure.caseload_max=40"});
    CHECK(e.key() == "structure.caseload_mean");
    CHECK_THAT(e.what(), Catch::Contains("mean caseload 50"));
    CHECK_THAT(e.what(), Catch::Contains("is above structure.caseload_max 40"));
}

TEST_CASE("preflight: more patients than posts times the maximum caseload is refused", "[scenario][preflight]") {
    const auto e = preflight_error<sim::InconsistentScenario>(SMALL, {"structure.n_clinicians=5"});
    CHECK(e.key() == "structure.n_clinicians");
    CHECK(e.where().file == "--set structure.n_clinicians=5");
    CHECK_THAT(e.what(), Catch::Contains("400 patients cannot be allocated to 5 care coordinators with at most 40 patients each"));
    models::TherasimModel model;
    CHECK_NOTHROW(sim::preflight(model, load(SMALL, {"structure.n_clinicians=10"})));  // 10 x 40 = 400
}

TEST_CASE("preflight: region shares that do not sum to 1 are refused at the regions' line", "[scenario][preflight]") {
    std::string yaml = SMALL;
    yaml.replace(yaml.find("share: 0.5, n_trusts: 2}\n"), 10, "share: 0.4");
    const auto e = preflight_error<sim::InconsistentScenario>(yaml);
    CHECK(e.key() == REGIONS);
    CHECK(e.where().file == FILE_NAME);
    CHECK(e.where().line == SMALL_REGIONS_LINE);
    CHECK_THAT(e.what(), Catch::Contains("region shares sum to 0.9"));
    CHECK_THAT(e.what(), Catch::Contains("expected 1"));
}

TEST_CASE("preflight: diagnosis shares that do not sum to 1 are refused", "[scenario][preflight]") {
    const auto e = preflight_error<sim::InconsistentScenario>(
        with_population("population: {n_patients: 400, diagnosis: {schizophrenia_spectrum: 0.9}}"));
    CHECK(e.key() == "population.diagnosis.schizophrenia_spectrum");
    CHECK(e.where().file == FILE_NAME);
    CHECK(e.where().line == 3);
    CHECK_THAT(e.what(), Catch::Contains("the five population.diagnosis shares sum to 1.4"));
}

TEST_CASE("preflight: an inconsistency names the file even when the blamed key was defaulted", "[scenario][preflight]") {
    // Only population.diagnosis.bipolar is set in the file, but the check blames
    // schizophrenia_spectrum, which was defaulted: the message then says "(default)" and names
    // neither the file nor the line of the value that broke the sum.
    const auto e = preflight_error<sim::InconsistentScenario>(
        with_population("population: {n_patients: 400, diagnosis: {bipolar: 0.5}}"));
    CHECK(e.where().file == FILE_NAME);
    CHECK_THAT(e.what(), Catch::StartsWith(FILE_NAME));
    // Likewise a horizon shortened in the file below the default rollout start (0.5 years).
    std::string yaml = SMALL;
    yaml.replace(yaml.find("years: 1"), 8, "years: 0.4");
    const auto d = preflight_error<sim::InconsistentScenario>(yaml + "dialog: {enabled: true}\n");
    CHECK(d.key() == START_YEAR);
    CHECK(d.where().file == FILE_NAME);
}

TEST_CASE("preflight: other impossible combinations are refused", "[scenario][preflight]") {
    CHECK(preflight_error<sim::InconsistentScenario>(SMALL, {"adherence.floor=0.9", "adherence.ceiling=0.5"}).key() ==
          "adherence.floor");
    CHECK(preflight_error<sim::InconsistentScenario>(SMALL, {"symptoms.cut_moderate=60"}).key() == "symptoms.cut_moderate");
    CHECK(preflight_error<sim::InconsistentScenario>(SMALL, {"relapse.p_year_on_medication=0"}).key() == P_ON);
    CHECK_THAT(preflight_error<sim::InconsistentScenario>(
                   SMALL, {"structure.regions=[{name: A, share: 0.5, n_trusts: 1}, {name: A, share: 0.5, n_trusts: 1}]"})
                   .what(),
               Catch::Contains("region name 'A' appears twice"));
    CHECK_THAT(preflight_error<sim::InconsistentScenario>(SMALL, {"clinicians.approach_mix.none=0.9"}).what(),
               Catch::Contains("clinicians.approach_mix shares sum to"));
}

namespace {
/// A model that declares nothing and claims to need more memory than any machine has.
class HungryModel final : public sim::Model {
public:
    void declare(sim::Schema&) const override {}
    [[nodiscard]] std::size_t estimate_bytes(const sim::Params&) const override {
        return std::numeric_limits<std::size_t>::max() / 2;
    }
    void init(sim::World&) override {}
    [[nodiscard]] std::vector<sim::Phase> phases() override { return {}; }
};
}  // namespace

TEST_CASE("preflight refuses a run whose memory estimate exceeds the available memory", "[scenario][preflight][memory]") {
    REQUIRE(sim::available_memory() > 0);
    const sim::Scenario sc = load(SMALL);
    HungryModel model;
    const auto e = thrown<sim::ResourceLimit>([&] { sim::preflight(model, sc); });
    CHECK(e.key() == N_PATIENTS);
    CHECK(e.where().file == FILE_NAME);
    CHECK(e.where().line == 3);
    CHECK_THAT(e.what(), Catch::Contains("MiB are available; reduce the population"));
}

TEST_CASE("the memory estimate grows with the population and the maximum population is refused if it does not fit",
          "[scenario][preflight][memory]") {
    models::TherasimModel model;
    auto estimate = [&](long long n) {
        return model.estimate_bytes(load(SMALL, {std::string(N_PATIENTS) + "=" + std::to_string(n)}).params);
    };
    const std::size_t small = estimate(1000), medium = estimate(1000000), largest = estimate(MAX_PATIENTS);
    CHECK(small < medium);
    CHECK(medium < largest);
    // Several hundred bytes per patient: the maximum population needs gigabytes.
    CHECK(largest - small >= static_cast<std::size_t>(MAX_PATIENTS - 1000) * 100);
    CHECK(largest > (std::size_t{8} << 30));

    const std::size_t have = sim::available_memory();
    REQUIRE(have > 0);
    // Plans the structure only: nothing is allocated, so this is cheap on any machine.
    const sim::Scenario huge = load(SMALL, {std::string(N_PATIENTS) + "=" + std::to_string(MAX_PATIENTS), "structure.team_size=10"});
    if (sim::estimate_memory(model, sim::make_schema(model), huge).total() > have * 8 / 10) {
        const auto e = thrown<sim::ResourceLimit>([&] { sim::preflight(model, huge); });
        CHECK(e.key() == N_PATIENTS);
        CHECK_THAT(e.what(), Catch::Contains("reduce the population"));
    } else {
        // This machine has enough memory for the maximum population: the refusal itself is
        // shown with HungryModel above.
        CHECK_NOTHROW(sim::preflight(model, huge));
    }
}

// ==== resolved YAML ==========================================================================

TEST_CASE("resolved_yaml round-trips: loading it gives identical parameter values", "[scenario][resolved]") {
    const std::string yaml = R"(name: "Odd: name # with 'quotes' and \"double\""
description: >
  Two lines of
  description, with unicode: Île-de-France – 5 €.
seed: 4294967295
time: {years: 2.5, step_days: 3.5}
population: {n_patients: 777}
relapse:
  p_year_on_medication: 0.30000000000000004
  p_year_off_medication: 1e-7
mechanism: {hypothesis: mixture, direct_weight: 0.123456789012345678}
dialog: {enabled: true, variant: dialog_plus}
structure:
  regions:
    - {name: "Île-de-France: #1", share: 0.3333333333333333, n_trusts: 2, coercion: 1.7}
    - {name: "yes", share: 0.3333333333333333, n_trusts: 1, capacity: 0.1}
    - {name: " null ", share: 0.3333333333333334, n_trusts: 3}
)";
    const sim::Scenario a = load(yaml);
    const std::string resolved = a.resolved_yaml(test::schema());
    const sim::Scenario b = load(resolved);
    CHECK(b.name == a.name);
    CHECK(b.description == a.description);
    require_same_params(a.params, b.params);
    // Every parameter is written out: the resolved scenario does not depend on defaults.
    for (const auto& [path, v] : b.params.all()) {
        INFO(path);
        CHECK(b.params.is_set(path));
    }
    // And resolving again gives the same text.
    CHECK(b.resolved_yaml(test::schema()) == resolved);
}

TEST_CASE("resolved_yaml round-trips the defaults and the shipped scenarios", "[scenario][resolved]") {
    const sim::Scenario defaults = load("seed: 1\n");
    require_same_params(defaults.params, load(defaults.resolved_yaml(test::schema())).params);
    for (const char* file : {"scenarios/england_dialog_rollout.yaml", "scenarios/england_no_dialog.yaml"}) {
        INFO(file);
        const sim::Scenario a = sim::load_scenario(test::schema(), test::source_path(file));
        const sim::Scenario b = load(a.resolved_yaml(test::schema()));
        CHECK(b.name == a.name);
        require_same_params(a.params, b.params);
    }
}

TEST_CASE("the resolved YAML of a valid scenario passes preflight too", "[scenario][resolved]") {
    // resolved_yaml writes every parameter, including mechanism.direct_weight: with hypothesis
    // basis or therapy_in_itself the reloaded scenario must still pass the model's checks, so
    // that `validate --print` output and the scenario_yaml stored in results files can be run.
    models::TherasimModel model;
    for (const char* hypothesis : {"basis", "therapy_in_itself", "mixture"}) {
        INFO("hypothesis " << hypothesis);
        const sim::Scenario a = load(SMALL, {std::string("mechanism.hypothesis=") + hypothesis});
        REQUIRE_NOTHROW(sim::preflight(model, a));
        const sim::Scenario b = load(a.resolved_yaml(test::schema()));
        CHECK_NOTHROW(sim::preflight(model, b));
        require_same_params(a.params, b.params);
    }
}
