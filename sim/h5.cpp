#include "sim/h5.hpp"

#include "sim/errors.hpp"
#include "sim/version.hpp"

#include <hdf5.h>

#include <cmath>
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

void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

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

void write_all(hid_t f, const Schema& schema, const Scenario& sc, const Results& r, int compression) {
    const World& w = *r.world;
    attr_string(f, "format", "therasim results");
    attr_int(f, "schema_version", OUTPUT_SCHEMA_VERSION);
    attr_string(f, "therasim_version", VERSION);
    attr_string(f, "git_commit", GIT_COMMIT);

    {
        Handle g(group(f, "provenance"), H5Gclose);
        attr_string(g, "scenario_name", sc.name);
        attr_string(g, "scenario_description", sc.description);
        attr_string(g, "scenario_file", sc.path);
        std::string chain;
        for (const auto& c : sc.chain) chain += (chain.empty() ? "" : " -> ") + c;  // base -> ... -> the given file
        attr_string(g, "scenario_chain", chain);
        attr_int(g, "seed", sc.params.integer("seed"));
        attr_int(g, "replicate", w.rng.replicate());
        attr_int(g, "threads", r.threads);
        attr_string(g, "start_time", r.start_time);
        attr_number(g, "wall_time_s", r.wall_seconds);
        attr_number(g, "step_time_s", r.step_seconds);
        attr_string(g, "therasim_version", VERSION);
        attr_string(g, "git_commit", GIT_COMMIT);
        strings(g, "scenario_yaml", {sc.resolved_yaml(schema)});
    }
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
    {
        Handle g(group(f, "series"), H5Gclose);
        Handle grouped(group(g, "grouped"), H5Gclose);
        Handle national(group(g, "national"), H5Gclose);
        const SeriesStore& st = w.series;
        std::vector<hsize_t> dims{st.n_steps() + 1};
        for (const auto& d : w.dims) dims.push_back(std::max<std::size_t>(1, d.levels.size()));
        for (std::size_t s = 0; s < schema.series().size(); ++s) {
            const SeriesSpec& spec = schema.series()[s];
            std::vector<double> nat(st.n_steps() + 1);
            for (std::size_t t = 0; t <= st.n_steps(); ++t) nat[t] = st.value(schema, t, s, SeriesStore::ALL);
            dataset(national, spec.name, H5T_NATIVE_DOUBLE, nat.data(), {nat.size()}, compression, spec.unit, spec.label);
            {
                Handle ds(ok(H5Dopen2(national, spec.name.c_str(), H5P_DEFAULT), "open series"), H5Dclose);
                attr_string(ds, "stat", spec.stat == Stat::sum ? "sum" : "mean over " + spec.denominator);
                attr_string(ds, "kind", spec.kind == Kind::flow ? "flow" : "level");
                attr_int(ds, "headline", spec.headline ? 1 : 0);
            }
            if (!spec.grouped) continue;
            std::vector<double> v((st.n_steps() + 1) * st.n_groups());
            for (std::size_t t = 0; t <= st.n_steps(); ++t)
                for (std::size_t gi = 0; gi < st.n_groups(); ++gi) v[t * st.n_groups() + gi] = st.value(schema, t, s, gi);
            dataset(grouped, spec.name, H5T_NATIVE_DOUBLE, v.data(), dims, compression, spec.unit, spec.label);
            Handle ds(ok(H5Dopen2(grouped, spec.name.c_str(), H5P_DEFAULT), "open series"), H5Dclose);
            attr_string(ds, "stat", spec.stat == Stat::sum ? "sum" : "mean over " + spec.denominator);
            attr_string(ds, "kind", spec.kind == Kind::flow ? "flow" : "level");
        }
    }
    {
        Handle g(group(f, "agents"), H5Gclose);
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
    }
    const Trajectories& tr = r.trajectories;
    if (!tr.rows.empty() && !tr.columns.empty()) {
        Handle g(group(f, "trajectories"), H5Gclose);
        std::string agents;
        for (const auto& c : tr.columns) {
            const std::string& a = w.tables()[c.table].name();
            if (agents.find(a) == std::string::npos) agents += (agents.empty() ? "" : ",") + a;
        }
        attr_string(g, "agents", agents);
        dataset(g, "row", H5T_NATIVE_UINT32, tr.rows.data(), {tr.rows.size()}, 0, "", "Sampled row (the same id in every traced agent type)");
        const std::size_t k = tr.rows.size(), nc = tr.columns.size(), nt = tr.values.size() / (k * nc);
        for (std::size_t c = 0; c < nc; ++c) {
            std::vector<float> v(nt * k);
            for (std::size_t t = 0; t < nt; ++t)
                for (std::size_t i = 0; i < k; ++i) v[t * k + i] = tr.values[(t * nc + c) * k + i];
            const AttributeSpec& a = w.tables()[tr.columns[c].table].spec().attributes[tr.columns[c].attribute];
            if (H5Lexists(g, a.name.c_str(), H5P_DEFAULT) > 0)
                throw RunError("two traced attributes are both named " + a.name);
            dataset(g, a.name, H5T_NATIVE_FLOAT, v.data(), {nt, k}, compression, a.unit, a.label);
        }
    }
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

/// Writes @p bytes to a new file @p path (which must not exist) and syncs it to disk.
/// @throws RunError with the system's reason (no space, file too large, ...); nothing is left behind
void write_file_image(const std::string& path, const std::vector<unsigned char>& bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw RunError("cannot create '" + path + "': " + std::strerror(errno));
    std::size_t done = 0;
    int err = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            err = errno;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err != 0) {
        ::unlink(path.c_str());
        throw RunError("cannot write '" + path + "': " + std::strerror(err));
    }
}

}  // namespace

void write_results(const std::string& path, const Schema& schema, const Scenario& sc, const Results& r, const Model&) {
    silence_hdf5();
    // The file is built in memory (HDF5's core driver, no backing store) and then written with
    // ordinary checked writes, so that a full disk or a size limit is a clean error and HDF5
    // never holds a half-written file.
    std::vector<unsigned char> image;
    {
        Handle fapl(ok(H5Pcreate(H5P_FILE_ACCESS), "create file access list"), H5Pclose);
        ok(H5Pset_fapl_core(fapl, 16u << 20, 0), "select the in-memory driver");
        Handle f(ok(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "create the results in memory"), H5Fclose);
        write_all(f, schema, sc, r, static_cast<int>(sc.params.integer("output.compression")));
        // Written last: a reader that finds complete == 1 knows every dataset is there.
        attr_int(f, "complete", 1);
        ok(H5Fflush(f, H5F_SCOPE_GLOBAL), "flush the results");
        const ssize_t size = H5Fget_file_image(f, nullptr, 0);
        if (size <= 0) throw RunError("HDF5: cannot get the file image");
        image.resize(static_cast<std::size_t>(size));
        if (H5Fget_file_image(f, image.data(), image.size()) != size) throw RunError("HDF5: cannot copy the file image");
    }
    const std::string tmp = path + ".partial-" + std::to_string(getpid());
    write_file_image(tmp, image);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        throw RunError("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
    }
}

// ---- reading -----------------------------------------------------------------------------

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

ResultsFile::ResultsFile(const std::string& path) : file_(-1), path_(path) {
    silence_hdf5();
    std::error_code ec;
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

std::vector<std::string> ResultsFile::national_series() const {
    Handle g(ok(H5Gopen2(file_, "/series/national", H5P_DEFAULT), "open /series/national"), H5Gclose);
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
    d.values = read_numbers(path);
    Handle ds(ok(H5Dopen2(file_, path.c_str(), H5P_DEFAULT), "open " + path), H5Dclose);
    d.unit = H5Aexists(ds, "unit") > 0 ? read_string_attr(ds, "unit") : "";
    d.label = H5Aexists(ds, "label") > 0 ? read_string_attr(ds, "label") : "";
    d.flow = H5Aexists(ds, "kind") > 0 && read_string_attr(ds, "kind") == "flow";
    d.headline = H5Aexists(ds, "headline") > 0 && read_int_attr(ds, "headline") == 1;
    return d;
}

std::vector<double> ResultsFile::days() const { return read_numbers("/time/day"); }

std::string ResultsFile::provenance(const std::string& attr) const {
    Handle g(ok(H5Gopen2(file_, "/provenance", H5P_DEFAULT), "open /provenance"), H5Gclose);
    return read_string_attr(g, attr.c_str());
}

}  // namespace sim
