// HDF5 results: what write_results stores reads back exactly through ResultsFile, with units,
// labels and provenance; incomplete or foreign files are refused; check_output_path guards
// the output before a run starts.
#include "tests/support.hpp"

#include "sim/errors.hpp"
#include "sim/h5.hpp"
#include "sim/h5_detail.hpp"

#include <catch2/catch.hpp>
#include <hdf5.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr const char* RESULTS = "results.h5";
constexpr const char* COMPLETE = "complete";
constexpr const char* SCHEMA_VERSION = "schema_version";
constexpr const char* FORMAT = "format";
constexpr const char* FORMAT_NAME = "therasim results";
constexpr const char* PARTIAL = ".partial-";
constexpr const char* PATIENT = "patient";
constexpr const char* NATIONAL = "/series/national/";
constexpr const char* GROUPED = "/series/grouped/";
constexpr int SMALL_PATIENTS = 400;
constexpr std::uint32_t SMALL_SEED = 7;
constexpr int TRAJECTORIES = 10;  // output.trajectories in small_yaml()
constexpr double STEP_DAYS = 7.0;

// Provenance attributes, by type.
const std::vector<std::string> PROVENANCE_STRINGS = {"scenario_name", "scenario_description", "scenario_file", "scenario_chain",
                                                     "start_time", "therasim_version", "git_commit"};
const std::vector<std::string> PROVENANCE_INTS = {"seed", "replicates", "threads"};
const std::vector<std::string> PROVENANCE_REALS = {"wall_time_s"};

/// One small run, shared by the tests of this file.
const test::Run& small_run() {
    static const test::Run r = test::run(test::small_yaml(SMALL_PATIENTS, 1.0, SMALL_SEED));
    return r;
}

void write(const std::string& path, bool overwrite = false) {
    const test::Run& r = small_run();
    sim::write_results(path, test::schema(), *r.scenario, *r.results, *r.model, overwrite);
}

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

/// Opens an HDF5 file with the C API; closes it at scope exit.
class H5File {
public:
    H5File(const std::string& path, unsigned flags) : id_(H5Fopen(path.c_str(), flags, H5P_DEFAULT)) { REQUIRE(id_ >= 0); }
    ~H5File() { H5Fclose(id_); }
    H5File(const H5File&) = delete;
    H5File& operator=(const H5File&) = delete;
    operator hid_t() const { return id_; }

private:
    hid_t id_;
};

bool has_attr(hid_t file, const std::string& object, const std::string& attr) {
    return H5Aexists_by_name(file, object.c_str(), attr.c_str(), H5P_DEFAULT) > 0;
}

long long int_attr(hid_t file, const std::string& object, const std::string& attr) {
    const hid_t a = H5Aopen_by_name(file, object.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(a >= 0);
    long long v = 0;
    CHECK(H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0);
    H5Aclose(a);
    return v;
}

double real_attr(hid_t file, const std::string& object, const std::string& attr) {
    const hid_t a = H5Aopen_by_name(file, object.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(a >= 0);
    double v = 0;
    CHECK(H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
    H5Aclose(a);
    return v;
}

std::string string_attr(hid_t file, const std::string& object, const std::string& attr) {
    const hid_t a = H5Aopen_by_name(file, object.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(a >= 0);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    char* p = nullptr;
    CHECK(H5Aread(a, type, &p) >= 0);
    std::string s = p ? p : "";
    H5free_memory(p);
    H5Tclose(type);
    H5Aclose(a);
    return s;
}

void set_int_attr(hid_t file, const char* name, long long value) {
    const hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    REQUIRE(a >= 0);
    REQUIRE(H5Awrite(a, H5T_NATIVE_LLONG, &value) >= 0);
    H5Aclose(a);
}

/// The first element of a 1-D dataset of variable-length strings.
std::string first_string(hid_t file, const std::string& dataset) {
    const hid_t ds = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    const hid_t space = H5Dget_space(ds);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    REQUIRE(n >= 1);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    std::vector<char*> p(static_cast<std::size_t>(n), nullptr);
    REQUIRE(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) >= 0);
    std::string s = p[0] ? p[0] : "";
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, p.data());
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(ds);
    return s;
}

std::vector<hsize_t> shape(hid_t file, const std::string& dataset) {
    const hid_t ds = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    const hid_t space = H5Dget_space(ds);
    std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    H5Sclose(space);
    H5Dclose(ds);
    return dims;
}

/// The RunError ResultsFile throws for @p path; fails if it opens.
std::string refusal(const std::string& path) {
    try {
        sim::ResultsFile f(path);
    } catch (const sim::RunError& e) {
        return e.what();
    }
    FAIL("ResultsFile opened '" << path << "'");
    return "";
}

}  // namespace

TEST_CASE("national series read back bit for bit, one value per step", "[h5]") {
    test::TempDir dir;
    const std::string path = dir.path(RESULTS);
    write(path);
    const test::Run& r = small_run();
    const std::size_t n_steps = r.world().n_steps;
    REQUIRE(n_steps == 52);  // one year of weekly steps

    sim::ResultsFile f(path);
    std::set<std::string> declared, stored;
    for (const auto& s : test::schema().series()) declared.insert(s.name);
    for (const auto& n : f.national_series()) stored.insert(n);
    CHECK(stored == declared);

    std::size_t nonzero = 0;
    for (const auto& spec : test::schema().series()) {
        INFO("series " << spec.name);
        const sim::SeriesData d = f.national(spec.name);
        REQUIRE(d.values.size() == n_steps + 1);
        for (std::size_t t = 0; t <= n_steps; ++t) {
            REQUIRE(bits(d.values[t]) == bits(r.national(spec.name, t)));
            nonzero += d.values[t] != 0.0;
        }
    }
    CHECK(nonzero > 0);
    CHECK(f.national("patients").values.back() == SMALL_PATIENTS);

    const std::vector<double> days = f.days();
    REQUIRE(days.size() == n_steps + 1);
    for (std::size_t t = 0; t <= n_steps; ++t) CHECK(days[t] == static_cast<double>(t) * STEP_DAYS);
}

TEST_CASE("grouped series have one axis per dimension and sum to the national series", "[h5]") {
    test::TempDir dir;
    const std::string path = dir.path(RESULTS);
    write(path);
    const test::Run& r = small_run();
    const std::size_t n_steps = r.world().n_steps, n_groups = r.world().n_groups();
    H5File h(path, H5F_ACC_RDONLY);
    // One replicate x steps x arms (2) x regions of small_yaml (2) x severity bands (3).
    CHECK(shape(h, std::string(GROUPED) + "patients") == std::vector<hsize_t>{1, n_steps + 1, 2, 2, 3});
    CHECK(string_attr(h, "/dimensions", "order") == "arm,region,severity");
    CHECK(has_attr(h, "/dimensions/region", "label"));
    CHECK(!has_attr(h, "/series/grouped", "nothing"));

    sim::ResultsFile f(path);
    for (const auto& spec : test::schema().series()) {
        if (!spec.grouped || spec.stat != sim::Stat::sum) continue;
        INFO("series " << spec.name);
        const std::vector<double> grouped = f.read_numbers(std::string(GROUPED) + spec.name);
        const std::vector<double> national = f.national(spec.name).values;
        REQUIRE(grouped.size() == (n_steps + 1) * n_groups);
        for (std::size_t t = 0; t <= n_steps; ++t) {
            double total = 0.0;
            for (std::size_t g = 0; g < n_groups; ++g) total += grouped[t * n_groups + g];
            REQUIRE(bits(total) == bits(national[t]));
        }
    }
}

TEST_CASE("units, labels, kind and headline flags are stored as attributes", "[h5]") {
    test::TempDir dir;
    const std::string path = dir.path(RESULTS);
    write(path);
    sim::ResultsFile f(path);
    H5File h(path, H5F_ACC_RDONLY);
    for (const auto& spec : test::schema().series()) {
        INFO("series " << spec.name);
        const sim::SeriesData d = f.national(spec.name);
        CHECK(d.name == spec.name);
        CHECK(!d.unit.empty());
        CHECK(d.unit == spec.unit);
        CHECK(!d.label.empty());
        CHECK(d.label == spec.label);
        CHECK(d.flow == (spec.kind == sim::Kind::flow));
        CHECK(d.headline == spec.headline);
        const std::string nat = NATIONAL + spec.name;
        CHECK(string_attr(h, nat, "stat") == (spec.stat == sim::Stat::sum ? "sum" : "mean over " + spec.denominator));
        if (spec.grouped) {
            const std::string grp = GROUPED + spec.name;
            CHECK(string_attr(h, grp, "unit") == spec.unit);
            CHECK(string_attr(h, grp, "label") == spec.label);
            CHECK(string_attr(h, grp, "kind") == (spec.kind == sim::Kind::flow ? "flow" : "level"));
        }
    }
    CHECK(string_attr(h, "/time/day", "unit") == "days");
    // Agent columns carry their declared unit and label.
    const auto& patient = test::schema().agent_spec(PATIENT);
    std::size_t checked = 0;
    for (const auto& a : patient.attributes) {
        if (a.output == sim::Output::none) continue;
        INFO("attribute " << a.name);
        const std::string ds = std::string("/agents/") + PATIENT + "/final/" + a.name;
        CHECK(f.read_numbers(ds).size() == SMALL_PATIENTS);
        if (!a.unit.empty()) CHECK(string_attr(h, ds, "unit") == a.unit);
        if (!a.label.empty()) CHECK(string_attr(h, ds, "label") == a.label);
        if (a.output == sim::Output::baseline_and_final)
            CHECK(f.read_numbers(std::string("/agents/") + PATIENT + "/baseline/" + a.name).size() == SMALL_PATIENTS);
        ++checked;
    }
    CHECK(checked > 0);
    CHECK(int_attr(h, std::string("/agents/") + PATIENT, "count") == SMALL_PATIENTS);
    CHECK(f.read_numbers("/trajectories/row").size() == TRAJECTORIES);
}

TEST_CASE("the provenance attributes and the resolved scenario are stored", "[h5][provenance]") {
    test::TempDir dir;
    const std::string path = dir.path(RESULTS);
    write(path);
    const test::Run& r = small_run();
    sim::ResultsFile f(path);
    H5File h(path, H5F_ACC_RDONLY);
    for (const auto& a : PROVENANCE_STRINGS) {
        INFO("attribute " << a);
        CHECK(has_attr(h, "/provenance", a));
        CHECK_NOTHROW(f.provenance(a));
    }
    for (const auto& a : PROVENANCE_INTS) CHECK(has_attr(h, "/provenance", a));
    for (const auto& a : PROVENANCE_REALS) CHECK(has_attr(h, "/provenance", a));

    CHECK(f.provenance("scenario_name") == r.scenario->name);
    CHECK(f.provenance("scenario_file") == r.scenario->path);
    CHECK(f.provenance("scenario_chain") == r.scenario->chain.front());
    CHECK(!f.provenance("therasim_version").empty());
    CHECK(!f.provenance("git_commit").empty());
    const std::string start = f.provenance("start_time");  // ISO 8601 UTC: 2026-01-01T00:00:00Z
    CHECK(start.size() == 20);
    CHECK(start[4] == '-');
    CHECK(start[10] == 'T');
    CHECK(start.back() == 'Z');
    CHECK(int_attr(h, "/provenance", "seed") == SMALL_SEED);
    CHECK(int_attr(h, "/provenance", "threads") == 1);
    CHECK(int_attr(h, "/provenance", "replicates") == 1);
    CHECK(int_attr(h, "/agents", "replicate") == 0);
    CHECK(real_attr(h, "/provenance", "wall_time_s") >= 0.0);

    // The file as a whole.
    CHECK(string_attr(h, "/", FORMAT) == FORMAT_NAME);
    CHECK(int_attr(h, "/", SCHEMA_VERSION) == sim::OUTPUT_SCHEMA_VERSION);
    CHECK(int_attr(h, "/", COMPLETE) == 1);

    // The stored scenario is the resolved one and loads back to the same parameters.
    const std::string yaml = first_string(h, "/provenance/scenario_yaml");
    CHECK(yaml == r.scenario->resolved_yaml(test::schema()));
    const sim::Scenario back = sim::load_scenario_text(test::schema(), yaml, "stored.yaml");
    for (const auto& [key, v] : r.scenario->params.all()) {
        INFO(key);
        CHECK(bits(back.params.get(key).num) == bits(v.num));
        CHECK(back.params.get(key).str == v.str);
    }

    CHECK_THROWS_WITH(f.provenance("no_such_attribute"), Catch::Contains("missing attribute no_such_attribute"));
    CHECK_THROWS_WITH(f.read_numbers("/no/such/dataset"), Catch::Contains("has no dataset /no/such/dataset"));
    CHECK_THROWS_AS(f.national("no_such_series"), sim::RunError);
}

TEST_CASE("a file without its complete attribute is refused as incomplete", "[h5][refuse]") {
    test::TempDir dir;
    const std::string path = dir.path(RESULTS);
    write(path);
    REQUIRE_NOTHROW(sim::ResultsFile(path));

    SECTION("attribute deleted") {
        {
            H5File h(path, H5F_ACC_RDWR);
            REQUIRE(H5Adelete(h, COMPLETE) >= 0);
        }
        const std::string why = refusal(path);
        CHECK_THAT(why, Catch::Contains("'" + path + "' is incomplete (the run that wrote it did not finish)"));
    }
    SECTION("attribute 0") {
        {
            H5File h(path, H5F_ACC_RDWR);
            set_int_attr(h, COMPLETE, 0);
        }
        CHECK_THAT(refusal(path), Catch::Contains("is incomplete"));
    }
}

TEST_CASE("files that are not therasim results of this version are refused", "[h5][refuse]") {
    test::TempDir dir;
    const std::string path = dir.path(RESULTS);
    write(path);

    SECTION("another schema version") {
        {
            H5File h(path, H5F_ACC_RDWR);
            set_int_attr(h, SCHEMA_VERSION, 99);
        }
        CHECK_THAT(refusal(path), Catch::Contains("has output schema version 99; this therasim reads version " + std::to_string(sim::OUTPUT_SCHEMA_VERSION)));
    }
    SECTION("no format attribute") {
        {
            H5File h(path, H5F_ACC_RDWR);
            REQUIRE(H5Adelete(h, FORMAT) >= 0);
        }
        CHECK_THAT(refusal(path), Catch::Contains("is not a therasim results file"));
    }
    SECTION("a text file") {
        const std::string text = dir.path("notes.h5");
        std::ofstream(text) << "not hdf5\n";
        CHECK_THAT(refusal(text), Catch::Contains("'" + text + "' is not an HDF5 file"));
    }
    SECTION("a missing file and a directory") {
        CHECK_THAT(refusal(dir.path("missing.h5")), Catch::Contains("is not a file"));
        CHECK_THAT(refusal(dir.dir()), Catch::Contains("is not a file"));
    }
}

/// Writes @p values as a compressed 1-d dataset @p name of agents' values (noise planes stored,
/// PendingDataset::agent_values) of a new file in @p dir, reads it back through HDF5 (whose
/// deflate filter checks the stream's Adler-32) and returns the bytes it stores.
template <class T>
hsize_t write_and_read_back(const test::TempDir& dir, const std::string& name, hid_t type, const std::vector<T>& values) {
    const std::string path = dir.path(name + ".h5");
    {
        const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        REQUIRE(f >= 0);
        sim::h5::datasets({sim::h5::PendingDataset{f, name, type, values.data(), {values.size()}, 1, "", "", true}});
        H5Fclose(f);
    }
    H5File f(path, H5F_ACC_RDONLY);
    const hid_t ds = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    std::vector<T> back(values.size());
    CHECK(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()) >= 0);
    const hsize_t stored = H5Dget_storage_size(ds);
    H5Dclose(ds);
    CHECK(std::memcmp(back.data(), values.data(), values.size() * sizeof(T)) == 0);
    return stored;
}

TEST_CASE("chunks whose leading byte planes are noise store them as they are and read back exactly", "[h5][storage]") {
    test::TempDir dir;
    std::mt19937 gen(11);
    const std::size_t whole = 3 * 65536;  // three whole chunks of 65,536 values
    const std::size_t n = 150000;         // two whole chunks and one padded with zeros (not noise)
    SECTION("random words: every plane stored, 5 bytes in 65,535 and a zlib frame more than the raw chunks") {
        std::vector<std::uint32_t> v(whole);
        for (auto& x : v) x = static_cast<std::uint32_t>(gen());
        const hsize_t raw = 3 * 65536 * sizeof(std::uint32_t);
        const hsize_t stored = write_and_read_back(dir, "words", H5T_NATIVE_UINT32, v);
        CHECK(stored >= raw);
        CHECK(stored <= raw + 3 * (5 * 5 + 6));
    }
    SECTION("random bytes (no shuffle): the whole chunk stored") {
        std::vector<std::uint8_t> v(whole);
        for (auto& x : v) x = static_cast<std::uint8_t>(gen());
        CHECK(write_and_read_back(dir, "bytes", H5T_NATIVE_UINT8, v) <= 3 * (65536 + 2 * 5 + 6));
    }
    SECTION("floats of the state's kind: the noise of their low bytes stored, their high bytes deflated") {
        std::uniform_real_distribution<float> rating(1.0f, 7.0f);
        std::vector<float> v(n);
        for (auto& x : v) x = rating(gen);
        const hsize_t stored = write_and_read_back(dir, "ratings", H5T_NATIVE_FLOAT, v);
        // The low two planes (2 x 65,536 bytes) of the two whole chunks at their size; the top two shrink.
        CHECK(stored > 2 * 2 * 65536);
        CHECK(stored < 3 * 3 * 65536);
    }
    SECTION("values with structure: deflated whole, far below their size") {
        std::vector<std::int32_t> v(n);
        for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int32_t>(i / 37);  // patients of a post, in order
        CHECK(write_and_read_back(dir, "posts", H5T_NATIVE_INT32, v) < n * sizeof(std::int32_t) / 20);
    }
}

TEST_CASE("write_results leaves only the finished file behind", "[h5]") {
    test::TempDir dir;
    write(dir.path(RESULTS));
    CHECK(test::entries(dir.dir()) == std::vector<std::string>{RESULTS});
    // Writing again refuses to replace it, and keeps the finished run for a rerun to resume.
    const std::string before = test::read_file(dir.path(RESULTS));
    CHECK_THROWS_WITH(write(dir.path(RESULTS)), Catch::Contains("was created by something else"));
    CHECK(test::read_file(dir.path(RESULTS)) == before);
    CHECK(test::entries(dir.dir()) == std::vector<std::string>{RESULTS, std::string(RESULTS) + ".partial-run"});
    // With overwrite the rerun resumes the kept run and replaces the file.
    write(dir.path(RESULTS), true);
    CHECK(test::entries(dir.dir()) == std::vector<std::string>{RESULTS});
    CHECK_NOTHROW(sim::ResultsFile(dir.path(RESULTS)));
}

TEST_CASE("write_results into a missing directory fails with RunError and leaves nothing", "[h5]") {
    test::TempDir dir;
    const std::string path = dir.path("missing/" + std::string(RESULTS));
    try {
        write(path);
        FAIL("write_results succeeded");
    } catch (const sim::RunError& e) {
        CHECK_THAT(e.what(), Catch::Contains("cannot create '" + path + PARTIAL));
        CHECK_THAT(e.what(), Catch::Contains("No such file or directory"));
    }
    CHECK(test::entries(dir.dir()).empty());
}

TEST_CASE("check_output_path refuses what a run could not write", "[h5][output_path]") {
    test::TempDir dir;
    const std::string existing = dir.path("existing.h5");
    std::ofstream(existing) << "precious";

    SECTION("an existing file without overwrite") {
        CHECK_THROWS_AS(sim::check_output_path(existing, false), sim::UsageError);
        CHECK_THROWS_WITH(sim::check_output_path(existing, false),
                          Catch::Contains("output file '" + existing + "' exists; pass --overwrite to replace it"));
        CHECK_NOTHROW(sim::check_output_path(existing, true));
    }
    SECTION("a missing directory") {
        const std::string missing = dir.path("no/such/dir/out.h5");
        CHECK_THROWS_AS(sim::check_output_path(missing, false), sim::UsageError);
        CHECK_THROWS_WITH(sim::check_output_path(missing, true),
                          Catch::Contains("output directory '" + dir.path("no/such/dir") + "' does not exist"));
    }
    SECTION("a directory") {
        CHECK_THROWS_WITH(sim::check_output_path(dir.dir(), false), Catch::Contains("is a directory; give a file name"));
        CHECK_THROWS_WITH(sim::check_output_path(dir.dir(), true), Catch::Contains("is a directory"));
    }
    SECTION("no path") {
        CHECK_THROWS_WITH(sim::check_output_path("", false), Catch::Contains("no output file given (-o FILE)"));
    }
    SECTION("a new file in an existing directory") {
        CHECK_NOTHROW(sim::check_output_path(dir.path("new.h5"), false));
    }
    // Nothing was touched.
    std::ifstream in(existing);
    std::string content;
    in >> content;
    CHECK(content == "precious");
}
