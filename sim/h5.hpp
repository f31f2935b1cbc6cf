#pragma once
/// @file h5.hpp
/// HDF5 results: writing a run (atomically: a temporary file renamed on success) and reading
/// back the parts tools need. The layout is documented in docs/output.md.

#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sim {

/// Version of the file layout; readers refuse files of another version.
inline constexpr int OUTPUT_SCHEMA_VERSION = 2;

/// Refuses to start a run whose output cannot be written: an existing file without
/// @p overwrite, a missing or unwritable directory.
/// @throws UsageError
void check_output_path(const std::string& path, bool overwrite);

/// Writes the replicates of a run as they finish, into a temporary file in the same directory
/// (FILE.partial-run) that finish() completes and renames to FILE. If FILE.partial-run holds
/// finished replicates of the same scenario from an interrupted run, they are kept and skipped. Memory does not grow with the
/// number of replicates: each replicate's series go to disk when it is written. Thread-safe.
class ResultsWriter {
public:
    /// Creates the temporary file. @throws RunError if it cannot be created
    ResultsWriter(std::string path, const Schema& schema, const Scenario& scenario);
    /// Removes the temporary file unless finish() succeeded.
    ~ResultsWriter();
    ResultsWriter(const ResultsWriter&) = delete;
    ResultsWriter& operator=(const ResultsWriter&) = delete;

    /// Writes one replicate's series (and, for replicate 0, agent states and trajectories).
    /// @throws RunError on any HDF5 failure
    void write(const Results& results);
    /// Writes provenance and the summaries across replicates, marks the file complete and
    /// renames it to its final name. @throws RunError on any failure (the temporary file is removed)
    void finish(double wall_seconds);

    /// @return true if replicate @p replicate is already in the file (resumed from FILE.partial-run).
    [[nodiscard]] bool done(std::size_t replicate) const;
    [[nodiscard]] std::size_t done_count() const;
    [[nodiscard]] bool resumed() const { return resumed_; }
    /// Keeps the partial file when the writer is destroyed unfinished, so a rerun can resume it.
    void keep_partial() { keep_ = true; }
    [[nodiscard]] const std::string& partial_path() const { return tmp_; }

private:
    void header(const World& w);
    bool try_resume();
    void write_locked(const Results& results);
    void finish_locked(double wall_seconds);
    [[nodiscard]] std::size_t done_count_locked() const;
    std::string path_, tmp_;
    const Schema& schema_;
    const Scenario& scenario_;
    std::size_t replicates_;
    int compression_;
    bool grouped_;  ///< write /series/grouped and /summary/grouped (output.grouped)
    long long file_ = -1;  // hid_t
    bool has_header_ = false;
    std::size_t n_steps_ = 0, n_groups_ = 0;
    std::vector<unsigned long long> group_dims_;
    unsigned threads_ = 0;
    std::string start_time_;
    std::string resolved_;
    std::vector<bool> done_;
    bool resumed_ = false, keep_ = false;
    mutable std::mutex mutex_;
};

/// Writes a single run's @p results to @p path (a one-replicate ResultsWriter).
/// @throws RunError on any HDF5 or file-system failure (the temporary file is removed)
void write_results(const std::string& path, const Schema& schema, const Scenario& scenario, const Results& results,
                   const Model& model);

/// A national series read back from a results file.
struct SeriesData {
    std::string name, unit, label;
    std::vector<double> values;  ///< one per step, step 0 first
    bool flow = false;           ///< events per step (summed over periods) rather than a level
    bool headline = false;       ///< shown in summaries
};

/// Read access to a results file.
class ResultsFile {
public:
    /// Opens @p path. @throws RunError if it is not a complete therasim results file of this schema version
    explicit ResultsFile(const std::string& path);
    ~ResultsFile();
    ResultsFile(const ResultsFile&) = delete;
    ResultsFile& operator=(const ResultsFile&) = delete;

    [[nodiscard]] std::vector<std::string> national_series() const;
    /// Names of the objects in group @p group (e.g. "/metrics"); empty if the group is absent.
    [[nodiscard]] std::vector<std::string> names(const std::string& group) const;
    /// A string attribute of a dataset or group, or "" if absent.
    [[nodiscard]] std::string text_attribute(const std::string& object, const std::string& attr) const;
    /// The series of replicate 0. @throws RunError if absent
    [[nodiscard]] SeriesData national(const std::string& name) const;
    /// The series of every replicate: [replicate][step]. @throws RunError if absent
    [[nodiscard]] std::vector<std::vector<double>> national_replicates(const std::string& name) const;
    /// Number of replicates in the file.
    [[nodiscard]] std::size_t replicates() const;
    [[nodiscard]] std::vector<double> days() const;
    /// A string attribute of /provenance. @throws RunError if absent
    [[nodiscard]] std::string provenance(const std::string& attr) const;
    /// A 1-D dataset of numbers (any numeric type), e.g. "/agents/patient/final/symptoms".
    [[nodiscard]] std::vector<double> read_numbers(const std::string& dataset) const;

private:
    long long file_;  // hid_t
    std::string path_;
};

}  // namespace sim
