// The therasim command line, driven through the built binary: help, usage errors and their
// exit codes, runs that write (or refuse to overwrite) results, validate, params, compare,
// and interruption by SIGINT/SIGTERM.
#include "tests/support.hpp"

#include "sim/compare.hpp"
#include "sim/files.hpp"
#include "sim/h5.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <regex>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr int EXIT_OK = 0;
constexpr int EXIT_RUN_FAILED = 1;
constexpr int EXIT_INVALID = 2;
constexpr int EXIT_SIGINT = 128 + 2;
constexpr int EXIT_SIGTERM = 128 + 15;

constexpr const char* SCENARIO = "small.yaml";
constexpr const char* OUTPUT = "out.h5";
constexpr const char* USAGE_LINE = "therasim run SCENARIO -o FILE";
constexpr const char* ERROR_PREFIX = "therasim: error: ";
constexpr const char* PARAM_KEY = "relapse.p_year_on_medication";
constexpr const char* PARTIAL = ".partial-";
constexpr const char* PRECIOUS = "precious bytes that must survive\n";

// A run long enough to interrupt: seconds of work, and well under a GiB of memory.
constexpr int BIG_PATIENTS = 200000;
constexpr double BIG_YEARS = 5.0;
constexpr int SIGNAL_AFTER_S = 1;

std::string quote(const std::string& s) { return "'" + s + "'"; }

/// Runs `therasim ARGS`; returns the exit code, with stdout and stderr in @p out.
int therasim(const std::string& args, std::string* out = nullptr) {
    std::string dummy;
    return test::shell(quote(test::therasim_binary()) + " " + args, out ? out : &dummy);
}

std::vector<std::string> leftovers(const std::string& dir) {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(PARTIAL) != std::string::npos) v.push_back(e.path().string());
    return v;
}

/// A directory with a small scenario in it.
struct Workspace {
    test::TempDir dir;
    std::string scenario = dir.path(SCENARIO);
    std::string output = dir.path(OUTPUT);
    Workspace() { test::write_file(scenario, test::small_yaml()); }
};

}  // namespace

// ==== help and usage errors ==================================================================

TEST_CASE("therasim --help prints the usage and exits 0", "[cli][help]") {
    for (const char* arg : {"--help", "-h", "help"}) {
        INFO(arg);
        std::string out;
        CHECK(therasim(arg, &out) == EXIT_OK);
        CHECK_THAT(out, Catch::Contains("Usage:"));
        CHECK_THAT(out, Catch::Contains(USAGE_LINE));
        CHECK_THAT(out, Catch::Contains("Exit codes: 0 success, 1 run or output failure, 2 invalid input"));
    }
}

TEST_CASE("each command's --help exits 0 and describes the command", "[cli][help]") {
    std::string out;
    CHECK(therasim("run --help", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::Contains("-o, --output FILE"));
    CHECK_THAT(out, Catch::Contains("--overwrite"));
    CHECK_THAT(out, Catch::Contains("--shard K/N"));
    CHECK(therasim("merge --help", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::StartsWith("therasim merge -o FILE PART..."));
    CHECK(therasim("validate --help", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::StartsWith("therasim validate SCENARIO"));
    CHECK(therasim("params --help", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::StartsWith("therasim params"));
    CHECK(therasim("compare --help", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::StartsWith("therasim compare A.h5"));
    CHECK(therasim("--version", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::StartsWith("therasim "));
}

TEST_CASE("no command prints the usage and exits 2", "[cli][usage]") {
    std::string out;
    CHECK(therasim("", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains(USAGE_LINE));
}

TEST_CASE("an unknown command exits 2 and lists the commands", "[cli][usage]") {
    std::string out;
    CHECK(therasim("frobnicate", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains(std::string(ERROR_PREFIX) + "command line: unknown command 'frobnicate'"));
    CHECK_THAT(out, Catch::Contains("commands are run, merge, validate, params, compare"));
}

TEST_CASE("an unknown option exits 2", "[cli][usage]") {
    Workspace w;
    std::string out;
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --frobnicate", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("unknown option '--frobnicate'; see --help"));
    CHECK(therasim("validate " + quote(w.scenario) + " --fast", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("unknown option '--fast'"));
    CHECK_FALSE(fs::exists(w.output));
}

TEST_CASE("an option of another command is refused, not ignored, and names the commands it belongs to", "[cli][usage]") {
    Workspace w;
    std::string out;
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --section relapse", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--section is not an option of run (it is one of params); see therasim run --help"));
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --csv x.csv", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--csv is not an option of run (it is one of compare)"));
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --population 1000", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("use --set population.n_patients=1000"));
    CHECK(therasim("validate " + quote(w.scenario) + " --overwrite", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--overwrite is not an option of validate (it is one of compare, merge, run)"));
    CHECK(therasim("merge -o " + quote(w.output) + " --set seed=2 a.h5", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--set is not an option of merge (it is one of run, validate)"));
    CHECK(therasim("params --threads 2", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--threads is not an option of params"));
    CHECK(therasim("compare a.h5 b.h5 --quiet", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--quiet is not an option of compare (it is one of merge, run)"));
    CHECK_FALSE(fs::exists(w.output));
    // every option a command's help lists is accepted by it
    CHECK(therasim("validate " + quote(w.scenario) + " --threads 2 --seed 3 --replicates 2 --set seed=4", &out) == EXIT_OK);
}

TEST_CASE("bad option values and missing arguments exit 2", "[cli][usage]") {
    Workspace w;
    const std::string run = "run " + quote(w.scenario) + " -o " + quote(w.output);
    std::string out;
    CHECK(therasim(run + " --threads 0", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--threads must be at least 1"));
    CHECK(therasim(run + " --threads many", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--threads expects a whole number up to 1024, got 'many'"));
    CHECK(therasim(run + " --seed -3", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--seed expects a whole number"));
    CHECK(therasim("run " + quote(w.scenario) + " -o", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("-o needs a value"));
    CHECK(therasim("run -o " + quote(w.output), &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("expected one SCENARIO file"));
    CHECK(therasim("run " + quote(w.scenario) + " " + quote(w.scenario) + " -o " + quote(w.output), &out) == EXIT_INVALID);
    CHECK(therasim(run + " --set relapse.p_year_on_medication=2", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--set relapse.p_year_on_medication=2: key 'relapse.p_year_on_medication'"));
    CHECK_FALSE(fs::exists(w.output));
    CHECK(leftovers(w.dir.dir()).empty());
}

TEST_CASE("run without -o exits 2", "[cli][run]") {
    Workspace w;
    std::string out;
    CHECK(therasim("run " + quote(w.scenario) + " --quiet", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("no output file given (-o FILE)"));
}

TEST_CASE("run onto an existing file without --overwrite exits 2 and leaves it untouched", "[cli][run]") {
    Workspace w;
    test::write_file(w.output, PRECIOUS);
    std::string out;
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --quiet", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("output file '" + w.output + "' exists; pass --overwrite to replace it"));
    CHECK(test::read_file(w.output) == PRECIOUS);
    CHECK(leftovers(w.dir.dir()).empty());
}

TEST_CASE("run into a missing directory or onto a directory exits 2", "[cli][run]") {
    Workspace w;
    std::string out;
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(w.dir.path("nope/out.h5")) + " --quiet", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("does not exist"));
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(w.dir.dir()) + " --quiet", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("is a directory; give a file name"));
}

TEST_CASE("a small run exits 0 and writes a complete results file and nothing else", "[cli][run]") {
    Workspace w;
    std::string out;
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --threads 1", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::Contains("wrote " + w.output));
    CHECK_THAT(out, Catch::Contains("therasim: running small"));
    REQUIRE(fs::is_regular_file(w.output));
    CHECK(leftovers(w.dir.dir()).empty());
    const sim::ResultsFile f(w.output);
    CHECK(f.provenance("scenario_file") == w.scenario);
    CHECK(f.national("patients").values.back() == 400);
    // --seed is recorded in the stored scenario.
    const std::string seeded = w.dir.path("seeded.h5");
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(seeded) + " --quiet --threads 1 --seed 11") == EXIT_OK);
    CHECK(sim::ResultsFile(seeded).national("patients").values.back() == 400);
    std::string printed;
    REQUIRE(therasim("validate " + quote(w.scenario) + " --seed 11 --print", &printed) == EXIT_OK);
    CHECK_THAT(printed, Catch::Contains("seed: 11"));
}

TEST_CASE("the run summary never gives a stepping time above the wall time without saying it is a sum over runs", "[cli][run]") {
    Workspace w;
    std::string out;
    // One run: stepping is part of the wall time, with setup, burn-in and the results' writing,
    // which add up to it (each printed to 0.01 s).
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --threads 2", &out) == EXIT_OK);
    const std::regex single(
        R"(stepping ([0-9.]+) s \([0-9.]+ M patient-steps/s; setup ([0-9.]+) s, burn-in ([0-9.]+) s, results ([0-9.]+) s; ([0-9.]+) s in all\))");
    std::smatch m;
    REQUIRE(std::regex_search(out, m, single));
    const double stepping = std::stod(m[1]), setup = std::stod(m[2]), burn_in = std::stod(m[3]), results = std::stod(m[4]),
                 all = std::stod(m[5]);
    CHECK(stepping <= all);
    CHECK(stepping + setup + burn_in + results == Approx(all).margin(0.021));
    // Four runs on two threads overlap: the wall time leads and the stepping time is labelled a sum.
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(w.dir.path("four.h5")) + " --threads 2 --replicates 4", &out) == EXIT_OK);
    const std::regex several(R"(4 x 52 steps of 400 patients in ([0-9.]+) s \([0-9.]+ M patient-steps/s over the wall time; stepping ([0-9.]+) s summed over the runs\))");
    CHECK(std::regex_search(out, m, several));
}

TEST_CASE("a trial's metrics print an estimate and the means of its 95% limits on one row", "[cli][run]") {
    Workspace w;
    std::string out;
    const std::string trial = std::string(THERASIM_SOURCE_DIR) + "/scenarios/trials/dialog_2007.yaml";
    REQUIRE(therasim("run " + quote(trial) + " --replicates 4 -o " + quote(w.output), &out) == EXIT_OK);
    // trial_qol_d, then the means of trial_qol_d_lo and trial_qol_d_hi in brackets
    const std::regex estimate(R"(\ntrial_qol_d +Standardised effect[^\n]*? (-?[0-9.]+) +\[(-?[0-9.]+), (-?[0-9.]+)\] )");
    std::smatch m;
    REQUIRE(std::regex_search(out, m, estimate));
    CHECK(std::stod(m[2]) < std::stod(m[1]));
    CHECK(std::stod(m[1]) < std::stod(m[3]));
    // the limits have no rows of their own; a metric without limits has no brackets
    CHECK_THAT(out, !Catch::Contains("\ntrial_qol_d_lo ") && !Catch::Contains("\ntrial_qol_d_hi "));
    CHECK(std::regex_search(out, std::regex(R"(\ntrial_qol_p +[^\[\n]*\n)")));
}

TEST_CASE("run --overwrite replaces an existing file", "[cli][run]") {
    Workspace w;
    test::write_file(w.output, PRECIOUS);
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --overwrite --quiet --threads 1") == EXIT_OK);
    CHECK(test::read_file(w.output) != PRECIOUS);
    CHECK_NOTHROW(sim::ResultsFile(w.output));
    CHECK(leftovers(w.dir.dir()).empty());
}

TEST_CASE("run of an invalid scenario exits 2 and writes nothing", "[cli][run]") {
    Workspace w;
    test::write_file(w.scenario, "seed: 1\nrelapse: {p_year_on_medication: 1.5}\n");
    std::string out;
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(w.output), &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains(std::string(ERROR_PREFIX) + w.scenario + ":2: key 'relapse.p_year_on_medication'"));
    CHECK_FALSE(fs::exists(w.output));
}

// ==== validate and params ====================================================================

TEST_CASE("validate prints ok with the scenario's name", "[cli][validate]") {
    Workspace w;
    std::string out;
    CHECK(therasim("validate " + quote(w.scenario), &out) == EXIT_OK);
    CHECK_THAT(out, Catch::StartsWith("ok: " + w.scenario + " (small); estimated peak memory "));
    CHECK_THAT(out, Catch::EndsWith(" MiB (1 run(s) at once)\n"));
    CHECK(therasim("validate " + quote(test::source_path("scenarios/england_no_dialog.yaml")), &out) == EXIT_OK);
    CHECK_THAT(out, Catch::Contains("(England without DIALOG)"));
}

TEST_CASE("validate --print writes the resolved scenario, which validates too", "[cli][validate]") {
    Workspace w;
    for (const char* hypothesis : {"mixture", "basis"}) {
        INFO("hypothesis " << hypothesis);
        std::string printed;
        REQUIRE(therasim("validate " + quote(w.scenario) + " --set relapse.p_year_on_medication=0.2 --set mechanism.hypothesis=" +
                             hypothesis + " --print",
                         &printed) == EXIT_OK);
        CHECK_THAT(printed, Catch::Contains("p_year_on_medication: 0.2"));
        CHECK_THAT(printed, Catch::Contains(std::string("hypothesis: ") + hypothesis));
        const std::string resolved = w.dir.path("resolved.yaml");
        test::write_file(resolved, printed);
        std::string out;
        CHECK(therasim("validate " + quote(resolved), &out) == EXIT_OK);
        CHECK_THAT(out, Catch::StartsWith("ok: "));
    }
}

TEST_CASE("validate of a bad scenario or a bad --set exits 2 with file, line and key", "[cli][validate]") {
    Workspace w;
    std::string out;
    CHECK(therasim("validate " + quote(w.scenario) + " --set relapse=0.2", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("key 'relapse': is a section"));
    const std::string bad = w.dir.path("bad.yaml");
    test::write_file(bad, "seed: 1\ntime:\n  yeers: 3\n");
    CHECK(therasim("validate " + quote(bad), &out) == EXIT_INVALID);
    CHECK(out == std::string(ERROR_PREFIX) + bad + ":3: key 'time.yeers': unknown key; did you mean 'years'? Valid keys in 'time' are: years, step_days, burn_in_weeks\n");
    CHECK(therasim("validate " + quote(w.dir.path("missing.yaml")), &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("does not exist"));
    // Model-level checks run in validate too.
    CHECK(therasim("validate " + quote(w.scenario) + " --set structure.n_clinicians=3", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("cannot be allocated"));
}

TEST_CASE("params prints the Markdown parameter reference", "[cli][params]") {
    std::string out;
    REQUIRE(therasim("params", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::StartsWith("# Parameter reference"));
    CHECK_THAT(out, Catch::Contains("| Name | Default | Unit | Range | Meaning | Source | Uncertainty (PSA) |"));
    CHECK_THAT(out, Catch::Contains(std::string("| `") + PARAM_KEY + "` | 0.27 | probability/year | [0, 1] |"));
    CHECK_THAT(out, Catch::Contains("## relapse"));
    // Every declared parameter is listed.
    for (const auto& p : test::schema().params()) {
        INFO(p.path);
        CHECK_THAT(out, Catch::Contains("`" + p.path + "`"));
    }
}

// ==== compare ================================================================================

TEST_CASE("compare of two runs prints both and their difference A - B", "[cli][compare]") {
    Workspace w;
    const std::string a = w.dir.path("a.h5"), b = w.dir.path("b.h5");
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(a) +
                     " --quiet --threads 1 --set dialog.enabled=true --set dialog.rollout.start_year=0.1") == EXIT_OK);
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(b) + " --quiet --threads 1") == EXIT_OK);
    std::string out;
    REQUIRE(therasim("compare " + quote(a) + " " + quote(b), &out) == EXIT_OK);
    CHECK_THAT(out, Catch::Contains("A: small (" + a + ")"));
    CHECK_THAT(out, Catch::Contains("B: small (" + b + ")"));
    CHECK_THAT(out, Catch::Contains("A - B"));
    CHECK_THAT(out, Catch::Contains("year 1"));
    CHECK_THAT(out, Catch::Contains("Patients engaged with services"));
    CHECK_THAT(out, Catch::Contains("Findings, year"));
    CHECK_THAT(out, Catch::Contains("Net cost, discounted at 3.5% a year"));
    CHECK_THAT(out, Catch::Contains("Costs in GBP at 2024 prices (costs.price_year)"));
    for (std::size_t at = 0, next = 0; at < out.size(); at = next + 1) {  // every line fits 100 columns
        next = std::min(out.find('\n', at), out.size());
        CHECK(next - at <= 100);
    }

    REQUIRE(therasim("compare " + quote(a), &out) == EXIT_OK);
    CHECK_THAT(out, !Catch::Contains("A - B"));
    CHECK_THAT(out, Catch::Contains("year 1"));

    CHECK(therasim("compare", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("compare expects one or more result files"));
    REQUIRE(therasim("compare " + quote(a) + " " + quote(a) + " " + quote(b), &out) == EXIT_OK);
    CHECK_THAT(out, Catch::Contains("A2 - B"));
    CHECK(therasim("compare " + quote(w.scenario), &out) == EXIT_RUN_FAILED);
    CHECK_THAT(out, Catch::Contains("is not an HDF5 file"));
}

TEST_CASE("compare states the price year the comparator's scenario gives its costs", "[cli][compare]") {
    Workspace w;
    const std::string a = w.dir.path("a.h5"), b = w.dir.path("b.h5");
    for (const auto& f : {a, b})
        REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(f) + " --quiet --threads 1 --set costs.price_year=2031") == EXIT_OK);
    std::string out;
    REQUIRE(therasim("compare " + quote(a) + " " + quote(b), &out) == EXIT_OK);
    CHECK_THAT(out, Catch::Contains("Costs in GBP at 2031 prices (costs.price_year)"));
}

TEST_CASE("compare refuses runs that cannot be paired, unless --unpaired", "[cli][compare]") {
    Workspace w;
    const std::string a = w.dir.path("a.h5"), b = w.dir.path("b.h5"), csv = w.dir.path("t.csv");
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(a) + " --quiet --threads 1 --seed 4242") == EXIT_OK);
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(b) + " --quiet --threads 1 --seed 7") == EXIT_OK);
    std::string out;
    CHECK(therasim("compare " + quote(a) + " " + quote(b), &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("their seeds differ (4242 and 7)"));
    REQUIRE(therasim("compare " + quote(a) + " " + quote(b) + " --unpaired --csv " + quote(csv), &out) == EXIT_OK);
    CHECK_THAT(out, Catch::Contains("UNPAIRED"));
    CHECK_THAT(sim::files::read_text(csv), Catch::Contains("A - B (unpaired)"));
    CHECK(therasim("compare " + quote(a) + " " + quote(b) + " --unpaired --csv " + quote(csv), &out) == EXIT_INVALID);
    CHECK(therasim("compare " + quote(a) + " --discount 2", &out) == EXIT_INVALID);
}

TEST_CASE("compare --population scales counts and costs to national totals, and leaves means", "[cli][compare]") {
    Workspace w;
    const std::string a = w.dir.path("a.h5"), plain = w.dir.path("plain.csv"), scaled = w.dir.path("scaled.csv");
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(a) + " --quiet --threads 1") == EXIT_OK);
    const double n = sim::ResultsFile(a).national_replicates("patients").front().front();
    std::string out;
    REQUIRE(therasim("compare " + quote(a) + " --csv " + quote(plain), &out) == EXIT_OK);
    REQUIRE(therasim("compare " + quote(a) + " --population 300000 --csv " + quote(scaled), &out) == EXIT_OK);
    // outcome,label,unit,row,file,period,value: the same rows, counts x 300,000 / n, means as they were
    const auto rows = [](const std::string& path) {
        std::map<std::string, double> m;
        std::istringstream in(sim::files::read_text(path));
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            const auto last = line.rfind(',');
            m[line.substr(0, last)] = std::stod(line.substr(last + 1));
        }
        return m;
    };
    const auto p = rows(plain), s = rows(scaled);
    REQUIRE(p.size() == s.size());
    std::size_t counts = 0, means = 0;
    for (const auto& [key, v] : p) {
        INFO(key);
        REQUIRE(s.count(key));
        if (key.rfind("mean_", 0) == 0) {
            CHECK(s.at(key) == v);
            ++means;
        } else if (key.rfind("admissions_involuntary,", 0) == 0 || key.rfind("bed_days,", 0) == 0) {
            CHECK(s.at(key) == Approx(v * 300000 / n).epsilon(1e-12));
            ++counts;
        }
    }
    CHECK(counts > 0);
    CHECK(means > 0);
    // A ratio of a cost to events avoided does not depend on the scale they are both given in.
    const std::string d = w.dir.path("d.h5"), none = w.dir.path("none.h5");
    const std::string bigger = " --quiet --threads 2 --set population.n_patients=3000 --set time.years=3";
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(d) + bigger +
                     " --set dialog.enabled=true --set dialog.rollout.start_year=0.02"
                     " --set dialog.action_probability=1 --set dialog.interval_weeks=2") == EXIT_OK);
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(none) + bigger) == EXIT_OK);
    std::string run_scale, national;
    REQUIRE(therasim("compare " + quote(d) + " " + quote(none), &run_scale) == EXIT_OK);
    REQUIRE(therasim("compare " + quote(d) + " " + quote(none) + " --population 300000", &national) == EXIT_OK);
    const auto verdict = [](const std::string& text) {
        const auto at = text.find("In sum:");
        return at == std::string::npos ? std::string() : text.substr(at, text.find("\n\n", at) - at);
    };
    INFO(run_scale);
    REQUIRE_THAT(verdict(run_scale), Catch::Contains("per one fewer of"));  // a large planted effect: events avoided
    CHECK(verdict(run_scale) == verdict(national));
    // run has no --population: the simulated population is a scenario parameter
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(w.dir.path("x.h5")) + " --population 3000", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("--set population.n_patients=3000"));
    CHECK(therasim("compare " + quote(a) + " --population lots", &out) == EXIT_INVALID);
}

TEST_CASE("discount factors follow the NICE convention: year 1 undiscounted", "[cli][compare]") {
    CHECK(sim::discount_factor(0.035, 1) == 1.0);
    CHECK(sim::discount_factor(0.035, 2) == Approx(1 / 1.035));
    CHECK(sim::discount_factor(0.035, 5) == Approx(1 / (1.035 * 1.035 * 1.035 * 1.035)));  // 0.8714...
    CHECK(sim::discount_factor(0.0, 7) == 1.0);
}

// ==== signals ================================================================================

namespace {
/// Starts a long run, sends @p signal after SIGNAL_AFTER_S seconds; returns the exit code.
int interrupted_run(const Workspace& w, const std::string& signal, std::string* out) {
    const std::string big = w.dir.path("big.yaml");
    test::write_file(big, test::small_yaml(BIG_PATIENTS, BIG_YEARS));
    // --preserve-status: report therasim's own exit code, not timeout's 124.
    return test::shell("timeout --preserve-status -s " + signal + " " + std::to_string(SIGNAL_AFTER_S) + " " +
                           quote(test::therasim_binary()) + " run " + quote(big) + " -o " + quote(w.output) + " --threads 1",
                       out);
}
}  // namespace

TEST_CASE("SIGINT during a run exits 130 and leaves no output file", "[cli][signal]") {
    Workspace w;
    std::string out;
    CHECK(interrupted_run(w, "INT", &out) == EXIT_SIGINT);
    CHECK_THAT(out, Catch::Contains("interrupted by signal 2; stopped, no results file written"));
    CHECK_FALSE(fs::exists(w.output));
    CHECK(leftovers(w.dir.dir()).empty());
}

TEST_CASE("SIGTERM during a run exits 143 and leaves no output file", "[cli][signal]") {
    Workspace w;
    std::string out;
    CHECK(interrupted_run(w, "TERM", &out) == EXIT_SIGTERM);
    CHECK_THAT(out, Catch::Contains("interrupted by signal 15"));
    CHECK_FALSE(fs::exists(w.output));
    CHECK(leftovers(w.dir.dir()).empty());
}

// ==== report ================================================================================

TEST_CASE("therasim report writes one HTML file through the analysis package", "[cli][report]") {
    Workspace w;
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --quiet") == EXIT_OK);
    std::string out;
    CHECK(therasim("report --help", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::StartsWith("usage: therasim report"));
    const std::string html = w.dir.path("r.html");
    CHECK(therasim("report " + quote(w.output) + " -o " + quote(html), &out) == EXIT_OK);
    const std::string text = test::read_file(html);
    CHECK_THAT(text, Catch::StartsWith("<!DOCTYPE html>"));
    CHECK_THAT(text, Catch::Contains("data:image/png;base64,"));
    // A missing results file is bad input (2); a missing analysis package or Python a failure (1).
    CHECK(therasim("report " + quote(w.dir.path("missing.h5")) + " -o " + quote(html), &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("missing.h5"));
    CHECK(test::shell("THERASIM_ANALYSIS=/nonexistent " + quote(test::therasim_binary()) + " report " + quote(w.output), &out) ==
          EXIT_RUN_FAILED);
    CHECK_THAT(out, Catch::Contains("the analysis package is not in /nonexistent"));
    CHECK(test::shell("THERASIM_PYTHON=/nonexistent/python3 " + quote(test::therasim_binary()) + " report " + quote(w.output), &out) ==
          EXIT_RUN_FAILED);
    CHECK_THAT(out, Catch::Contains("cannot start /nonexistent/python3"));
}

TEST_CASE("therasim story prints a traced patient's weeks through the analysis package", "[cli][story]") {
    Workspace w;
    REQUIRE(therasim("run " + quote(w.scenario) + " -o " + quote(w.output) + " --quiet --set output.trajectories=4") == EXIT_OK);
    std::string out;
    CHECK(therasim("story --help", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::StartsWith("usage: therasim story"));
    // The sample of 4 of 400 patients is rows 0, 100, 200, 300 (docs/output.md).
    CHECK(therasim("story " + quote(w.output) + " --patient 100", &out) == EXIT_OK);
    CHECK_THAT(out, Catch::Contains("Patient 100 of small") && Catch::Contains("baseline") && Catch::Contains("In all: "));
    CHECK(therasim("story " + quote(w.output) + " --patient 7", &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("patient 7 is not among the 4 traced patients (0, 100, 200, 300)"));
}

TEST_CASE("values given with --set go through the file loader's checks, and messages do not echo long values", "[cli][set]") {
    Workspace w;
    struct Case {
        const char* what;
        std::string value;
        const char* message;
    };
    const std::vector<Case> cases = {
        {"not UTF-8", "mechanism.hypothesis=caf\xe9", "value is not valid UTF-8 text"},
        {"two documents", "mechanism.hypothesis=basis\n---\nmixture", "more than one YAML document"},
        {"an alias bomb", "seed=[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], "
                          "&c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], "
                          "[*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]]",
         "YAML nodes"},
        {"a long wrong value", "seed=" + std::string(5000, '9'), "key 'seed'"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        std::string out;
        // printf keeps the bytes exactly (newlines, a lone 0xe9) through the shell.
        std::string escaped;
        for (const unsigned char ch : c.value) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\%03o", ch);
            escaped += buf;
        }
        CHECK(test::shell(quote(test::therasim_binary()) + " validate " + quote(w.scenario) + " --set \"$(printf '" + escaped + "')\"",
                          &out) == EXIT_INVALID);
        CHECK_THAT(out, Catch::Contains(c.message));
        CHECK(out.size() < 1000);  // the message names the key, not the whole value
    }
}

TEST_CASE("terminal control characters in names and messages are shown escaped", "[cli][set]") {
    Workspace w;
    test::write_file(w.scenario, "name: \"a\\e[31mred\"\n" + test::small_yaml());
    std::string out;
    REQUIRE(therasim("validate " + quote(w.scenario), &out) == EXIT_OK);
    CHECK_THAT(out, Catch::Contains("(a\\x1b[31mred)"));
    CHECK_THAT(out, !Catch::Contains("\x1b"));
    REQUIRE(therasim("validate " + quote(w.scenario) + " --set \"seed=$(printf '\\033]0;title\\007')\"", &out) == EXIT_INVALID);
    CHECK_THAT(out, !Catch::Contains("\x1b"));
    CHECK_THAT(out, !Catch::Contains("\x07"));
}
