#pragma once
// Helpers for tests: the therasim schema, scenarios from YAML text, and in-process runs.

#include "models/context.hpp"
#include "models/therasim_model.hpp"
#include "sim/h5.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace test {

/// Path of a file in the source tree ("scenarios/teaching_small.yaml").
std::string source_path(const std::string& relative);
/// Path of the therasim executable built with the tests.
std::string therasim_binary();

/// The schema of the therasim model (engine and model parameters).
const sim::Schema& schema();

/// Loads a scenario from YAML text, with optional --set overrides.
sim::Scenario scenario(const std::string& yaml, const std::vector<std::string>& overrides = {});

/// A small population for fast tests: one region, a few hundred patients, 1 year.
/// No burn-in, and behaviour follows STAR-P (relationship.perception_weight 1), so that a test
/// can set the state at step 0 and a rule's inputs directly; tests of those two features override them.
std::string small_yaml(int n_patients = 400, double years = 1.0, std::uint32_t seed = 7);

/// A finished in-process run; keeps the schema, scenario and model alive with the results.
struct Run {
    std::unique_ptr<sim::Scenario> scenario;
    std::unique_ptr<models::TherasimModel> model;
    std::unique_ptr<sim::Results> results;
    [[nodiscard]] sim::World& world() const { return *results->world; }
    [[nodiscard]] models::Ctx& ctx() const { return model->context(); }
    /// National value of series @p name at @p step.
    [[nodiscard]] double national(const std::string& name, std::size_t step) const;
};

/// Runs @p yaml (with @p overrides) in process on @p threads threads, checking every attribute's
/// range after every step unless @p check_invariants is false (large statistical runs, where the
/// check takes about a third of the time and other tests cover it).
Run run(const std::string& yaml, const std::vector<std::string>& overrides = {}, unsigned threads = 1, bool check_invariants = true);

/// Runs @p yaml for a single weekly step, for rule-level tests that then set agent state and
/// call a rule directly (set World::step first).
Run one_step(const std::string& yaml, const std::vector<std::string>& overrides = {});

/// Calls @p f with every sweep block of @p n rows (as the engine splits them), for tests that
/// call a rule directly.
template <class F> void for_blocks(std::size_t n, F&& f) {
    for (std::size_t b = 0, begin = 0; begin < n; ++b, begin += sim::BLOCK_SIZE)
        f(sim::Block{b, begin, std::min(n, begin + sim::BLOCK_SIZE)});
}

/// Values of column @p name of @p agent in a run's baseline snapshot (step 0).
/// @throws std::logic_error if the attribute is not in the snapshot
std::vector<double> baseline(const Run& r, const std::string& agent, const std::string& name);

/// A unique temporary directory, removed when the object is destroyed.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] std::string path(const std::string& name) const { return dir_ + "/" + name; }
    [[nodiscard]] const std::string& dir() const { return dir_; }

private:
    std::string dir_;
};

/// Runs a shell command; returns its exit code and fills @p out with stdout+stderr.
int shell(const std::string& command, std::string* out = nullptr);

/// Writes @p text to @p path (binary). @throws std::runtime_error if it cannot
void write_file(const std::string& path, const std::string& text);
/// @return the bytes of @p path ("" if it cannot be read).
std::string read_file(const std::string& path);
/// @return the names of the entries of directory @p dir, sorted.
std::vector<std::string> entries(const std::string& dir);

/// What differs between any two runs of the same command (when and how long), not compared.
inline const std::set<std::string> VOLATILE_ATTRIBUTES = {"start_time", "wall_time_s"};
inline const std::set<std::string> VOLATILE_DATASETS = {"/replicates/wall_time_s"};

/// Every object, attribute and dataset of an HDF5 file as name -> the bytes of its values
/// ("/g/d" for a group or dataset, "/g/d@a" for an attribute; variable-length strings as text),
/// without the attributes named in @p skip_attributes and the datasets in @p skip_datasets.
std::map<std::string, std::string> h5_contents(const std::string& path, const std::set<std::string>& skip_attributes = VOLATILE_ATTRIBUTES,
                                               const std::set<std::string>& skip_datasets = VOLATILE_DATASETS);
/// "" if @p path holds @p want (h5_contents with the same skips), else the first difference.
std::string h5_difference(const std::map<std::string, std::string>& want, const std::string& path,
                          const std::set<std::string>& skip_attributes = VOLATILE_ATTRIBUTES,
                          const std::set<std::string>& skip_datasets = VOLATILE_DATASETS);

}  // namespace test
