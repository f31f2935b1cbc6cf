// Shards and their merge, through the built binary: `therasim run --shard K/N` runs the runs
// r with r mod N == K into a shard's file, and `therasim merge` of the N files (in any order)
// writes the file one process writes. Also: what merge refuses, that a shard's file is not
// taken for a result, shards at 1 and 2 threads, and an interrupted shard resuming.
#include "tests/support.hpp"

#include "sim/h5.hpp"

#include <catch2/catch.hpp>

#include <hdf5.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr int EXIT_OK = 0;
constexpr int EXIT_INVALID = 2;
constexpr int PATIENTS = 200;
constexpr double YEARS = 1.0;
constexpr std::uint32_t SEED = 11;
constexpr int SHARDS = 3;

/// Besides the times, a merged file differs from the single process's only in its shard list.
const std::set<std::string> MERGE_SKIPS = {"start_time", "wall_time_s", "merged_shards"};

std::string quote(const std::string& s) { return "'" + s + "'"; }

int therasim(const std::string& args, std::string* out = nullptr) {
    std::string dummy;
    return test::shell(quote(test::therasim_binary()) + " " + args, out ? out : &dummy);
}

std::string ensemble_yaml(std::uint32_t seed = SEED) { return test::small_yaml(PATIENTS, YEARS, seed) + "replicates: 6\n"; }

/// 2 sweep points x 2 replicates: 4 runs, so 3 shards hold 2, 1 and 1 runs.
std::string sweep_yaml() {
    return test::small_yaml(PATIENTS, YEARS, SEED) +
           "replicates: 2\nsweep:\n  design: latin_hypercube\n  samples: 2\n  parameters:\n    costs.bed_day: [200, 600]\n";
}

/// A directory with a scenario; runs it whole or as shards.
struct Work {
    test::TempDir dir;
    std::string scenario = dir.path("s.yaml");
    explicit Work(const std::string& yaml) { test::write_file(scenario, yaml); }
    [[nodiscard]] std::string path(const std::string& name) const { return dir.path(name); }
    /// Runs the scenario (@p extra: more options) into @p out. @return the exit code
    int run(const std::string& out, const std::string& extra = "", unsigned threads = 2, std::string* log = nullptr) const {
        return therasim("run " + quote(scenario) + " -o " + quote(out) + " --quiet --threads " + std::to_string(threads) + " " + extra,
                        log);
    }
    /// Runs shard @p k of @p n into part-K.h5. @return its path
    std::string shard(int k, int n = SHARDS, unsigned threads = 2) const {
        const std::string out = path("part-" + std::to_string(k) + ".h5");
        REQUIRE(run(out, "--shard " + std::to_string(k) + "/" + std::to_string(n), threads) == EXIT_OK);
        return out;
    }
};

/// Copies shard file @p from to @p to with root attribute @p name replaced: a string attribute
/// by @p text, or (if @p text is empty) an integer attribute by @p number.
void copy_with_attribute(const std::string& from, const std::string& to, const char* name, const std::string& text, long long number = 0) {
    fs::copy_file(from, to);
    const hid_t f = H5Fopen(to.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(f >= 0);
    REQUIRE(H5Adelete(f, name) >= 0);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t type = text.empty() ? H5Tcopy(H5T_NATIVE_LLONG) : H5Tcopy(H5T_C_S1);
    if (!text.empty()) {
        H5Tset_size(type, H5T_VARIABLE);
        H5Tset_cset(type, H5T_CSET_UTF8);
    }
    const hid_t a = H5Acreate2(f, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* p = text.c_str();
    CHECK(H5Awrite(a, type, text.empty() ? static_cast<const void*>(&number) : static_cast<const void*>(&p)) >= 0);
    H5Aclose(a);
    H5Tclose(type);
    H5Sclose(space);
    H5Fclose(f);
}

/// Runs `therasim merge -o OUT PARTS...`. @return the exit code
int merge(const std::string& out, const std::vector<std::string>& parts, std::string* log) {
    std::string args = "merge -o " + quote(out);
    for (const auto& p : parts) args.append(" ").append(quote(p));
    return therasim(args, log);
}

/// Runs @p yaml whole and in 3 shards, merges the shards given last to first, and requires the
/// single-process file.
void check_merge_equals_single_process(const std::string& yaml) {
    const Work w(yaml);
    REQUIRE(w.run(w.path("whole.h5")) == EXIT_OK);
    std::vector<std::string> parts;
    for (int k = SHARDS - 1; k >= 0; --k) parts.push_back(w.shard(k));
    std::string log;
    const std::vector<std::string> order = {parts[1], parts[2], parts[0]};  // shards 1, 0, 2
    REQUIRE(merge(w.path("merged.h5"), order, &log) == EXIT_OK);
    const auto want = test::h5_contents(w.path("whole.h5"), MERGE_SKIPS);
    CHECK(want.size() > 100);  // every series, summary, agent attribute and their attributes
    CHECK(test::h5_difference(want, w.path("merged.h5"), MERGE_SKIPS) == "");
    // The shard list is recorded, one line per shard in order.
    const sim::ResultsFile merged(w.path("merged.h5"));
    const std::string shards = merged.provenance("merged_shards");
    CHECK(shards.find("0/3 part-0.h5") < shards.find("1/3 part-1.h5"));
    CHECK(shards.find("1/3 part-1.h5") < shards.find("2/3 part-2.h5"));
    // Nothing but the inputs and the result.
    CHECK(test::entries(w.dir.dir()) == std::vector<std::string>{"merged.h5", "part-0.h5", "part-1.h5", "part-2.h5", "s.yaml", "whole.h5"});
}

}  // namespace

TEST_CASE("a 6-replicate run in 3 shards merged out of order is the single-process file", "[shard][merge]") {
    check_merge_equals_single_process(ensemble_yaml());
}

TEST_CASE("a 2-point sweep in 3 uneven shards merged out of order is the single-process file", "[shard][merge][sweep]") {
    check_merge_equals_single_process(sweep_yaml());
}

TEST_CASE("a shard's file says which shard and runs it holds and is not read as a result", "[shard]") {
    const Work w(ensemble_yaml());
    const std::string part = w.shard(1);
    const auto c = test::h5_contents(part);
    CHECK(c.at("/@format").find("therasim results shard") == 0);
    CHECK(c.count("/shard/run") == 1);
    CHECK(c.count("/summary") == 0);  // summaries over some runs would pass for the result's
    CHECK(c.count("/agents") == 0);   // the agents are run 0's, in shard 0
    CHECK_THROWS_WITH(sim::ResultsFile(part), Catch::Contains("is shard 1 of 3 of a run, not a whole result"));
    std::string log;
    CHECK(therasim("compare " + quote(part), &log) != EXIT_OK);
    CHECK_THAT(log, Catch::Contains("shard 1 of 3") && Catch::Contains("therasim merge"));
    // More shards than runs, or K outside 0..N-1, is refused before any work.
    CHECK(w.run(w.path("x.h5"), "--shard 0/7", 1, &log) == EXIT_INVALID);
    CHECK_THAT(log, Catch::Contains("6 run(s), fewer than 7 shards"));
    for (const char* bad : {"3/3", "1", "-1/3", "a/b", "0/0"}) {
        CHECK(w.run(w.path("x.h5"), std::string("--shard ") + bad, 1, &log) == EXIT_INVALID);
        CHECK_THAT(log, Catch::Contains("--shard expects K/N"));
    }
    CHECK_FALSE(fs::exists(w.path("x.h5")));
}

TEST_CASE("merge refuses missing, overlapping, foreign and non-shard inputs with exit 2 and writes nothing", "[shard][merge][errors]") {
    const Work w(ensemble_yaml());
    const std::string p0 = w.shard(0), p1 = w.shard(1), p2 = w.shard(2);
    const Work other_seed(ensemble_yaml(SEED + 1)), other_size(test::small_yaml(PATIENTS + 10, YEARS, SEED) + "replicates: 6\n");
    const std::string seed1 = other_seed.shard(1), size1 = other_size.shard(1);
    REQUIRE(w.run(w.path("whole.h5")) == EXIT_OK);
    const std::string halves = w.path("half-1.h5");
    REQUIRE(w.run(halves, "--shard 1/2") == EXIT_OK);
    // A shard's file cut short (a copy to shared storage interrupted).
    const std::string torn = w.path("torn.h5");
    fs::copy_file(p1, torn);
    fs::resize_file(torn, 4096);
    // A shard's file of another build, and one not marked complete.
    const std::string other_build = w.path("other-build.h5"), incomplete = w.path("incomplete.h5");
    copy_with_attribute(p1, other_build, "git_commit", "0123456789ab");
    copy_with_attribute(p1, incomplete, "complete", "", 0);
    // A part of an unfinished run, in its work directory.
    fs::create_directory(w.path("r.h5.partial-run"));
    const std::string unfinished = w.path("r.h5.partial-run/run-00000001-0000000000000000.h5");
    fs::copy_file(p1, unfinished);

    struct Refusal {
        const char* what;
        std::vector<std::string> parts;
        std::string message;
    };
    const std::vector<Refusal> refusals = {
        {"a missing shard", {p2, p0}, "shard 1 of 3 is missing"},
        {"two missing shards", {p2}, "shards 0, 1 of 3 are missing"},
        {"an overlapping shard", {p0, p1, p2, p1}, "are both shard 1/3 (overlapping shards)"},
        {"a shard of another seed", {p0, seed1, p2}, "are shards of different runs: their resolved scenarios differ ('seed: 11' against 'seed: 12')"},
        {"a shard of another scenario", {p0, size1, p2}, "are shards of different runs"},
        {"a shard of another N", {p0, halves, p2}, "the shards of a run are all K/N with the same N"},
        {"a whole result", {p0, w.path("whole.h5"), p2}, "is a whole result (written without --shard), not a shard's file"},
        {"a file cut short", {p0, torn, p2}, "torn.h5' is not an HDF5 file"},
        {"a shard of another build", {p0, other_build, p2}, "were written by different builds of therasim"},
        {"a shard not marked complete", {p0, incomplete, p2}, "incomplete.h5' is incomplete"},
        {"a part of an unfinished run", {p0, unfinished, p2}, "is a part of an unfinished run"},
        {"a file that is not there", {p0, w.path("nothing.h5"), p2}, "nothing.h5' is not a file"},
        {"the scenario", {p0, w.scenario, p2}, "s.yaml' is not an HDF5 file"},
    };
    for (const auto& r : refusals) {
        INFO(r.what);
        std::string log;
        CHECK(merge(w.path("merged.h5"), r.parts, &log) == EXIT_INVALID);
        CHECK_THAT(log, Catch::Contains(r.message));
        CHECK_FALSE(fs::exists(w.path("merged.h5")));
    }
    // The output: never an input, never an existing file without --overwrite, and -o required.
    std::string log;
    CHECK(merge(p0, {p0, p1, p2}, &log) == EXIT_INVALID);
    CHECK_THAT(log, Catch::Contains("is one of the inputs"));
    test::write_file(w.path("precious.h5"), "precious");
    CHECK(merge(w.path("precious.h5"), {p0, p1, p2}, &log) == EXIT_INVALID);
    CHECK_THAT(log, Catch::Contains("exists; pass --overwrite"));
    CHECK(test::read_file(w.path("precious.h5")) == "precious");
    CHECK(therasim("merge " + quote(p0) + " " + quote(p1) + " " + quote(p2), &log) == EXIT_INVALID);
    CHECK_THAT(log, Catch::Contains("no output file given"));
    CHECK(therasim("merge -o " + quote(w.path("precious.h5")) + " --overwrite " + quote(p2) + " " + quote(p0) + " " + quote(p1), &log) == EXIT_OK);
    CHECK(test::h5_difference(test::h5_contents(w.path("whole.h5"), MERGE_SKIPS), w.path("precious.h5"), MERGE_SKIPS) == "");
    for (const auto& e : test::entries(w.dir.dir())) CHECK(e.find(".partial-merge") == std::string::npos);
}

TEST_CASE("a shard's file is the same at 1 and 2 threads", "[shard][determinism]") {
    const Work w(ensemble_yaml());
    const std::string one = w.path("one.h5"), two = w.path("two.h5");
    REQUIRE(w.run(one, "--shard 1/3", 1) == EXIT_OK);
    REQUIRE(w.run(two, "--shard 1/3", 2) == EXIT_OK);
    const std::set<std::string> skips = {"start_time", "wall_time_s", "threads"};
    const auto want = test::h5_contents(one, skips);
    CHECK(want.count("/series/national/mean_qol") == 1);
    CHECK(test::h5_difference(want, two, skips) == "");
}

TEST_CASE("an interrupted shard resumes like any run, and only as the same shard", "[shard][resume]") {
    const Work w(ensemble_yaml());
    const std::string out = w.path("part-1.h5");
    // An interrupted shard 1/3: run 1 finished, run 4 not.
    {
        const sim::Scenario sc = sim::load_scenario(test::schema(), w.scenario);
        sim::ResultsWriter writer(out, test::schema(), sc, false, sim::Shard{1, 3});
        auto model = models::make_model();
        sim::RunOptions ro;
        ro.threads = 1;
        ro.replicate = 1;
        ro.run = 1;
        writer.write(*sim::run(*model, test::schema(), sc, ro));
    }
    REQUIRE(fs::exists(out + ".partial-run"));
    std::string log;
    CHECK(w.run(out, "--shard 2/3", 1, &log) == EXIT_INVALID);
    CHECK_THAT(log, Catch::Contains("holds an interrupted run of shard 1/3, not of shard 2/3"));
    CHECK(w.run(out, "", 1, &log) == EXIT_INVALID);
    CHECK_THAT(log, Catch::Contains("holds an interrupted run of shard 1/3, not of all the runs"));
    CHECK(therasim("run " + quote(w.scenario) + " -o " + quote(out) + " --threads 1 --shard 1/3", &log) == EXIT_OK);
    CHECK_THAT(log, Catch::Contains("resuming " + out + ".partial-run: 1 of 2 runs already done"));
    CHECK_FALSE(fs::exists(out + ".partial-run"));
    // The resumed shard merges into the single-process file.
    const std::string p0 = w.shard(0), p2 = w.shard(2);
    REQUIRE(w.run(w.path("whole.h5")) == EXIT_OK);
    REQUIRE(merge(w.path("merged.h5"), {out, p0, p2}, &log) == EXIT_OK);
    CHECK(test::h5_difference(test::h5_contents(w.path("whole.h5"), MERGE_SKIPS), w.path("merged.h5"), MERGE_SKIPS) == "");
}
