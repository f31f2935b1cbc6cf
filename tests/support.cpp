#include "support.hpp"

#include <hdf5.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <sys/wait.h>

namespace test {

std::string source_path(const std::string& relative) { return std::string(THERASIM_SOURCE_DIR) + "/" + relative; }
std::string therasim_binary() { return THERASIM_BINARY; }

const sim::Schema& schema() {
    static const sim::Schema s = [] {
        auto m = models::make_model();
        return sim::make_schema(*m);
    }();
    return s;
}

sim::Scenario scenario(const std::string& yaml, const std::vector<std::string>& overrides) {
    return sim::load_scenario_text(schema(), yaml, "test.yaml", overrides, source_path("scenarios"));
}

std::string small_yaml(int n_patients, double years, std::uint32_t seed) {
    return "seed: " + std::to_string(seed) + "\n" +
           "time: {years: " + std::to_string(years) + ", burn_in_weeks: 0}\n"
           "population: {n_patients: " + std::to_string(n_patients) + "}\n"
           "structure:\n"
           "  team_size: 5\n"
           "  regions:\n"
           "    - {name: North, share: 0.5, n_trusts: 2}\n"
           "    - {name: South, share: 0.5, n_trusts: 2}\n"
           "output: {trajectories: 10}\n"
           // Rule-level tests set STAR-P and read behaviour: the felt relationship is then STAR-P.
           "relationship: {perception_weight: 1}\n";
}

double Run::national(const std::string& name, std::size_t step) const {
    const auto& w = world();
    return w.series.value(w.schema, step, static_cast<std::size_t>(w.series_id(name)), sim::SeriesStore::ALL);
}

namespace {
Run prepare(const std::string& yaml, const std::vector<std::string>& overrides) {
    Run r;
    r.scenario = std::make_unique<sim::Scenario>(scenario(yaml, overrides));
    r.model = std::make_unique<models::TherasimModel>();
    sim::preflight(*r.model, *r.scenario);
    return r;
}
}  // namespace

Run run(const std::string& yaml, const std::vector<std::string>& overrides, unsigned threads, bool check_invariants) {
    Run r = prepare(yaml, overrides);
    sim::RunOptions opt;
    opt.threads = threads;
    opt.check_invariants = check_invariants;
    r.results = sim::run(*r.model, schema(), *r.scenario, opt);
    return r;
}

Run one_step(const std::string& yaml, const std::vector<std::string>& overrides) {
    std::vector<std::string> o = overrides;
    o.push_back("time.years=0.0192");  // one weekly step
    return run(yaml, o, 1);
}

std::vector<double> baseline(const Run& r, const std::string& agent, const std::string& name) {
    const std::size_t col = r.world().agents(agent).index_of(name);
    for (const auto& snap : r.results->baseline) {
        if (snap.agent != agent) continue;
        for (std::size_t k = 0; k < snap.columns.size(); ++k)
            if (snap.columns[k] == col)
                return std::visit([](const auto& v) { return std::vector<double>(v.begin(), v.end()); }, snap.data[k]);
    }
    throw std::logic_error("no baseline column " + agent + "." + name);
}

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "therasim-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
}
TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

int shell(const std::string& command, std::string* out) {
    std::string cmd = command + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return -1;
    std::array<char, 4096> buf{};
    std::string text;
    std::size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
    const int status = pclose(p);
    if (out) *out = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    if (!f.good()) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> v;
    for (const auto& e : std::filesystem::directory_iterator(dir)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
}

namespace {

/// The bytes of an attribute or dataset's values; variable-length strings as their text.
std::string value_bytes(hid_t obj, bool attribute) {
    const hid_t type = attribute ? H5Aget_type(obj) : H5Dget_type(obj);
    const hid_t space = attribute ? H5Aget_space(obj) : H5Dget_space(obj);
    const auto n = static_cast<std::size_t>(std::max<hssize_t>(0, H5Sget_simple_extent_npoints(space)));
    std::string out;
    if (H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0) {
        std::vector<char*> p(n, nullptr);
        if (n > 0) (void)(attribute ? H5Aread(obj, type, p.data()) : H5Dread(obj, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()));
        for (char* c : p) out += std::string(c ? c : "") + '\0';
        if (n > 0) H5Dvlen_reclaim(type, space, H5P_DEFAULT, p.data());
    } else {
        const hid_t native = H5Tget_native_type(type, H5T_DIR_ASCEND);
        std::string buf(n * H5Tget_size(native), '\0');
        if (n > 0) (void)(attribute ? H5Aread(obj, native, buf.data()) : H5Dread(obj, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()));
        out = buf;
        H5Tclose(native);
    }
    H5Sclose(space);
    H5Tclose(type);
    return out;
}

}  // namespace

std::map<std::string, std::string> h5_contents(const std::string& path, const std::set<std::string>& skip_attributes,
                                               const std::set<std::string>& skip_datasets) {
    std::map<std::string, std::string> m;
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return {{"<error>", "cannot open " + path}};
    std::vector<std::string> objects = {"/"};
    H5Lvisit(
        f, H5_INDEX_NAME, H5_ITER_INC,
        [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
            static_cast<std::vector<std::string>*>(data)->push_back(std::string("/") + name);
            return 0;
        },
        &objects);
    for (const auto& name : objects) {
        const hid_t o = H5Oopen(f, name.c_str(), H5P_DEFAULT);
        if (H5Iget_type(o) == H5I_DATASET && !skip_datasets.count(name)) m[name] = value_bytes(o, false);
        else m[name] = "<group>";
        const int n_attrs = H5Aget_num_attrs(o);
        for (int i = 0; i < n_attrs; ++i) {
            const hid_t a = H5Aopen_idx(o, static_cast<unsigned>(i));
            char attr_name[256] = {};
            H5Aget_name(a, sizeof attr_name, attr_name);
            if (!skip_attributes.count(attr_name)) m[name + "@" + attr_name] = value_bytes(a, true);
            H5Aclose(a);
        }
        H5Oclose(o);
    }
    H5Fclose(f);
    return m;
}

std::string h5_difference(const std::map<std::string, std::string>& want, const std::string& path,
                          const std::set<std::string>& skip_attributes, const std::set<std::string>& skip_datasets) {
    const auto got = h5_contents(path, skip_attributes, skip_datasets);
    for (const auto& [k, v] : want) {
        const auto it = got.find(k);
        if (it == got.end()) return k + " is missing";
        if (it->second != v) return k + " differs";
    }
    for (const auto& [k, v] : got)
        if (!want.count(k)) return k + " is extra";
    return "";
}

}  // namespace test
