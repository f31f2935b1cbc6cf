#pragma once
/// @file h5.hpp
/// HDF5 results: writing runs so that none is lost or faked (results_writer.cpp), merging the
/// files of shards (merge.cpp) and reading back the parts tools need (h5.cpp). The layout is
/// documented in docs/output.md, shards in docs/cluster.md.

#include "sim/files.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sim {

/// Version of the file layout; readers refuse files of another version.
inline constexpr int OUTPUT_SCHEMA_VERSION = 2;

/// Refuses to start a run whose output cannot be written: an existing file without
/// @p overwrite, something that is not a regular file (a directory, device, pipe or socket)
/// even with it, one of the command's @p inputs, a missing or unwritable directory.
/// @throws UsageError
void check_output_path(const std::string& path, bool overwrite, const std::vector<std::string>& inputs = {});

/// One of @p count shards of a scenario's runs: the runs r with r mod count == index
/// (interleaved, so that shards stay balanced when sweep points differ in cost).
struct Shard {
    std::size_t index = 0, count = 1;
    [[nodiscard]] bool holds(std::size_t run) const { return run % count == index; }
    /// The runs of the shard, ascending, of a scenario with @p runs runs.
    [[nodiscard]] std::vector<std::size_t> runs(std::size_t runs) const;
    /// "K/N"
    [[nodiscard]] std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

/// Parses "K/N" (--shard). @throws UsageError unless 0 <= K < N
Shard parse_shard(const std::string& text);

/// A results part kept in memory (files::PageBuffer memory) after it was written out.
struct KeptImage {
    void* data = nullptr;
    std::size_t size = 0;
};

/// Writes the runs of an ensemble or sweep as they finish, so that a run marked done is never
/// lost or damaged by what happens later, and a rerun of the same command resumes.
///
/// Each run goes to its own part file in the work directory FILE.partial-run/, written under a
/// temporary name and renamed once whole; its name carries the hash of its bytes. A rerun of the
/// same scenario (same resolved text and build) verifies every part (hash, run, scenario, the
/// shapes of its data) and reruns those that fail. finish() assembles the parts into a complete
/// file, flushes it to disk and moves it to FILE; without @p overwrite it never replaces a file
/// that appeared at FILE meanwhile. The work directory is removed only once FILE is in place, and
/// kept whenever it holds a finished run. A lock in it refuses a second writer of the same FILE.
/// Memory does not grow with the number of runs. Thread-safe.
class ResultsWriter {
public:
    /// Opens or resumes the work directory.
    /// @throws UsageError if another process holds it, or it holds another scenario's or build's
    /// runs or files therasim did not write (which are left alone); RunError if it cannot be created.
    /// With @p shard, only the shard's runs are written and FILE is the shard's file (docs/cluster.md).
    ResultsWriter(std::string path, const Schema& schema, const Scenario& scenario, bool overwrite = false,
                  std::optional<Shard> shard = std::nullopt);
    /// Removes a half-written part or result; removes the work directory if no run is finished.
    ~ResultsWriter();
    ResultsWriter(const ResultsWriter&) = delete;
    ResultsWriter& operator=(const ResultsWriter&) = delete;

    /// Writes one run's series and metrics (and, for run 0, agent states and trajectories) as its part.
    /// @throws RunError on any HDF5 or file-system failure
    void write(const Results& results);
    /// Assembles the results file (provenance and the summaries across runs included) and moves
    /// it into place. @throws RunError on any failure (finished runs are kept)
    void finish(double wall_seconds);

    /// @return true if run @p run is finished (in this process or, verified, by an earlier one).
    [[nodiscard]] bool done(std::size_t run) const;
    [[nodiscard]] std::size_t done_count() const;
    /// The runs this writer writes, ascending: every run, or the shard's.
    [[nodiscard]] const std::vector<std::size_t>& runs() const { return runs_; }
    /// @return true if the work directory existed (an interrupted run is being resumed).
    [[nodiscard]] bool resumed() const { return resumed_; }
    /// Parts found on resume that failed verification and were removed (they run again).
    [[nodiscard]] std::size_t rejected() const { return rejected_; }
    [[nodiscard]] const std::string& partial_path() const { return work_; }

private:
    void open_work_directory();
    [[nodiscard]] bool verify_part(const std::string& part, std::size_t run) const;
    /// Writes the run's part to @p tmp. @return the hash of its bytes
    std::uint64_t write_part(const Results& results, const std::string& tmp);
    [[nodiscard]] std::size_t done_count_locked() const;
    std::string path_, work_;
    const Schema& schema_;
    const Scenario& scenario_;
    std::size_t replicates_;  ///< runs (points x replicates in a sweep)
    std::optional<Shard> shard_;
    std::vector<std::size_t> runs_;  ///< the runs written here (all, or the shard's)
    int compression_;
    bool grouped_;  ///< write /series/grouped and /summary/grouped (output.grouped)
    bool overwrite_;
    std::string resolved_, manifest_, scenario_hash_;
    std::vector<std::string> parts_;  ///< file name of each finished run's part; "" if not finished
    files::Lock lock_;
    unsigned threads_ = 0;
    std::size_t rejected_ = 0;
    bool resumed_ = false, finished_ = false;
    KeptImage kept_;  ///< run 0's part in memory, for the assembly (a writer of one run)
    mutable std::mutex mutex_;
};

/// Merges the files of shards 0..N-1 of one run (in any order) into @p path: the file one
/// process running every run writes, apart from provenance times and the shard list in
/// /provenance@merged_shards. Written under a temporary name, flushed, and moved into place
/// without replacing an existing file unless @p overwrite.
/// @throws UsageError (nothing written) for an input that is not a complete shard's file, shards
/// that overlap or leave gaps, or that differ in scenario, build or layout; RunError on I/O failure
void merge_shards(const Schema& schema, const std::vector<std::string>& inputs, const std::string& path, bool overwrite);

/// Writes a single run's @p results to @p path (a one-run ResultsWriter).
/// @throws RunError on any HDF5 or file-system failure
void write_results(const std::string& path, const Schema& schema, const Scenario& scenario, const Results& results,
                   const Model& model, bool overwrite = false);

/// A national series read back from a results file.
struct SeriesData {
    std::string name, unit, label;
    std::vector<double> values;  ///< one per step, step 0 first
    bool flow = false;           ///< events per step (summed over periods) rather than a level
    bool headline = false;       ///< shown in summaries
    bool mean = false;           ///< a mean over patients (a rating, a share), not a count or an amount
    int better = 0;              ///< +1: more is better for patients, -1: less is, 0: neither or unknown
};

/// Read access to a results file.
class ResultsFile {
public:
    /// Opens @p path and checks the rank, shape and type of every series, summary and metric.
    /// @throws RunError if it is not a complete, well-formed therasim results file of this schema version
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
    /// An integer attribute of /provenance (e.g. "seed"). @throws RunError if absent
    [[nodiscard]] long long provenance_integer(const std::string& attr) const;
    /// A 1-D dataset of numbers (any numeric type), e.g. "/agents/patient/final/symptoms".
    [[nodiscard]] std::vector<double> read_numbers(const std::string& dataset) const;

private:
    void check_layout() const;
    long long file_;  // hid_t
    std::string path_;
};

}  // namespace sim
