#include "support.hpp"

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

}  // namespace test
