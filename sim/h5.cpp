#include "sim/h5.hpp"

#include "sim/assembly.hpp"
#include "sim/errors.hpp"
#include "sim/h5_detail.hpp"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>

namespace sim {
namespace fs = std::filesystem;
using namespace h5;


ResultsFile::ResultsFile(const std::string& path) : file_(-1), path_(path) {
    silence_hdf5();
    std::error_code ec;
    // The work directory of an unfinished run (OUT.partial-run/) and anything in it.
    const fs::path p(path);
    if (p.filename().string().find(".partial-") != std::string::npos ||
        p.parent_path().filename().string().find(".partial-") != std::string::npos)
        throw RunError("'" + path + "' is the partial file of an unfinished run, not a result");
    if (!fs::is_regular_file(path, ec)) throw RunError("'" + path + "' is not a file");
    file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file_ < 0) throw RunError("'" + path + "' is not an HDF5 file");
    try {
        const std::string format = H5Aexists(file_, "format") > 0 ? read_string_attr(file_, "format") : "";
        if (format == SHARD_FORMAT) {
            std::string which = "a shard";
            if (H5Lexists(file_, "/shard", H5P_DEFAULT) > 0) {
                Handle g(ok(H5Gopen2(file_, "/shard", H5P_DEFAULT), "open /shard"), H5Gclose);
                which = "shard " + std::to_string(read_int_attr(g, "index")) + " of " + std::to_string(read_int_attr(g, "count"));
            }
            throw RunError("'" + path + "' is " + which + " of a run, not a whole result: merge the shards first "
                           "(therasim merge -o OUT.h5 PART...; see docs/cluster.md)");
        }
        if (format != "therasim results") throw RunError("'" + path + "' is not a therasim results file");
        const long long v = read_int_attr(file_, "schema_version");
        if (v != OUTPUT_SCHEMA_VERSION)
            throw RunError("'" + path + "' has output schema version " + std::to_string(v) + "; this therasim reads version " +
                           std::to_string(OUTPUT_SCHEMA_VERSION));
        if (H5Aexists(file_, "complete") <= 0 || read_int_attr(file_, "complete") != 1)
            throw RunError("'" + path + "' is incomplete (the run that wrote it did not finish)");
        check_layout();
    } catch (const RunError& e) {
        H5Fclose(file_);
        const std::string what = e.what();
        if (what.rfind("'" + path + "'", 0) == 0) throw;
        throw RunError("'" + path + "': " + what + "; the file is damaged or was not written by therasim");
    } catch (...) {
        H5Fclose(file_);
        throw;
    }
}

void ResultsFile::check_layout() const {
    // The rank, shape and type of everything the readers below use, so that they can trust it.
    const long long reps = read_int_attr(file_, "replicates");
    if (reps < 1) throw RunError("attribute replicates is " + std::to_string(reps) + ", expected at least 1");
    if (H5Lexists(file_, "/time", H5P_DEFAULT) <= 0) throw RunError("/time is missing");
    Handle time(ok(H5Gopen2(file_, "/time", H5P_DEFAULT), "open /time"), H5Gclose);
    if (H5Lexists(time, "day", H5P_DEFAULT) <= 0) throw RunError("/time/day is missing");
    Handle day(ok(H5Dopen2(time, "day", H5P_DEFAULT), "open /time/day"), H5Dclose);
    const auto d = shape(day);
    if (d.size() != 1 || d[0] < 1) throw RunError("/time/day is not a list of at least one day");
    const hsize_t steps = d[0], runs = static_cast<hsize_t>(reps);
    auto check_group = [&](const std::string& g, const std::vector<hsize_t>& dims) {
        for (const auto& name : names(g)) (void)read_doubles(file_, g + "/" + name, dims, g + "/" + name);
    };
    if (H5Lexists(file_, "/series", H5P_DEFAULT) > 0) check_group("/series/national", {runs, steps});
    if (H5Lexists(file_, "/summary", H5P_DEFAULT) > 0) {
        check_group("/summary/national", {4, steps});
        check_group("/summary/metrics", {4});
    }
    check_group("/metrics", {runs});
}

ResultsFile::~ResultsFile() {
    if (file_ >= 0) H5Fclose(file_);
}

std::vector<std::string> ResultsFile::names(const std::string& group) const {
    if (H5Lexists(file_, group.c_str(), H5P_DEFAULT) <= 0) return {};
    Handle g(ok(H5Gopen2(file_, group.c_str(), H5P_DEFAULT), "open " + group), H5Gclose);
    hsize_t n = 0;
    H5Gget_num_objs(g, &n);
    std::vector<std::string> out;
    for (hsize_t i = 0; i < n; ++i) {
        const ssize_t len = H5Gget_objname_by_idx(g, i, nullptr, 0);
        if (len < 0) throw RunError("HDF5: cannot read the names in " + group);
        std::string name(static_cast<std::size_t>(len) + 1, '\0');
        H5Gget_objname_by_idx(g, i, name.data(), name.size());
        name.resize(static_cast<std::size_t>(len));
        out.push_back(std::move(name));
    }
    return out;
}

std::string ResultsFile::text_attribute(const std::string& object, const std::string& attr) const {
    if (object != "/" && H5Lexists(file_, object.c_str(), H5P_DEFAULT) <= 0) return "";  // the root is no link
    Handle o(ok(H5Oopen(file_, object.c_str(), H5P_DEFAULT), "open " + object), H5Oclose);
    return H5Aexists(o, attr.c_str()) > 0 ? read_string_attr(o, attr.c_str()) : "";
}

std::vector<std::string> ResultsFile::national_series() const {
    if (H5Lexists(file_, "/series", H5P_DEFAULT) <= 0 || H5Lexists(file_, "/series/national", H5P_DEFAULT) <= 0)
        throw RunError("'" + path_ + "' has no /series/national");
    return names("/series/national");
}

std::vector<double> ResultsFile::read_numbers(const std::string& name) const {
    if (H5Lexists(file_, name.c_str(), H5P_DEFAULT) <= 0)
        throw RunError("'" + path_ + "' has no dataset " + name);
    Handle ds(ok(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), "open " + name), H5Dclose);
    Handle space(ok(H5Dget_space(ds), "get dataspace"), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    std::vector<double> v(static_cast<std::size_t>(std::max<hssize_t>(0, n)));
    if (n > 0) ok(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read " + name);
    return v;
}

SeriesData ResultsFile::national(const std::string& name) const {
    const std::string path = "/series/national/" + name;
    SeriesData d;
    d.name = name;
    d.values = national_replicates(name).front();
    Handle ds(ok(H5Dopen2(file_, path.c_str(), H5P_DEFAULT), "open " + path), H5Dclose);
    d.unit = H5Aexists(ds, "unit") > 0 ? read_string_attr(ds, "unit") : "";
    d.label = H5Aexists(ds, "label") > 0 ? read_string_attr(ds, "label") : "";
    d.flow = H5Aexists(ds, "kind") > 0 && read_string_attr(ds, "kind") == "flow";
    d.headline = H5Aexists(ds, "headline") > 0 && read_int_attr(ds, "headline") == 1;
    d.mean = H5Aexists(ds, "stat") > 0 && read_string_attr(ds, "stat") != "sum";
    const std::string better = H5Aexists(ds, "better") > 0 ? read_string_attr(ds, "better") : "";
    d.better = better == "higher" ? 1 : better == "lower" ? -1 : 0;
    return d;
}

std::vector<std::vector<double>> ResultsFile::national_replicates(const std::string& name) const {
    const std::vector<double> all = read_numbers("/series/national/" + name);
    const std::size_t reps = replicates(), steps = all.size() / std::max<std::size_t>(1, reps);
    std::vector<std::vector<double>> out(reps);
    for (std::size_t r = 0; r < reps; ++r) out[r].assign(all.begin() + static_cast<std::ptrdiff_t>(r * steps),
                                                         all.begin() + static_cast<std::ptrdiff_t>((r + 1) * steps));
    return out;
}

std::size_t ResultsFile::replicates() const { return static_cast<std::size_t>(read_int_attr(file_, "replicates")); }

std::vector<double> ResultsFile::days() const { return read_numbers("/time/day"); }

std::string ResultsFile::provenance(const std::string& attr) const {
    Handle g(ok(H5Gopen2(file_, "/provenance", H5P_DEFAULT), "open /provenance"), H5Gclose);
    return read_string_attr(g, attr.c_str());
}

long long ResultsFile::provenance_integer(const std::string& attr) const {
    Handle g(ok(H5Gopen2(file_, "/provenance", H5P_DEFAULT), "open /provenance"), H5Gclose);
    return read_int_attr(g, attr.c_str());
}

}  // namespace sim
