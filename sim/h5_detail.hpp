#pragma once
/// @file h5_detail.hpp
/// Small HDF5 helpers shared by the results writer (results_writer.cpp) and reader (h5.cpp).
/// Internal to the engine: nothing outside sim/ includes it. Every call that can fail throws
/// RunError naming what it was doing; HDF5's own error printing is off.

#include "sim/agents.hpp"
#include "sim/errors.hpp"
#include "sim/schema.hpp"

#include <hdf5.h>

#include <string>
#include <vector>

namespace sim::h5 {

/// @return @p id. @throws RunError "HDF5: cannot WHAT" if it is negative (a failed call)
hid_t ok(hid_t id, const std::string& what);

/// Closes an HDF5 handle at scope exit.
class Handle {
public:
    Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    ~Handle() {
        if (id_ >= 0) close_(id_);
    }
    Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle& operator=(Handle&&) = delete;
    operator hid_t() const { return id_; }

private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

/// Turns off HDF5's error printing and its exit handler (call before the first HDF5 use).
void silence_hdf5();
/// A variable-length UTF-8 string type (the caller closes it).
hid_t string_type();

void attr_string(hid_t obj, const char* name, const std::string& value);
void attr_number(hid_t obj, const char* name, double value);
void attr_int(hid_t obj, const char* name, long long value);
/// A scalar string attribute. @throws RunError if it is missing or not a scalar string
std::string read_string_attr(hid_t obj, const char* name);
/// A scalar integer attribute. @throws RunError if it is missing or not a scalar integer
long long read_int_attr(hid_t obj, const char* name);
/// A scalar number attribute. @throws RunError if it is missing or not a scalar number
double read_number_attr(hid_t obj, const char* name);

/// Creates group @p name (the caller closes it).
hid_t group(hid_t parent, const std::string& name);
/// A dataset to write, as dataset() takes it; @p data must stay valid until it is written.
struct PendingDataset {
    hid_t parent;
    std::string name;
    hid_t mem_type;
    const void* data;
    std::vector<hsize_t> dims;
    int compression;
    std::string unit, label;
    /// Agents' values (states, trajectories): the leading byte planes of a chunk that are not worth
    /// deflating by their byte counts are stored as they are (filtered_chunk). Not for series and
    /// summaries, whose rows can repeat at a distance (one replicate's quantiles are its values):
    /// deflate finds that, byte counts do not.
    bool agent_values = false;
};
/// Writes the datasets of @p batch as dataset() would, in their order: the same file bytes,
/// with the chunks of several datasets compressed in parallel (oneTBB) and written with
/// H5Dwrite_chunk. @throws RunError if HDF5 or libdeflate fails
void datasets(const std::vector<PendingDataset>& batch);
/// Writes an N-d dataset, chunked and compressed when it is large enough to matter.
void dataset(hid_t parent, const std::string& name, hid_t mem_type, const void* data, const std::vector<hsize_t>& dims,
             int compression, const std::string& unit = "", const std::string& label = "");
/// Writes a 1-d dataset of strings.
void strings(hid_t parent, const std::string& name, const std::vector<std::string>& values);
/// Writes the attribute columns @p cols of an agent type (their data in @p data, not copied).
void write_columns(hid_t g, const AgentTypeSpec& spec, const std::vector<std::size_t>& cols, const std::vector<const Column*>& data,
                   int compression);
/// Creates an empty, NaN-filled dataset of shape @p dims with one chunk per first-axis row (the
/// caller closes it), with the series' unit, label, stat, kind and headline attributes.
hid_t row_dataset(hid_t parent, const std::string& name, hid_t type, const std::vector<hsize_t>& dims, int compression,
                  const SeriesSpec& spec);
/// Writes @p data as row @p row (first axis) of dataset @p ds.
void write_row(hid_t ds, hsize_t row, const double* data, const std::string& what);
/// Reads row @p row (first axis) of dataset @p ds as doubles. @throws RunError naming @p what
std::vector<double> read_row(hid_t ds, hsize_t row, const std::string& what);

/// The extent of dataset @p ds (one entry per dimension).
std::vector<hsize_t> shape(hid_t ds);
/// Reads the whole of dataset @p name under @p parent as doubles, after checking that its
/// class is numeric and its shape is @p dims. @throws RunError naming @p what otherwise
std::vector<double> read_doubles(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                                 const std::string& what);

/// Quantile of sorted values (linear interpolation between order statistics, numpy's default).
double quantile(const std::vector<double>& sorted, double p);

}  // namespace sim::h5
