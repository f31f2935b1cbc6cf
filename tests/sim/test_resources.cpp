// Resource checks that match reality: the memory estimate `validate` prints (and `run` checks
// against the machine) is compared with the peak memory the same runs measure, for runs whose
// memory goes to agents, to long series, to trajectories and to replicates; the step count is
// checked before any work.
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>

namespace {

constexpr int EXIT_OK = 0;
constexpr int EXIT_INVALID = 2;
constexpr double MIB = 1024.0 * 1024.0;

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}
std::string bin() { return quote(test::therasim_binary()); }

std::string scenario(int patients, double step_days, double years, int replicates, bool grouped) {
    return "seed: 3\nreplicates: " + std::to_string(replicates) + "\ntime: {years: " + std::to_string(years) +
           ", step_days: " + std::to_string(step_days) + ", burn_in_weeks: 0}\npopulation: {n_patients: " +
           std::to_string(patients) + "}\noutput: {grouped: " + (grouped ? "true" : "false") +
           "}\nstructure:\n  team_size: 5\n  regions:\n    - {name: North, share: 1, n_trusts: 1}\n";
}

double number_after(const std::string& text, const std::string& pattern) {
    std::smatch m;
    const std::regex re(pattern + R"( ([0-9]+) MiB)");
    REQUIRE(std::regex_search(text, m, re));
    return std::stod(m[1]);
}

}  // namespace

TEST_CASE("the memory estimate covers the measured peak and is not far above it", "[resources]") {
    // Measured by the run itself (its peak resident memory, VmHWM). The estimate may be
    // conservative, but not so much that it refuses runs the machine could do: at most twice the
    // peak plus the fixed 64 MiB it allows for the program.
    struct Config {
        const char* what;
        int patients;
        double step_days, years;
        int replicates;
        bool grouped;
    };
    const Config configs[] = {
        {"daily steps over 30 years (series)", 40, 1, 30, 1, true},
        {"the same without grouped series", 40, 1, 30, 1, false},
        {"quarter-day steps over 20 years", 40, 0.25, 20, 1, true},
        {"3 replicates over 100 years", 40, 7, 100, 3, true},
        {"20,000 patients (agents), 2 replicates", 20000, 7, 2, 2, true},
    };
    test::TempDir dir;
    for (const auto& c : configs) {
        INFO(c.what);
        const std::string s = dir.path("m.yaml");
        test::write_file(s, scenario(c.patients, c.step_days, c.years, c.replicates, c.grouped));
        std::string v, r;
        REQUIRE(test::shell(bin() + " validate " + quote(s) + " --threads 2", &v) == EXIT_OK);
        REQUIRE(test::shell(bin() + " run " + quote(s) + " -o " + quote(dir.path("m.h5")) + " --overwrite --threads 2", &r) == EXIT_OK);
        const double estimate = number_after(v, "estimated peak memory"), peak = number_after(r, "peak memory");
        INFO("estimate " << estimate << " MiB, measured peak " << peak << " MiB");
        CHECK(estimate >= peak);
        CHECK(estimate <= 2 * peak + 64);
    }
}

TEST_CASE("a horizon shorter than one step, or too many steps, is refused before any work", "[resources]") {
    test::TempDir dir;
    const std::string s = dir.path("t.yaml"), out = dir.path("t.h5");
    struct Case {
        const char* set;
        const char* key;
        const char* message;
    };
    const Case cases[] = {
        {"time.years=0.005", "time.years", "shorter than one step"},
        {"time.step_days=0.000001", "time.step_days", "steps; at most 10000000 are allowed"},
        {"time.burn_in_weeks=5200 --set time.step_days=0.001", "time.step_days", "at most 10000000"},
    };
    test::write_file(s, test::small_yaml(400, 1.0, 3));
    for (const auto& c : cases) {
        INFO(c.set);
        for (const std::string cmd : {" validate ", " run "}) {
            std::string o;
            const std::string extra = cmd == " run " ? " -o " + quote(out) : "";
            CHECK(test::shell(bin() + cmd + quote(s) + " --set " + c.set + extra, &o) == EXIT_INVALID);
            CHECK_THAT(o, Catch::Contains("key '" + std::string(c.key) + "'"));
            CHECK_THAT(o, Catch::Contains(c.message));
            CHECK_FALSE(std::filesystem::exists(out));
            CHECK_FALSE(std::filesystem::exists(out + ".partial-run"));
        }
    }
}
