// Crash consistency: SIGKILL at every write, rename, truncation, flush and removal of a small
// ensemble and a small sweep, each followed by the same command, must end with the file an
// uninterrupted run writes (every dataset and attribute equal, apart from start times and wall
// times), and nothing left beside it. The kills are injected with strace (-e inject=SYSCALL:
// signal=KILL:when=N); strace counts each system call separately, so every occurrence of every
// call in the set is a kill point. Also: damaged parts found on resume are rerun, and a second
// run on the same output is refused while the first holds it.
#include "tests/support.hpp"

#include "sim/h5.hpp"

#include <catch2/catch.hpp>

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr int EXIT_OK = 0;
constexpr int EXIT_INVALID = 2;
constexpr int EXIT_SIGKILL = 128 + 9;

/// The system calls that change files: each occurrence is a kill point.
const std::vector<std::string> KILL_CALLS = {"pwrite64", "write", "ftruncate", "fsync", "fdatasync", "rename",
                                             "renameat2", "link", "unlink", "mkdir", "rmdir"};

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

bool strace_works() {
    return test::shell("strace -f -qq -o /dev/null -e trace=getpid -e inject=getpid:retval=1 true") == 0;
}

// ---- the runs -------------------------------------------------------------------------------

struct Case {
    const char* name;
    std::string yaml;
};

std::vector<Case> cases() {
    const std::string base = test::small_yaml(150, 0.25, 5);
    return {{"a 3-replicate ensemble", base + "replicates: 3\n"},
            {"a 2-point sweep", base + "replicates: 1\nsweep:\n  design: latin_hypercube\n  samples: 2\n  parameters:\n"
                                       "    costs.bed_day: [200, 600]\n"}};
}

/// Counts of each kill call in an uninterrupted run of @p command.
std::map<std::string, int> count_calls(const std::string& command, const std::string& dir) {
    const std::string trace = dir + "/trace.txt";
    std::string calls;
    for (const auto& c : KILL_CALLS) calls += (calls.empty() ? "" : ",") + c;
    REQUIRE(test::shell("strace -f -qq -o " + quote(trace) + " -e trace=" + calls + " " + command) == EXIT_OK);
    std::map<std::string, int> n;
    std::ifstream in(trace);
    const std::regex call(R"(^\d+\s+([a-z0-9_]+)\()");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, m, call)) ++n[m[1]];
    return n;
}


}  // namespace

TEST_CASE("SIGKILL at every write of a small ensemble and sweep, then the same command, gives the uninterrupted file",
          "[faults][sigkill][crash]") {
    if (!strace_works()) {
        WARN("SKIPPED: strace cannot trace or inject faults here (ptrace not permitted or strace missing)");
        return;
    }
    for (const auto& c : cases()) {
        INFO(c.name);
        test::TempDir dir;
        const std::string scenario = dir.path("s.yaml"), ref = dir.path("ref.h5"), out_dir = dir.path("out");
        test::write_file(scenario, c.yaml);
        fs::create_directory(out_dir);
        const std::string out = out_dir + "/r.h5";
        const auto run = [&](const std::string& o) {
            return quote(test::therasim_binary()) + " run " + quote(scenario) + " -o " + quote(o) + " --quiet --threads 1";
        };
        REQUIRE(test::shell(run(ref)) == EXIT_OK);
        const auto want = test::h5_contents(ref);
        const auto counts = count_calls(run(dir.path("probe.h5")), dir.dir());
        int points = 0;
        for (const auto& [call, n] : counts) {
            for (int k = 1; k <= n; ++k) {
                INFO("killed at " << call << " number " << k << " of " << n);
                fs::remove_all(out_dir);
                fs::create_directory(out_dir);
                std::string log;
                const int rc = test::shell("strace -f -D -qq -o /dev/null -e trace=" + call + " -e inject=" + call +
                                               ":signal=KILL:when=" + std::to_string(k) + " " + run(out),
                                           &log);
                // The last calls (removing the work directory) may come after the result is in
                // place; there the kill leaves a finished file and the rerun refuses to replace it.
                REQUIRE((rc == EXIT_SIGKILL || rc == EXIT_OK));
                const bool finished = fs::exists(out);
                if (finished) {
                    CHECK(test::h5_difference(want, out).empty());
                } else {
                    // Never a file that looks like a result: only the work directory, if anything.
                    for (const auto& e : test::entries(out_dir)) CHECK(e == "r.h5.partial-run");
                    REQUIRE(test::shell(run(out), &log) == EXIT_OK);
                    INFO(log);
                    CHECK(test::h5_difference(want, out) == "");
                }
                // A kill after the move into place, while the work directory is being removed,
                // leaves what is left of it; the same command with --overwrite finishes again.
                if (fs::exists(out + ".partial-run")) {
                    const std::string again = run(out) + " --overwrite";
                    CHECK(test::shell(again, &log) == EXIT_OK);
                    CHECK(test::h5_difference(want, out) == "");
                }
                CHECK(test::entries(out_dir) == std::vector<std::string>{"r.h5"});
                ++points;
            }
        }
        INFO(points << " kill points");
        CHECK(points >= 15);  // every part and the result are a few writes each
    }
}

TEST_CASE("a damaged part is found on resume and its run is done again", "[faults][crash]") {
    test::TempDir dir;
    const std::string scenario = dir.path("s.yaml"), out = dir.path("r.h5"), ref = dir.path("ref.h5");
    test::write_file(scenario, cases()[0].yaml);
    const std::string bin = quote(test::therasim_binary()) + " run " + quote(scenario) + " --quiet --threads 1 -o ";
    REQUIRE(test::shell(bin + quote(ref)) == EXIT_OK);
    const auto want = test::h5_contents(ref);
    // The parts of an interrupted run, made by killing it at the first write of the result.
    REQUIRE(test::shell("strace -f -D -qq -o /dev/null -P " + quote(out + ".partial-run/result.h5") +
                        " -e trace=write -e inject=write:signal=KILL " + bin + quote(out)) == EXIT_SIGKILL);
    std::vector<std::string> parts;
    for (const auto& e : test::entries(out + ".partial-run"))
        if (e.rfind("run-", 0) == 0) parts.push_back(out + ".partial-run/" + e);
    REQUIRE(parts.size() == 3);
    SECTION("a flipped byte") {
        std::fstream f(parts[1], std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(2000);
        char b = 0;
        f.read(&b, 1);
        b = static_cast<char>(b ^ 0x5a);
        f.seekp(2000);
        f.write(&b, 1);
    }
    SECTION("cut short") { fs::resize_file(parts[2], fs::file_size(parts[2]) / 2); }
    SECTION("emptied") { fs::resize_file(parts[0], 0); }
    std::string log;
    REQUIRE(test::shell(quote(test::therasim_binary()) + " run " + quote(scenario) + " --threads 1 -o " + quote(out), &log) == EXIT_OK);
    CHECK_THAT(log, Catch::Contains("1 damaged part(s) failed verification and run again"));
    CHECK(test::h5_difference(want, out) == "");
}

TEST_CASE("a rerun that only assembles kept runs says so, with no throughput of runs it did not step", "[faults][crash]") {
    test::TempDir dir;
    const std::string scenario = dir.path("s.yaml"), out = dir.path("r.h5");
    const bool ensemble = GENERATE(false, true);
    test::write_file(scenario, ensemble ? cases()[0].yaml : test::small_yaml(150, 0.25, 5));
    const std::string bin = quote(test::therasim_binary()) + " run " + quote(scenario) + " --threads 1 -o " + quote(out);
    // Every run's part kept: the first command is killed at the first write of the result.
    REQUIRE(test::shell("strace -f -D -qq -o /dev/null -P " + quote(out + ".partial-run/result.h5") +
                        " -e trace=write -e inject=write:signal=KILL " + bin + " --quiet") == EXIT_SIGKILL);
    std::string log;
    REQUIRE(test::shell(bin, &log) == EXIT_OK);
    INFO(log);
    CHECK_THAT(log, Catch::Contains(std::string("therasim: all ") + (ensemble ? "3" : "1") +
                                    " run(s) kept by an interrupted command, none run again; assembled in "));
    CHECK_THAT(log, !Catch::Contains("nan") && !Catch::Contains("inf M") && !Catch::Contains("steps/s"));
    CHECK_NOTHROW(sim::ResultsFile(out));
}

TEST_CASE("a second run on the same output is refused while the first holds it", "[faults][crash]") {
    test::TempDir dir;
    const std::string scenario = dir.path("s.yaml"), out = dir.path("r.h5");
    test::write_file(scenario, test::small_yaml(3000, 2.0, 5) + "replicates: 4\n");
    const std::string run = quote(test::therasim_binary()) + " run " + quote(scenario) + " --quiet --threads 1 -o " + quote(out);
    // The first run holds the lock while it works; the second starts once the work directory exists.
    const std::string script = run + " & first=$!; while [ ! -e " + quote(out + ".partial-run/lock") +
                               " ]; do sleep 0.01; done; " + run + "; echo \"second=$?\"; wait $first; echo \"first=$?\"";
    std::string log;
    REQUIRE(test::shell("sh -c " + quote(script), &log) == EXIT_OK);
    INFO(log);
    CHECK_THAT(log, Catch::Contains("another therasim run is writing '" + out + "'"));
    CHECK_THAT(log, Catch::Contains("second=" + std::to_string(EXIT_INVALID)));
    CHECK_THAT(log, Catch::Contains("first=0"));
    CHECK_NOTHROW(sim::ResultsFile(out));
    CHECK(test::entries(dir.dir()) == std::vector<std::string>{"r.h5", "s.yaml"});
}
