// Exclusive outputs and readers that check before they read, through the therasim binary: an
// output that is one of the command's inputs or not a regular file is refused (with or without
// --overwrite), the report never replaces an existing file without --overwrite, and results
// files damaged in the ways a reader could trip over (an array-valued attribute, zero
// replicates, an empty time axis, series of the wrong length) are refused with exit 1 and the
// file's name, never read past their ends.
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <hdf5.h>

#include <filesystem>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr int EXIT_OK = 0;
constexpr int EXIT_RUN_FAILED = 1;
constexpr int EXIT_INVALID = 2;

const std::vector<std::string> CRASH_SIGNS = {"terminate", "Segmentation", "Traceback", "Aborted", "core dumped", "Sanitizer",
                                              "runtime error"};

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}
std::string bin() { return quote(test::therasim_binary()); }

void check_no_crash(const std::string& out) {
    for (const auto& sign : CRASH_SIGNS) CHECK_THAT(out, !Catch::Contains(sign));
}

/// A directory with the small scenario and its results file.
struct Workspace {
    test::TempDir dir;
    std::string scenario = dir.path("small.yaml");
    std::string results = dir.path("small.h5");
    Workspace() {
        test::write_file(scenario, test::small_yaml(150, 0.25, 3));
        REQUIRE(test::shell(bin() + " run " + quote(scenario) + " -o " + quote(results) + " --quiet") == EXIT_OK);
    }
};

/// Copies @p from to @p to and applies @p damage to the copy (opened read-write).
void damaged_copy(const std::string& from, const std::string& to, const std::function<void(hid_t)>& damage) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    const hid_t f = H5Fopen(to.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(f >= 0);
    damage(f);
    H5Fclose(f);
}

void replace_attribute_with_array(hid_t obj, const char* name) {
    H5Adelete(obj, name);
    const hsize_t n = 3;
    const long long v[3] = {2, 2, 2};
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t a = H5Acreate2(obj, name, H5T_NATIVE_LLONG, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_LLONG, v);
    H5Aclose(a);
    H5Sclose(space);
}

void set_int_attribute(hid_t obj, const char* name, long long value) {
    const hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_LLONG, &value);
    H5Aclose(a);
}

void replace_dataset(hid_t f, const char* name, const std::vector<hsize_t>& dims) {
    H5Ldelete(f, name, H5P_DEFAULT);
    hsize_t n = 1;
    for (auto d : dims) n *= d;
    const std::vector<double> zeros(n, 0.0);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t ds = H5Dcreate2(f, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (n > 0) H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data());
    H5Dclose(ds);
    H5Sclose(space);
}

}  // namespace

TEST_CASE("run refuses an output that is its scenario, or not a regular file, with or without --overwrite", "[outputs]") {
    Workspace w;
    const std::string before = test::read_file(w.scenario);
    for (const std::string extra : {"", " --overwrite"}) {
        INFO(extra);
        std::string out;
        CHECK(test::shell(bin() + " run " + quote(w.scenario) + " -o " + quote(w.scenario) + extra, &out) == EXIT_INVALID);
        CHECK_THAT(out, Catch::Contains("is one of the inputs"));
        CHECK(test::read_file(w.scenario) == before);
        CHECK(test::shell(bin() + " run " + quote(w.scenario) + " -o /dev/null" + extra, &out) == EXIT_INVALID);
        CHECK_THAT(out, Catch::Contains("is not a regular file"));
        struct stat st {};
        REQUIRE(stat("/dev/null", &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
    }
    CHECK_FALSE(fs::exists(w.scenario + ".partial-run"));
}

TEST_CASE("report refuses its input as output and an existing file without --overwrite", "[outputs][report]") {
    Workspace w;
    const std::string results = test::read_file(w.results);
    std::string out;
    for (const std::string extra : {"", " --overwrite"}) {
        INFO(extra);
        CHECK(test::shell(bin() + " report " + quote(w.results) + " -o " + quote(w.results) + extra, &out) == EXIT_INVALID);
        CHECK_THAT(out, Catch::Contains("is one of the inputs"));
        check_no_crash(out);
        CHECK(test::read_file(w.results) == results);
    }
    const std::string html = w.dir.path("r.html");
    test::write_file(html, "precious");
    CHECK(test::shell(bin() + " report " + quote(w.results) + " -o " + quote(html), &out) == EXIT_INVALID);
    CHECK_THAT(out, Catch::Contains("exists; pass --overwrite"));
    CHECK(test::read_file(html) == "precious");
    CHECK(test::shell(bin() + " report " + quote(w.results) + " -o " + quote(html) + " --overwrite", &out) == EXIT_OK);
    CHECK_THAT(test::read_file(html), Catch::StartsWith("<!DOCTYPE html>"));
    // Nothing but the inputs and the report is left in the directory.
    CHECK(test::entries(w.dir.dir()) == std::vector<std::string>{"r.html", "small.h5", "small.yaml"});
}

TEST_CASE("readers refuse damaged results files with exit 1 and the file's name", "[outputs][readers]") {
    Workspace w;
    struct Damage {
        const char* what;
        std::function<void(hid_t)> apply;
        const char* message;
    };
    const std::vector<Damage> damages = {
        {"an array-valued replicates attribute", [](hid_t f) { replace_attribute_with_array(f, "replicates"); },
         "is not a single value"},
        {"zero replicates", [](hid_t f) { set_int_attribute(f, "replicates", 0); }, "expected at least 1"},
        {"more replicates than rows", [](hid_t f) { set_int_attribute(f, "replicates", 5); }, "has shape"},
        {"an empty time axis", [](hid_t f) { replace_dataset(f, "/time/day", {0}); }, "/time/day"},
        {"a series shorter than the time axis", [](hid_t f) { replace_dataset(f, "/series/national/engaged", {1, 3}); },
         "/series/national/engaged has shape (1, 3)"},
        {"a summary of the wrong shape", [](hid_t f) { replace_dataset(f, "/summary/national/engaged", {2}); },
         "/summary/national/engaged has shape (2,)"},
    };
    for (const auto& d : damages) {
        INFO(d.what);
        const std::string bad = w.dir.path("bad.h5");
        damaged_copy(w.results, bad, d.apply);
        std::string out;
        CHECK(test::shell(bin() + " compare " + quote(bad), &out) == EXIT_RUN_FAILED);
        CHECK_THAT(out, Catch::Contains("'" + bad + "'"));
        CHECK_THAT(out, Catch::Contains(d.message));
        check_no_crash(out);
        CHECK(test::shell(bin() + " compare " + quote(w.results) + " " + quote(bad), &out) == EXIT_RUN_FAILED);
        check_no_crash(out);
        // The analysis package refuses it too, with a message rather than a traceback.
        CHECK(test::shell(bin() + " report " + quote(bad) + " -o " + quote(w.dir.path("bad.html")), &out) == EXIT_INVALID);
        CHECK_THAT(out, Catch::Contains(bad));
        check_no_crash(out);
        CHECK_FALSE(fs::exists(w.dir.path("bad.html")));
    }
}

TEST_CASE("a write error on standard output fails the command", "[outputs]") {
    std::string out;
    for (const std::string& cmd : std::vector<std::string>{"params", "--version", "validate " + quote(test::source_path("scenarios/teaching_small.yaml"))}) {
        INFO(cmd);
        CHECK(test::shell("{ " + bin() + " " + cmd + " > /dev/full; }", &out) == EXIT_RUN_FAILED);
        CHECK_THAT(out, Catch::Contains("cannot write to standard output"));
    }
}

TEST_CASE("report imports nothing from the working directory", "[outputs][report]") {
    // A module in the directory the report is run from, named like one the analysis package
    // imports, must not shadow it (python3 -P -s).
    Workspace w;
    const std::string cwd = w.dir.path("cwd");
    std::filesystem::create_directory(cwd);
    for (const char* shadow : {"h5py.py", "numpy.py", "therasim_analysis.py"})
        test::write_file(cwd + "/" + shadow, "raise SystemExit('imported from the working directory')\n");
    std::string out;
    CHECK(test::shell("cd " + quote(cwd) + " && " + bin() + " report " + quote(w.results) + " -o r.html", &out) == EXIT_OK);
    INFO(out);
    CHECK_THAT(out, !Catch::Contains("imported from the working directory"));
    CHECK(fs::exists(cwd + "/r.html"));
}
