// The corpus of malformed scenarios in tests/bad_inputs/: each file's first line is
// "# expect: <part of the error message>". `therasim validate` must refuse every one with exit
// code 2, that message and the file's name, and never crash; `therasim run` must refuse it too
// and write nothing.
#include "tests/support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr const char* CORPUS_DIR = "tests/bad_inputs";
constexpr const char* CORPUS_EXTENSION = ".yaml";  // helpers (bases/*.yml) are not cases themselves
constexpr const char* EXPECT_PREFIX = "# expect: ";
constexpr std::size_t MIN_CASES = 30;
constexpr int EXIT_INVALID = 2;
constexpr const char* OUTPUT = "out.h5";
constexpr const char* PARTIAL = ".partial-";
// Signs of a crash or an unexpected exception rather than a clean refusal.
const std::vector<std::string> CRASH_SIGNS = {"terminate", "Segmentation", "internal error", "Aborted", "core dumped",
                                              "out of memory"};

struct Case {
    std::string path;    // absolute path
    std::string name;    // file name
    std::string expect;  // substring of the error message
};

std::string quote(const std::string& s) { return "'" + s + "'"; }

std::vector<Case> corpus() {
    std::vector<Case> cases;
    for (const auto& e : fs::directory_iterator(test::source_path(CORPUS_DIR))) {
        if (!e.is_regular_file() || e.path().extension() != CORPUS_EXTENSION) continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::string first;
        std::getline(in, first);
        if (!first.empty() && first.back() == '\r') first.pop_back();
        Case c{e.path().string(), e.path().filename().string(), ""};
        if (first.rfind(EXPECT_PREFIX, 0) == 0) c.expect = first.substr(std::string(EXPECT_PREFIX).size());
        cases.push_back(std::move(c));
    }
    std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
    return cases;
}

void check_no_crash(const std::string& out) {
    for (const auto& sign : CRASH_SIGNS) CHECK_THAT(out, !Catch::Contains(sign));
}

}  // namespace

TEST_CASE("the bad-input corpus is large enough and every file states its expected error", "[bad_inputs]") {
    const auto cases = corpus();
    CHECK(cases.size() >= MIN_CASES);
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(!c.expect.empty());
    }
}

TEST_CASE("validate refuses every bad input with exit 2, the expected message and the file name", "[bad_inputs][cli]") {
    const auto cases = corpus();
    REQUIRE(!cases.empty());
    for (const auto& c : cases) {
        INFO(c.name << ": expecting '" << c.expect << "'");
        std::string out;
        const int rc = test::shell(quote(test::therasim_binary()) + " validate " + quote(c.path), &out);
        INFO("output: " << out);
        CHECK(rc == EXIT_INVALID);
        CHECK_THAT(out, Catch::Contains(c.expect));
        CHECK_THAT(out, Catch::Contains(c.name));
        CHECK_THAT(out, Catch::StartsWith("therasim: error: "));
        check_no_crash(out);
    }
}

TEST_CASE("run refuses every bad input with exit 2 and writes no output", "[bad_inputs][cli]") {
    const auto cases = corpus();
    REQUIRE(!cases.empty());
    for (const auto& c : cases) {
        INFO(c.name);
        test::TempDir dir;
        const std::string output = dir.path(OUTPUT);
        std::string out;
        const int rc =
            test::shell(quote(test::therasim_binary()) + " run " + quote(c.path) + " -o " + quote(output) + " --quiet", &out);
        INFO("output: " << out);
        CHECK(rc == EXIT_INVALID);
        CHECK_THAT(out, Catch::Contains(c.expect));
        check_no_crash(out);
        CHECK_FALSE(fs::exists(output));
        for (const auto& e : fs::directory_iterator(dir.dir()))
            CHECK(e.path().filename().string().find(PARTIAL) == std::string::npos);
    }
}

TEST_CASE("a scenario path that is an endless stream is refused without reading it all", "[bad_inputs][cli]") {
    // /dev/zero would be read until memory runs out, and a FIFO with no writer blocks the open
    // for ever; both are refused as not regular files, without opening them. The address space
    // and the time are limited so that a regression cannot take the machine's memory or hang.
    constexpr int ADDRESS_SPACE_KIB = 2000000;
    constexpr int TIMEOUT_S = 60;
    test::TempDir dir;
    const std::string fifo = dir.path("fifo.yaml");
    REQUIRE(test::shell("mkfifo " + quote(fifo)) == 0);
    for (const std::string& endless : {std::string("/dev/zero"), fifo}) {
        INFO(endless);
        std::string out;
        const int rc = test::shell("ulimit -v " + std::to_string(ADDRESS_SPACE_KIB) + "; timeout " + std::to_string(TIMEOUT_S) + " " +
                                       quote(test::therasim_binary()) + " validate " + quote(endless),
                                   &out);
        CHECK(rc == EXIT_INVALID);
        CHECK_THAT(out, Catch::Contains("'" + endless + "' is not a regular file"));
        check_no_crash(out);
    }
}
