#pragma once
/// @file assembly.hpp
/// Assembling a results file (or a shard's file) from runs, wherever the runs are read from:
/// the part files of a ResultsWriter (results_writer.cpp) or the rows of shard files (merge.cpp).
/// Both go through assemble(), so a merged file is the file one process writes by construction.
/// Internal to the engine, like h5_detail.hpp.

#include "sim/h5.hpp"
#include "sim/h5_detail.hpp"

#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sim::h5 {

/// `format` of a shard's file (a whole result's is "therasim results").
inline constexpr const char* SHARD_FORMAT = "therasim results shard";

/// One run's values as the assembly writes them.
struct RunRow {
    std::vector<double> national;  ///< [series][step]
    std::vector<double> grouped;   ///< [grouped series][step][group]
    std::vector<double> metrics;   ///< [metric]
    double wall_time_s = 0;
    std::string start_time;  ///< when the run started ("" if not known per run)
    unsigned threads = 0;    ///< threads of the process that ran it (0 if not known per run)
};

/// Where the assembly reads its runs from. Row i of the assembled file is run run(i) of the
/// whole result (ascending).
class RunSource {
public:
    virtual ~RunSource() = default;
    [[nodiscard]] virtual std::size_t rows() const = 0;
    [[nodiscard]] virtual std::size_t run(std::size_t row) const = 0;
    /// Reads row @p row, @p steps steps and @p groups groups. @throws RunError naming the file
    virtual RunRow read(std::size_t row, std::size_t steps, std::size_t groups) = 0;
    /// Copies group @p name (time, dimensions, agents, trajectories) of the file holding row
    /// @p row into @p dest, if it has one. @return false if it has none
    virtual bool copy(std::size_t row, const char* name, hid_t dest) = 0;
};

/// The provenance of the runs, from the scenario (a run) or from the shards (a merge).
struct Provenance {
    std::string scenario_name, scenario_description, scenario_file, scenario_chain;
    std::string start_time;  ///< the earliest start; the rows' start times are also taken into account
    long long seed = 0;
    unsigned threads = 0;    ///< 0: the first row's
    std::string merged_shards;  ///< a merge: one line per shard file; "" otherwise
};

/// What a results file holds besides its runs.
struct Assembly {
    const Schema* schema = nullptr;
    int compression = 0;
    bool grouped = true;          ///< output.grouped
    std::string resolved;         ///< the resolved scenario
    std::size_t runs = 0;         ///< runs of the whole result
    Provenance provenance;
    std::function<void(hid_t)> write_sweep;  ///< writes /sweep; empty without a sweep
    std::optional<Shard> shard;   ///< the file is this shard's, not a whole result
};

/// Writes the results file (a shard's file if @p a.shard) of @p source's runs to @p path,
/// flushed to disk. @throws RunError
void assemble(const std::string& path, const Assembly& a, RunSource& source, double wall_seconds);

/// Runs @p body; an HDF5 failure caused by the file system (full disk, size limit, I/O error)
/// is reported as such, naming the file.
template <class F> void file_system_errors(const std::string& file, F&& body) {
    errno = 0;
    try {
        body();
    } catch (const RunError& e) {
        const int err = errno;
        if (std::string(e.what()).rfind("cannot write '", 0) == 0) throw;  // already says which file and why
        if (err == ENOSPC || err == EFBIG || err == EDQUOT || err == EIO || err == EROFS)
            throw RunError("cannot write '" + file + "': " + std::strerror(err) + " (" + e.what() + ")");
        throw;
    }
}

/// Number of series written to /series/grouped (none unless @p grouped).
std::size_t grouped_series_count(const Schema& schema, bool grouped);

}  // namespace sim::h5
