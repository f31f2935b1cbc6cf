#pragma once
/// @file h5.hpp
/// HDF5 results: writing a run (atomically: a temporary file renamed on success) and reading
/// back the parts tools need. The layout is documented in docs/output.md.

#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

#include <map>
#include <string>
#include <vector>

namespace sim {

/// Version of the file layout; readers refuse files of another version.
inline constexpr int OUTPUT_SCHEMA_VERSION = 1;

/// Refuses to start a run whose output cannot be written: an existing file without
/// @p overwrite, a missing or unwritable directory.
/// @throws UsageError
void check_output_path(const std::string& path, bool overwrite);

/// Writes @p results to @p path via a temporary file in the same directory, renamed on success.
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
    /// @throws RunError if absent
    [[nodiscard]] SeriesData national(const std::string& name) const;
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
