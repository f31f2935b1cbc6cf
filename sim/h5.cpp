#include "sim/h5.hpp"

#include "sim/errors.hpp"
#include "sim/version.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <cstdio>
#include <filesystem>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace sim {
namespace fs = std::filesystem;

namespace {

/// Throws RunError when an HDF5 call fails (HDF5's own error printing is turned off).
hid_t ok(hid_t id, const std::string& what) {
    if (id < 0) throw RunError("HDF5: cannot " + what);
    return id;
}

/// Closes an HDF5 handle at scope exit.
class Handle {
public:
    Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    ~Handle() {
        if (id_ >= 0) close_(id_);
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    operator hid_t() const { return id_; }

private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

void silence_hdf5() {
    // HDF5 closes files still open at exit; after a failed write (full disk, size limit) that
    // close crashes inside the library. Every file here is closed explicitly, so the exit
    // handler is not registered (this only works before HDF5's first use in the process).
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

hid_t string_type() {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

void attr_string(hid_t obj, const char* name, const std::string& value) {
    Handle type(string_type(), H5Tclose);
    Handle space(ok(H5Screate(H5S_SCALAR), "create dataspace"), H5Sclose);
    Handle a(ok(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), std::string("create attribute ") + name),
             H5Aclose);
    const char* p = value.c_str();
    ok(H5Awrite(a, type, &p), std::string("write attribute ") + name);
}

void attr_number(hid_t obj, const char* name, double value) {
    Handle space(ok(H5Screate(H5S_SCALAR), "create dataspace"), H5Sclose);
    Handle a(ok(H5Acreate2(obj, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT), std::string("create attribute ") + name),
             H5Aclose);
    ok(H5Awrite(a, H5T_NATIVE_DOUBLE, &value), std::string("write attribute ") + name);
}

void attr_int(hid_t obj, const char* name, long long value) {
    Handle space(ok(H5Screate(H5S_SCALAR), "create dataspace"), H5Sclose);
    Handle a(ok(H5Acreate2(obj, name, H5T_NATIVE_LLONG, space, H5P_DEFAULT, H5P_DEFAULT), std::string("create attribute ") + name),
             H5Aclose);
    ok(H5Awrite(a, H5T_NATIVE_LLONG, &value), std::string("write attribute ") + name);
}

hid_t group(hid_t parent, const std::string& name) {
    return ok(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group " + name);
}

/// Writes an N-d dataset, chunked and compressed when it is large enough to matter.
void dataset(hid_t parent, const std::string& name, hid_t mem_type, const void* data, const std::vector<hsize_t>& dims,
             int compression, const std::string& unit = "", const std::string& label = "") {
    Handle space(ok(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "create dataspace"), H5Sclose);
    Handle dcpl(ok(H5Pcreate(H5P_DATASET_CREATE), "create property list"), H5Pclose);
    hsize_t total = 1;
    for (auto d : dims) total *= d;
    if (compression > 0 && total >= 1024) {
        // Chunks of about 64k elements along the first dimension.
        std::vector<hsize_t> chunk = dims;
        hsize_t rest = total / std::max<hsize_t>(1, dims[0]);
        chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(dims[0], 65536 / std::max<hsize_t>(1, rest)));
        H5Pset_chunk(dcpl, static_cast<int>(dims.size()), chunk.data());
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, static_cast<unsigned>(compression));
    }
    Handle ds(ok(H5Dcreate2(parent, name.c_str(), mem_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "create dataset " + name),
              H5Dclose);
    if (total > 0) ok(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write dataset " + name);
    if (!unit.empty()) attr_string(ds, "unit", unit);
    if (!label.empty()) attr_string(ds, "label", label);
}

void strings(hid_t parent, const std::string& name, const std::vector<std::string>& values) {
    std::vector<const char*> p;
    for (const auto& v : values) p.push_back(v.c_str());
    Handle type(string_type(), H5Tclose);
    dataset(parent, name, type, p.data(), {values.size()}, 0);
}

hid_t native(const Column& c) {
    switch (c.index()) {
        case 0: return H5T_NATIVE_FLOAT;
        case 1: return H5T_NATIVE_DOUBLE;
        case 2: return H5T_NATIVE_INT32;
        default: return H5T_NATIVE_UINT8;
    }
}
const void* data_of(const Column& c) {
    return std::visit([](const auto& v) -> const void* { return v.data(); }, c);
}
std::size_t size_of(const Column& c) {
    return std::visit([](const auto& v) { return v.size(); }, c);
}

void write_columns(hid_t g, const AgentTypeSpec& spec, const std::vector<std::size_t>& cols, const std::vector<Column>& data,
                   int compression) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
        const AttributeSpec& a = spec.attributes[cols[i]];
        dataset(g, a.name, native(data[i]), data_of(data[i]), {size_of(data[i])}, compression, a.unit, a.label);
    }
}

/// Creates an empty dataset of shape @p dims with one chunk per first-axis row (one replicate).
hid_t row_dataset(hid_t parent, const std::string& name, hid_t type, const std::vector<hsize_t>& dims, int compression,
                  const SeriesSpec& spec) {
    Handle space(ok(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "create dataspace"), H5Sclose);
    Handle dcpl(ok(H5Pcreate(H5P_DATASET_CREATE), "create property list"), H5Pclose);
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
    if (compression > 0) {
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, static_cast<unsigned>(compression));
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    H5Pset_fill_value(dcpl, type, &nan);
    const hid_t ds = ok(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "create dataset " + name);
    attr_string(ds, "unit", spec.unit);
    attr_string(ds, "label", spec.label);
    attr_string(ds, "stat", spec.stat == Stat::sum ? "sum" : "mean over " + spec.denominator);
    attr_string(ds, "kind", spec.kind == Kind::flow ? "flow" : "level");
    attr_int(ds, "headline", spec.headline ? 1 : 0);
    return ds;
}

/// Writes @p data as row @p row (first axis) of dataset @p ds.
void write_row(hid_t ds, hsize_t row, const double* data, const std::string& what) {
    Handle file_space(ok(H5Dget_space(ds), "get dataspace"), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(file_space);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), start(dims.size(), 0), count;
    H5Sget_simple_extent_dims(file_space, dims.data(), nullptr);
    count = dims;
    count[0] = 1;
    start[0] = row;
    ok(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), "select " + what);
    Handle mem_space(ok(H5Screate_simple(rank, count.data(), nullptr), "create dataspace"), H5Sclose);
    ok(H5Dwrite(ds, H5T_NATIVE_DOUBLE, mem_space, file_space, H5P_DEFAULT, data), "write " + what);
}

/// Quantile of sorted values (linear interpolation between order statistics, numpy's default).
double quantile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
    const double h = (static_cast<double>(sorted.size()) - 1.0) * p;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

void write_agents(hid_t f, const Results& r, int compression) {
    const World& w = *r.world;
    Handle g(group(f, "agents"), H5Gclose);
    attr_int(g, "replicate", w.rng.replicate());
    attr_int(g, "run", w.run);
    for (const auto& t : w.tables()) {
        Handle ag(group(g, t.name()), H5Gclose);
        attr_string(ag, "label", t.spec().label);
        attr_int(ag, "count", static_cast<long long>(t.size()));
        Snapshot fin;
        for (std::size_t c = 0; c < t.spec().attributes.size(); ++c)
            if (t.spec().attributes[c].output != Output::none) {
                fin.columns.push_back(c);
                fin.data.push_back(t.column_at(c));
            }
        Handle fg(group(ag, "final"), H5Gclose);
        write_columns(fg, t.spec(), fin.columns, fin.data, compression);
        for (const auto& b : r.baseline) {
            if (b.agent != t.name()) continue;
            Handle bg(group(ag, "baseline"), H5Gclose);
            write_columns(bg, t.spec(), b.columns, b.data, compression);
        }
    }
    const Trajectories& tr = r.trajectories;
    if (tr.rows.empty() || tr.columns.empty()) return;
    Handle tg(group(f, "trajectories"), H5Gclose);
    std::string agents;
    for (const auto& c : tr.columns) {
        const std::string& a = w.tables()[c.table].name();
        if (agents.find(a) == std::string::npos) agents += (agents.empty() ? "" : ",") + a;
    }
    attr_string(tg, "agents", agents);
    attr_int(tg, "replicate", w.rng.replicate());
    attr_int(tg, "run", w.run);
    dataset(tg, "row", H5T_NATIVE_UINT32, tr.rows.data(), {tr.rows.size()}, 0, "", "Sampled row (the same id in every traced agent type)");
    const std::size_t k = tr.rows.size(), nc = tr.columns.size(), nt = tr.values.size() / (k * nc);
    for (std::size_t c = 0; c < nc; ++c) {
        std::vector<float> v(nt * k);
        for (std::size_t t = 0; t < nt; ++t)
            for (std::size_t i = 0; i < k; ++i) v[t * k + i] = tr.values[(t * nc + c) * k + i];
        const AttributeSpec& a = w.tables()[tr.columns[c].table].spec().attributes[tr.columns[c].attribute];
        if (H5Lexists(tg, a.name.c_str(), H5P_DEFAULT) > 0) throw RunError("two traced attributes are both named " + a.name);
        dataset(tg, a.name, H5T_NATIVE_FLOAT, v.data(), {nt, k}, compression, a.unit, a.label);
    }
}

/// The sweep's design (layout in docs/output.md, /sweep).
void write_sweep(hid_t f, const Sweep& s, std::size_t reps) {
    Handle g(group(f, "sweep"), H5Gclose);
    const std::size_t k = s.k(), points = s.points();
    attr_string(g, "design", s.design);
    attr_int(g, "samples", static_cast<long long>(s.samples));
    attr_int(g, "levels", s.levels);
    attr_int(g, "points", static_cast<long long>(points));
    attr_int(g, "replicates_per_point", static_cast<long long>(reps));
    std::vector<std::string> names;
    std::vector<double> lower, upper, values(points * k);
    std::vector<std::uint8_t> integer;
    for (const auto& p : s.parameters) {
        names.push_back(p.path);
        lower.push_back(p.lower);
        upper.push_back(p.upper);
        integer.push_back(p.integer ? 1 : 0);
    }
    for (std::size_t p = 0; p < points; ++p)
        for (std::size_t i = 0; i < k; ++i) values[p * k + i] = s.value(p, i);
    strings(g, "parameters", names);
    dataset(g, "lower", H5T_NATIVE_DOUBLE, lower.data(), {k}, 0, "", "Lower end of each parameter's range");
    dataset(g, "upper", H5T_NATIVE_DOUBLE, upper.data(), {k}, 0, "", "Upper end of each parameter's range");
    dataset(g, "integer", H5T_NATIVE_UINT8, integer.data(), {k}, 0, "", "1 if the parameter is an integer (values rounded)");
    dataset(g, "unit_points", H5T_NATIVE_DOUBLE, s.unit.data(), {points, k}, 0, "", "Design points in the unit cube");
    dataset(g, "values", H5T_NATIVE_DOUBLE, values.data(), {points, k}, 0, "", "Parameter values of each design point");
    dataset(g, "role", H5T_NATIVE_INT32, s.role.data(), {points}, 0, "",
            "saltelli: 0 = A, 1 = B, 2 + i = A with parameter i from B; morris: parameter changed from the previous point (-1: first)");
    dataset(g, "sample", H5T_NATIVE_INT32, s.sample.data(), {points}, 0, "", "saltelli: base sample; morris: trajectory; else the point");
    std::vector<std::int32_t> point(points * reps), replicate(points * reps);
    for (std::size_t r = 0; r < points * reps; ++r) {
        point[r] = static_cast<std::int32_t>(r / reps);
        replicate[r] = static_cast<std::int32_t>(r % reps);
    }
    dataset(g, "point", H5T_NATIVE_INT32, point.data(), {point.size()}, 0, "", "Design point of each run");
    dataset(g, "replicate", H5T_NATIVE_INT32, replicate.data(), {replicate.size()}, 0, "", "Replicate (random-number key) of each run");
}

}  // namespace

void check_output_path(const std::string& path, bool overwrite) {
    std::error_code ec;
    if (path.empty()) throw UsageError("no output file given (-o FILE)");
    if (fs::is_directory(path, ec)) throw UsageError("output '" + path + "' is a directory; give a file name");
    if (fs::exists(path, ec) && !overwrite)
        throw UsageError("output file '" + path + "' exists; pass --overwrite to replace it");
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir, ec)) throw UsageError("output directory '" + dir.string() + "' does not exist");
    if (access(dir.c_str(), W_OK) != 0) throw UsageError("output directory '" + dir.string() + "' is not writable");
}

namespace {
std::string read_string_attr(hid_t obj, const char* name) {
    if (H5Aexists(obj, name) <= 0) throw RunError(std::string("missing attribute ") + name);
    Handle a(ok(H5Aopen(obj, name, H5P_DEFAULT), std::string("open attribute ") + name), H5Aclose);
    Handle type(string_type(), H5Tclose);
    char* p = nullptr;
    ok(H5Aread(a, type, &p), std::string("read attribute ") + name);
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
}
long long read_int_attr(hid_t obj, const char* name) {
    if (H5Aexists(obj, name) <= 0) throw RunError(std::string("missing attribute ") + name);
    Handle a(ok(H5Aopen(obj, name, H5P_DEFAULT), std::string("open attribute ") + name), H5Aclose);
    long long v = 0;
    ok(H5Aread(a, H5T_NATIVE_LLONG, &v), std::string("read attribute ") + name);
    return v;
}
}  // namespace

ResultsWriter::ResultsWriter(std::string path, const Schema& schema, const Scenario& scenario)
    : path_(std::move(path)), tmp_(path_ + ".partial-run"), schema_(schema), scenario_(scenario),
      replicates_(scenario.runs()),
      compression_(static_cast<int>(scenario.params.integer("output.compression"))),
      grouped_(scenario.params.boolean("output.grouped")),
      resolved_(scenario.resolved_yaml(schema)), done_(replicates_, false) {
    silence_hdf5();
    std::error_code ec;
    if (fs::exists(tmp_, ec) && try_resume()) return;
    std::remove(tmp_.c_str());
    file_ = ok(H5Fcreate(tmp_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), "create '" + tmp_ + "'");
}

bool ResultsWriter::try_resume() {
    // A partial file left by an interrupted run of the same scenario (same resolved text, so the
    // same seed and replicates) is continued; one of another scenario is refused; an unreadable
    // one (killed mid-write) is started afresh.
    const hid_t f = H5Fopen(tmp_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return false;
    if (H5Aexists(f, "resolved_scenario") <= 0 || H5Lexists(f, "/replicates", H5P_DEFAULT) <= 0) {
        H5Fclose(f);
        return false;
    }
    try {
        if (read_string_attr(f, "resolved_scenario") != resolved_) {
            H5Fclose(f);
            throw UsageError("'" + tmp_ + "' holds an interrupted run of a different scenario or seed; delete it to start afresh");
        }
        // Rows of another build would be mixed with this one's (another model or design).
        if (const std::string built = read_string_attr(f, "git_commit"); built != GIT_COMMIT) {
            H5Fclose(f);
            throw UsageError("'" + tmp_ + "' holds an interrupted run written by another build of therasim (" + built + ", this is " +
                             GIT_COMMIT + "); delete it to start afresh");
        }
        Handle done(ok(H5Dopen2(f, "/replicates/done", H5P_DEFAULT), "open /replicates/done"), H5Dclose);
        std::vector<std::uint8_t> flags(replicates_, 0);
        ok(H5Dread(done, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, flags.data()), "read /replicates/done");
        for (std::size_t r = 0; r < replicates_; ++r) done_[r] = flags[r] != 0;
        Handle time(ok(H5Gopen2(f, "/time", H5P_DEFAULT), "open /time"), H5Gclose);
        n_steps_ = static_cast<std::size_t>(read_int_attr(time, "n_steps"));
        group_dims_.clear();
        n_groups_ = 1;
        Handle dims(ok(H5Gopen2(f, "/dimensions", H5P_DEFAULT), "open /dimensions"), H5Gclose);
        std::string order = read_string_attr(dims, "order");
        for (std::size_t pos = 0; !order.empty();) {
            const std::size_t comma = order.find(',', pos);
            const std::string name = order.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            Handle ds(ok(H5Dopen2(dims, name.c_str(), H5P_DEFAULT), "open dimension " + name), H5Dclose);
            Handle sp(ok(H5Dget_space(ds), "get dataspace"), H5Sclose);
            const auto n = static_cast<std::size_t>(std::max<hssize_t>(1, H5Sget_simple_extent_npoints(sp)));
            group_dims_.push_back(n);
            n_groups_ *= n;
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
        start_time_ = read_string_attr(f, "start_time");
    } catch (const RunError&) {
        H5Fclose(f);
        return false;
    }
    file_ = f;
    has_header_ = true;
    resumed_ = true;
    return true;
}

ResultsWriter::~ResultsWriter() {
    if (file_ >= 0) {
        H5Fclose(file_);
        // An interrupted ensemble keeps what it finished for a rerun to resume; otherwise the
        // partial file is removed.
        if (!keep_) std::remove(tmp_.c_str());
    }
}

bool ResultsWriter::done(std::size_t replicate) const {
    // done_ is a vector<bool>: flags share words, so even reading another run's flag while a
    // writer sets one is a data race without the lock.
    std::lock_guard<std::mutex> lock(mutex_);
    return done_.at(replicate);
}

std::size_t ResultsWriter::done_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_count_locked();
}

std::size_t ResultsWriter::done_count_locked() const { return static_cast<std::size_t>(std::count(done_.begin(), done_.end(), true)); }

void ResultsWriter::header(const World& w) {
    const hid_t f = file_;
    attr_string(f, "format", "therasim results");
    attr_int(f, "schema_version", OUTPUT_SCHEMA_VERSION);
    attr_string(f, "therasim_version", VERSION);
    attr_string(f, "git_commit", GIT_COMMIT);
    attr_int(f, "replicates", static_cast<long long>(replicates_));
    attr_string(f, "resolved_scenario", resolved_);  // identifies the run if it has to resume
    {
        Handle g(group(f, "time"), H5Gclose);
        std::vector<std::int32_t> step(w.n_steps + 1);
        std::vector<double> day(w.n_steps + 1);
        for (std::uint32_t s = 0; s <= w.n_steps; ++s) {
            step[s] = static_cast<std::int32_t>(s);
            day[s] = s * w.step_days;
        }
        dataset(g, "step", H5T_NATIVE_INT32, step.data(), {step.size()}, 0, "steps", "Step number (0: baseline)");
        dataset(g, "day", H5T_NATIVE_DOUBLE, day.data(), {day.size()}, 0, "days", "Days since the start of the run");
        attr_number(g, "years", scenario_.params.real("time.years"));
        attr_number(g, "step_days", w.step_days);
        attr_int(g, "n_steps", w.n_steps);
    }
    {
        Handle g(group(f, "dimensions"), H5Gclose);
        std::string order;
        for (const auto& d : w.dims) {
            strings(g, d.name, d.levels);
            Handle ds(ok(H5Dopen2(g, d.name.c_str(), H5P_DEFAULT), "open dimension"), H5Dclose);
            attr_string(ds, "label", d.label);
            order += (order.empty() ? "" : ",") + d.name;
        }
        attr_string(g, "order", order);
    }
    n_steps_ = w.n_steps;
    n_groups_ = w.n_groups();
    group_dims_.clear();
    for (const auto& d : w.dims) group_dims_.push_back(std::max<std::size_t>(1, d.levels.size()));
    Handle g(group(f, "series"), H5Gclose);
    Handle national(group(g, "national"), H5Gclose);
    std::optional<Handle> grouped;
    if (grouped_) grouped.emplace(group(g, "grouped"), H5Gclose);
    for (const auto& spec : schema_.series()) {
        Handle nd(row_dataset(national, spec.name, H5T_NATIVE_DOUBLE, {replicates_, n_steps_ + 1}, compression_, spec), H5Dclose);
        if (!spec.grouped || !grouped_) continue;
        std::vector<hsize_t> dims{replicates_, n_steps_ + 1};
        dims.insert(dims.end(), group_dims_.begin(), group_dims_.end());
        Handle gd(row_dataset(*grouped, spec.name, H5T_NATIVE_DOUBLE, dims, compression_, spec), H5Dclose);
    }
    if (!schema_.metrics().empty()) {
        Handle mg(group(f, "metrics"), H5Gclose);
        for (const auto& m : schema_.metrics()) {
            const std::vector<double> nan(replicates_, std::numeric_limits<double>::quiet_NaN());
            dataset(mg, m.name, H5T_NATIVE_DOUBLE, nan.data(), {replicates_}, 0, m.unit, m.label);
        }
    }
    Handle rg(group(f, "replicates"), H5Gclose);
    const std::vector<std::uint8_t> zeros(replicates_, 0);
    dataset(rg, "done", H5T_NATIVE_UINT8, zeros.data(), {replicates_}, 0, "", "1 once the replicate's results are written");
    std::vector<double> nan(replicates_, std::numeric_limits<double>::quiet_NaN());
    dataset(rg, "wall_time_s", H5T_NATIVE_DOUBLE, nan.data(), {replicates_}, 0, "s", "Wall time of the replicate (setup and stepping)");
    has_header_ = true;
}

namespace {
/// Runs @p body; an HDF5 failure caused by the file system (full disk, size limit, I/O error)
/// is reported as such, naming the file.
template <class F> void file_system_errors(const std::string& file, F&& body) {
    errno = 0;
    try {
        body();
    } catch (const RunError& e) {
        const int err = errno;
        if (err == ENOSPC || err == EFBIG || err == EDQUOT || err == EIO || err == EROFS)
            throw RunError("cannot write '" + file + "': " + std::strerror(err) + " (" + e.what() + ")");
        throw;
    }
}
}  // namespace

void ResultsWriter::write(const Results& r) {
    std::lock_guard<std::mutex> lock(mutex_);
    file_system_errors(tmp_, [&] { write_locked(r); });
}

void ResultsWriter::write_locked(const Results& r) {
    const World& w = *r.world;
    const std::size_t rep = w.run;
    if (rep >= replicates_) throw std::logic_error("run out of range");
    if (!has_header_) header(w);
    const SeriesStore& st = w.series;
    std::vector<double> row;
    for (std::size_t s = 0; s < schema_.series().size(); ++s) {
        const SeriesSpec& spec = schema_.series()[s];
        row.assign(n_steps_ + 1, 0.0);
        for (std::size_t t = 0; t <= n_steps_; ++t) row[t] = st.value(schema_, t, s, SeriesStore::ALL);
        Handle nd(ok(H5Dopen2(file_, ("/series/national/" + spec.name).c_str(), H5P_DEFAULT), "open series"), H5Dclose);
        write_row(nd, rep, row.data(), "series " + spec.name);
        if (!spec.grouped || !grouped_) continue;
        row.assign((n_steps_ + 1) * n_groups_, 0.0);
        for (std::size_t t = 0; t <= n_steps_; ++t)
            for (std::size_t g = 0; g < n_groups_; ++g) row[t * n_groups_ + g] = st.value(schema_, t, s, g);
        Handle gd(ok(H5Dopen2(file_, ("/series/grouped/" + spec.name).c_str(), H5P_DEFAULT), "open series"), H5Dclose);
        write_row(gd, rep, row.data(), "series " + spec.name);
    }
    for (std::size_t m = 0; m < schema_.metrics().size(); ++m) {
        const std::string name = "/metrics/" + schema_.metrics()[m].name;
        Handle md(ok(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), "open " + name), H5Dclose);
        Handle space(ok(H5Dget_space(md), "get dataspace"), H5Sclose);
        const hsize_t at = rep, n = 1;
        H5Sselect_hyperslab(space, H5S_SELECT_SET, &at, nullptr, &n, nullptr);
        Handle mem(ok(H5Screate_simple(1, &n, nullptr), "create dataspace"), H5Sclose);
        ok(H5Dwrite(md, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &w.metrics[m]), "write " + name);
    }
    if (rep == 0) write_agents(file_, r, compression_);
    threads_ = r.threads;
    if (start_time_.empty()) {
        start_time_ = r.start_time;
        attr_string(file_, "start_time", start_time_);
    }
    // Marked done last, so a replicate is either complete in the file or marked not done.
    const std::uint8_t one = 1;
    const double wall = r.wall_seconds;
    Handle done(ok(H5Dopen2(file_, "/replicates/done", H5P_DEFAULT), "open /replicates/done"), H5Dclose);
    Handle times(ok(H5Dopen2(file_, "/replicates/wall_time_s", H5P_DEFAULT), "open /replicates/wall_time_s"), H5Dclose);
    const hsize_t at = rep, one_count = 1;
    Handle fs_done(ok(H5Dget_space(done), "get dataspace"), H5Sclose), fs_time(ok(H5Dget_space(times), "get dataspace"), H5Sclose);
    Handle mem(ok(H5Screate_simple(1, &one_count, nullptr), "create dataspace"), H5Sclose);
    H5Sselect_hyperslab(fs_time, H5S_SELECT_SET, &at, nullptr, &one_count, nullptr);
    ok(H5Dwrite(times, H5T_NATIVE_DOUBLE, mem, fs_time, H5P_DEFAULT, &wall), "write replicate time");
    H5Sselect_hyperslab(fs_done, H5S_SELECT_SET, &at, nullptr, &one_count, nullptr);
    ok(H5Dwrite(done, H5T_NATIVE_UINT8, mem, fs_done, H5P_DEFAULT, &one), "write replicate flag");
    ok(H5Fflush(file_, H5F_SCOPE_LOCAL), "flush '" + tmp_ + "'");
    done_[rep] = true;
}

void ResultsWriter::finish(double wall_seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    file_system_errors(tmp_, [&] { finish_locked(wall_seconds); });
}

void ResultsWriter::finish_locked(double wall_seconds) {
    if (!has_header_) throw std::logic_error("finish() before any replicate was written");
    if (done_count_locked() != replicates_) throw std::logic_error("finish() before every replicate was written");
    const hid_t f = file_;
    {
        Handle g(group(f, "provenance"), H5Gclose);
        const Scenario& sc = scenario_;
        attr_string(g, "scenario_name", sc.name);
        attr_string(g, "scenario_description", sc.description);
        attr_string(g, "scenario_file", sc.path);
        std::string chain;
        for (const auto& c : sc.chain) chain += (chain.empty() ? "" : " -> ") + c;  // base -> ... -> the given file
        attr_string(g, "scenario_chain", chain);
        attr_int(g, "seed", sc.params.integer("seed"));
        attr_int(g, "replicates", static_cast<long long>(replicates_));
        attr_int(g, "threads", threads_);
        attr_string(g, "start_time", start_time_);
        attr_number(g, "wall_time_s", wall_seconds);
        attr_string(g, "therasim_version", VERSION);
        attr_string(g, "git_commit", GIT_COMMIT);
        strings(g, "scenario_yaml", {sc.resolved_yaml(schema_)});
    }
    if (scenario_.sweep) write_sweep(f, *scenario_.sweep, static_cast<std::size_t>(scenario_.params.integer("replicates")));
    // Summaries across replicates: mean and the 2.5%, 50% and 97.5% quantiles, per step (and group).
    Handle sg(group(f, "summary"), H5Gclose);
    attr_string(sg, "statistics", "mean,q025,q50,q975");
    for (const char* kind : {"national", "grouped"}) {
        if (!grouped_ && std::string(kind) == "grouped") continue;
        Handle out(group(sg, kind), H5Gclose);
        for (const auto& spec : schema_.series()) {
            const bool grouped = std::string(kind) == "grouped";
            if (grouped && !spec.grouped) continue;
            const std::string src = std::string("/series/") + kind + "/" + spec.name;
            Handle ds(ok(H5Dopen2(f, src.c_str(), H5P_DEFAULT), "open " + src), H5Dclose);
            const std::size_t cells = (n_steps_ + 1) * (grouped ? n_groups_ : 1);
            std::vector<double> all(replicates_ * cells);
            ok(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()), "read " + src);
            std::vector<double> stats(4 * cells), x;
            for (std::size_t c = 0; c < cells; ++c) {
                x.clear();
                for (std::size_t rep = 0; rep < replicates_; ++rep)
                    if (!std::isnan(all[rep * cells + c])) x.push_back(all[rep * cells + c]);
                std::sort(x.begin(), x.end());
                double sum = 0;
                for (double v : x) sum += v;
                stats[c] = x.empty() ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(x.size());
                stats[cells + c] = quantile(x, 0.025);
                stats[2 * cells + c] = quantile(x, 0.5);
                stats[3 * cells + c] = quantile(x, 0.975);
            }
            std::vector<hsize_t> dims{4, n_steps_ + 1};
            if (grouped) dims.insert(dims.end(), group_dims_.begin(), group_dims_.end());
            dataset(out, spec.name, H5T_NATIVE_DOUBLE, stats.data(), dims, compression_, spec.unit, spec.label);
        }
    }
    if (!schema_.metrics().empty()) {
        Handle out(group(sg, "metrics"), H5Gclose);
        for (const auto& m : schema_.metrics()) {
            const std::string src = "/metrics/" + m.name;
            Handle ds(ok(H5Dopen2(f, src.c_str(), H5P_DEFAULT), "open " + src), H5Dclose);
            std::vector<double> all(replicates_), x;
            ok(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()), "read " + src);
            for (double v : all)
                if (!std::isnan(v)) x.push_back(v);
            std::sort(x.begin(), x.end());
            double sum = 0;
            for (double v : x) sum += v;
            const double stats[4] = {x.empty() ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(x.size()),
                                     quantile(x, 0.025), quantile(x, 0.5), quantile(x, 0.975)};
            dataset(out, m.name, H5T_NATIVE_DOUBLE, stats, {4}, 0, m.unit, m.label);
        }
    }
    // Written last: a reader that finds complete == 1 knows every dataset is there.
    attr_int(f, "complete", 1);
    ok(H5Fflush(f, H5F_SCOPE_GLOBAL), "flush '" + tmp_ + "'");
    const herr_t closed = H5Fclose(file_);
    file_ = -1;
    if (closed < 0) {
        std::remove(tmp_.c_str());
        throw RunError("HDF5: cannot close '" + tmp_ + "'");
    }
    std::error_code ec;
    fs::rename(tmp_, path_, ec);
    if (ec) {
        std::remove(tmp_.c_str());
        throw RunError("cannot rename '" + tmp_ + "' to '" + path_ + "': " + ec.message());
    }
}

void write_results(const std::string& path, const Schema& schema, const Scenario& sc, const Results& r, const Model&) {
    ResultsWriter w(path, schema, sc);
    w.write(r);
    w.finish(r.wall_seconds);
}

// ---- reading -----------------------------------------------------------------------------


ResultsFile::ResultsFile(const std::string& path) : file_(-1), path_(path) {
    silence_hdf5();
    std::error_code ec;
    if (fs::path(path).filename().string().find(".partial-") != std::string::npos)
        throw RunError("'" + path + "' is the partial file of an unfinished run, not a result");
    if (!fs::is_regular_file(path, ec)) throw RunError("'" + path + "' is not a file");
    file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file_ < 0) throw RunError("'" + path + "' is not an HDF5 file");
    try {
        if (H5Aexists(file_, "format") <= 0 || read_string_attr(file_, "format") != "therasim results")
            throw RunError("'" + path + "' is not a therasim results file");
        const long long v = read_int_attr(file_, "schema_version");
        if (v != OUTPUT_SCHEMA_VERSION)
            throw RunError("'" + path + "' has output schema version " + std::to_string(v) + "; this therasim reads version " +
                           std::to_string(OUTPUT_SCHEMA_VERSION));
        if (H5Aexists(file_, "complete") <= 0 || read_int_attr(file_, "complete") != 1)
            throw RunError("'" + path + "' is incomplete (the run that wrote it did not finish)");
    } catch (...) {
        H5Fclose(file_);
        throw;
    }
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
        char buf[256];
        H5Gget_objname_by_idx(g, i, buf, sizeof buf);
        out.emplace_back(buf);
    }
    return out;
}

std::string ResultsFile::text_attribute(const std::string& object, const std::string& attr) const {
    if (H5Lexists(file_, object.c_str(), H5P_DEFAULT) <= 0) return "";
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

}  // namespace sim
