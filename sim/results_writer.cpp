// The results writer. Each finished run goes to its own part file in a work directory beside
// the output (OUT.partial-run/run-RRRRRRRR-HASH.h5, HASH the 64-bit hash of the part's bytes),
// written under a temporary name and renamed when whole, so a part under its final name is a
// complete run and a rerun can verify it. finish() assembles the parts into OUT.partial-run/
// result.h5 (with the assembly a merge of shards uses too: assembly.hpp), flushes it, moves it to OUT without replacing anything that appeared meanwhile
// (unless --overwrite), and only then removes the work directory. A lock file in the work
// directory keeps a second run off the same output. The layout is in docs/output.md; the design
// and the faults it is tested against are in docs/hardening.md.
#include "sim/h5.hpp"

#include "sim/assembly.hpp"
#include "sim/errors.hpp"
#include "sim/files.hpp"
#include "sim/h5_detail.hpp"
#include "sim/version.hpp"

#include <hdf5.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace sim {
namespace fs = std::filesystem;
using namespace h5;

namespace {

constexpr const char* PART_FORMAT = "therasim run part";
constexpr int PART_FORMAT_VERSION = 1;
constexpr const char* MANIFEST = "scenario.yaml";
constexpr const char* LOCK = "lock";
constexpr const char* RESULT = "result.h5";

void write_agents(hid_t f, const Results& r, int compression) {
    const World& w = *r.world;
    Handle g(group(f, "agents"), H5Gclose);
    attr_int(g, "replicate", w.rng.replicate());
    attr_int(g, "run", w.run);
    for (const auto& t : w.tables()) {
        Handle ag(group(g, t.name()), H5Gclose);
        attr_string(ag, "label", t.spec().label);
        attr_int(ag, "count", static_cast<long long>(t.size()));
        // The final state is written from the table's own columns (a copy would add their size
        // to the run's peak memory).
        std::vector<std::size_t> columns;
        std::vector<const Column*> data;
        for (std::size_t c = 0; c < t.spec().attributes.size(); ++c)
            if (t.spec().attributes[c].output != Output::none) {
                columns.push_back(c);
                data.push_back(&t.column_at(c));
            }
        Handle fg(group(ag, "final"), H5Gclose);
        write_columns(fg, t.spec(), columns, data, compression);
        for (const auto& b : r.baseline) {
            if (b.agent != t.name()) continue;
            std::vector<const Column*> baseline;
            for (const auto& column : b.data) baseline.push_back(&column);
            Handle bg(group(ag, "baseline"), H5Gclose);
            write_columns(bg, t.spec(), b.columns, baseline, compression);
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
    std::vector<std::vector<float>> values(nc, std::vector<float>(nt * k));
    std::vector<PendingDataset> batch;
    for (std::size_t c = 0; c < nc; ++c) {
        std::vector<float>& v = values[c];
        for (std::size_t t = 0; t < nt; ++t)
            for (std::size_t i = 0; i < k; ++i) v[t * k + i] = tr.values[(t * nc + c) * k + i];
        const AttributeSpec& a = w.tables()[tr.columns[c].table].spec().attributes[tr.columns[c].attribute];
        const bool taken = H5Lexists(tg, a.name.c_str(), H5P_DEFAULT) > 0 ||
                           std::any_of(batch.begin(), batch.end(), [&](const PendingDataset& b) { return b.name == a.name; });
        if (taken) throw RunError("two traced attributes are both named " + a.name);
        batch.push_back({tg, a.name, H5T_NATIVE_FLOAT, v.data(), {nt, k}, compression, a.unit, a.label, true});
    }
    datasets(batch);
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
    std::vector<std::string> dists;
    for (const auto& p : s.parameters) dists.push_back(s.design == "psa" ? p.dist.text() : "uniform(lower, upper)");
    strings(g, "distribution", dists);
    dataset(g, "lower", H5T_NATIVE_DOUBLE, lower.data(), {k}, 0, "", "Lower end of each parameter's range");
    dataset(g, "upper", H5T_NATIVE_DOUBLE, upper.data(), {k}, 0, "", "Upper end of each parameter's range");
    dataset(g, "integer", H5T_NATIVE_UINT8, integer.data(), {k}, 0, "", "1 if the parameter is an integer (values rounded)");
    dataset(g, "unit_points", H5T_NATIVE_DOUBLE, s.unit.data(), {points, k}, 0, "", "Design points in the unit cube");
    dataset(g, "values", H5T_NATIVE_DOUBLE, values.data(), {points, k}, 0, "", "Parameter values of each design point");
    dataset(g, "role", H5T_NATIVE_INT32, s.role.data(), {points}, 0, "",
            "saltelli: 0 = A, 1 = B, 2 + i = A with parameter i from B; morris: parameter changed from the previous point (-1: first); "
            "psa: 0 = intervention, 1 = comparator");
    dataset(g, "sample", H5T_NATIVE_INT32, s.sample.data(), {points}, 0, "", "saltelli: base sample; morris: trajectory; psa: the draw; else the point");
    std::vector<std::int32_t> point(points * reps), replicate(points * reps);
    for (std::size_t r = 0; r < points * reps; ++r) {
        point[r] = static_cast<std::int32_t>(r / reps);
        replicate[r] = static_cast<std::int32_t>(r % reps);
    }
    dataset(g, "point", H5T_NATIVE_INT32, point.data(), {point.size()}, 0, "", "Design point of each run");
    dataset(g, "replicate", H5T_NATIVE_INT32, replicate.data(), {replicate.size()}, 0, "", "Replicate (random-number key) of each run");
}

/// The time axis and the grouping dimensions of a run, written to every part and copied from
/// run 0's part into the results file.
void write_axes(hid_t f, const World& w, double years) {
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
        attr_number(g, "years", years);
        attr_number(g, "step_days", w.step_days);
        attr_int(g, "n_steps", w.n_steps);
    }
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

/// Size of each grouping dimension, from /dimensions of an open file.
std::vector<std::size_t> group_dims_of(hid_t f) {
    std::vector<std::size_t> dims;
    Handle g(ok(H5Gopen2(f, "/dimensions", H5P_DEFAULT), "open /dimensions"), H5Gclose);
    const std::string order = read_string_attr(g, "order");
    for (std::size_t pos = 0; !order.empty();) {
        const std::size_t comma = order.find(',', pos);
        const std::string name = order.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (H5Lexists(g, name.c_str(), H5P_DEFAULT) <= 0) throw RunError("dimension " + name + " is missing");
        Handle ds(ok(H5Dopen2(g, name.c_str(), H5P_DEFAULT), "open dimension " + name), H5Dclose);
        const auto s = shape(ds);
        if (s.size() != 1) throw RunError("dimension " + name + " is not a list");
        dims.push_back(std::max<std::size_t>(1, static_cast<std::size_t>(s[0])));
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return dims;
}

/// A file the writer creates: built in memory (HDF5's core driver, no backing store) and then
/// written out from the driver's own buffer in a few large writes. A failed write never leaves
/// HDF5 holding a file it cannot close, and the hash is taken of the bytes written. The buffer
/// is allocated through file-image callbacks so that it can be written without a copy, in
/// whole pages (files::PageBuffer) so that the result can be written past the page cache.
class MemoryFile {
public:
    MemoryFile() : fapl_(ok(H5Pcreate(H5P_FILE_ACCESS), "create file access properties"), H5Pclose) {
        if (H5Pset_fapl_core(fapl_, 4u << 20, 0) < 0) throw RunError("HDF5: cannot select the in-memory file driver");
        H5FD_file_image_callbacks_t cb{};
        cb.image_malloc = [](size_t size, H5FD_file_image_op_t, void* u) -> void* {
            return static_cast<Buffer*>(u)->set(files::PageBuffer::allocate(size), size);
        };
        cb.image_memcpy = [](void* dest, const void* src, size_t size, H5FD_file_image_op_t, void*) -> void* {
            return std::memcpy(dest, src, size);
        };
        cb.image_realloc = [](void* ptr, size_t size, H5FD_file_image_op_t, void* u) -> void* {
            return static_cast<Buffer*>(u)->set(files::PageBuffer::reallocate(ptr, size), size);
        };
        cb.image_free = [](void* ptr, H5FD_file_image_op_t, void* u) -> herr_t {
            auto* b = static_cast<Buffer*>(u);
            if (b->ptr == ptr && b->keep) return 0;  // kept: take() hands it over
            if (b->ptr == ptr) b->set(nullptr, 0);
            files::PageBuffer::release(ptr);
            return 0;
        };
        cb.udata_copy = [](void* u) -> void* { return u; };  // one buffer record, owned here
        cb.udata_free = [](void*) -> herr_t { return 0; };
        cb.udata = &buffer_;
        if (H5Pset_file_image_callbacks(fapl_, &cb) < 0) throw RunError("HDF5: cannot set the in-memory file's callbacks");
    }
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;

    /// Creates the in-memory file (the caller closes it); @p name is only its label.
    hid_t create(const std::string& name) { return ok(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl_), "create '" + name + "'"); }

    /// What is written: a run's part is verified by its hash on resume, so it is hashed (while
    /// it is written) and not flushed to disk; the result is flushed to disk, and not hashed. A
    /// part kept in memory for the assembly (keep()) is written past the page cache.
    enum class Kind { part, result };

    /// From now on the file's image outlives the file: after it is closed, take() hands it over.
    void keep() { buffer_.keep = true; }
    /// After the file is closed: its image (files::PageBuffer memory the caller releases) and its
    /// length, or {nullptr, 0} if it was not kept or its bytes were not written out from it.
    [[nodiscard]] KeptImage take() {
        if (!buffer_.keep || !buffer_.ptr || !written_) return {};
        const KeptImage image{buffer_.ptr, buffer_.len};
        buffer_.set(nullptr, 0);
        return image;
    }
    ~MemoryFile() {
        if (buffer_.keep) files::PageBuffer::release(buffer_.ptr);  // kept, and not taken
    }

    /// Flushes @p f and writes its bytes to @p path.
    /// @return the hash of the bytes written (a part), or 0 (the result)
    std::uint64_t write_out(hid_t f, const std::string& path, Kind kind) {
        ok(H5Fflush(f, H5F_SCOPE_GLOBAL), "flush '" + path + "'");
        hsize_t size = 0;
        ok(H5Fget_filesize(f, &size), "get the size of '" + path + "'");
        std::string copy;
        const char* bytes = static_cast<const char*>(buffer_.ptr);
        if (!buffer_.ptr || size > buffer_.len) {
            // The driver did not allocate through the callbacks: copy the image out.
            const ssize_t n = H5Fget_file_image(f, nullptr, 0);
            if (n < 0) throw RunError("HDF5: cannot get the image of '" + path + "'");
            copy.assign(static_cast<std::size_t>(n), '\0');
            if (H5Fget_file_image(f, copy.data(), copy.size()) != n) throw RunError("HDF5: cannot copy the image of '" + path + "'");
            bytes = copy.data();
            size = copy.size();
        }
        const auto n = static_cast<std::size_t>(size);
        written_ = bytes == buffer_.ptr;
        if (kind == Kind::result) {
            files::write_file(path, bytes, n, true);
            return 0;
        }
        std::uint64_t hash = 0;
        const bool direct = buffer_.keep;  // the assembly reads the image, not the file
        tbb::parallel_invoke([&] { files::write_file(path, bytes, n, false, direct); }, [&] { hash = files::hash_bytes(bytes, n); });
        return hash;
    }

private:
    struct Buffer {
        void* ptr = nullptr;
        std::size_t len = 0;
        bool keep = false;
        void* set(void* p, std::size_t n) {
            if (p || n == 0) ptr = p, len = p ? n : 0;
            return p;
        }
    };
    Buffer buffer_;
    bool written_ = false;  // write_out wrote the file from buffer_ (not from a copy)
    Handle fapl_;
};

std::string part_prefix(std::size_t run) {
    char s[32];
    std::snprintf(s, sizeof s, "run-%08zu", run);
    return s;
}

/// Parses "run-RRRRRRRR-HHHHHHHHHHHHHHHH.h5". @return false if @p name is not a part's name
bool parse_part_name(const std::string& name, std::size_t* run, std::uint64_t* hash) {
    if (name.size() != 4 + 8 + 1 + 16 + 3 || name.rfind("run-", 0) != 0 || name[12] != '-' || name.substr(29) != ".h5") return false;
    for (std::size_t i = 4; i < 29; ++i)
        if (i != 12 && !std::isxdigit(static_cast<unsigned char>(name[i]))) return false;
    for (std::size_t i = 4; i < 12; ++i)
        if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
    *run = std::stoull(name.substr(4, 8));
    *hash = std::stoull(name.substr(13, 16), nullptr, 16);
    return true;
}

}  // namespace

void check_output_path(const std::string& path, bool overwrite, const std::vector<std::string>& inputs) {
    if (path.empty()) throw UsageError("no output file given (-o FILE)");
    for (const auto& in : inputs)
        if (files::same_file(path, in)) throw UsageError("output '" + path + "' is one of the inputs ('" + in + "'); give another -o");
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) throw UsageError("output '" + path + "' is a directory; give a file name");
        if (!S_ISREG(st.st_mode)) throw UsageError("output '" + path + "' exists and is not a regular file (a device, pipe or socket); give a file name");
        if (!overwrite) throw UsageError("output file '" + path + "' exists; pass --overwrite to replace it");
    }
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw UsageError("output directory '" + dir.string() + "' does not exist");
    if (access(dir.c_str(), W_OK) != 0) throw UsageError("output directory '" + dir.string() + "' is not writable");
}

ResultsWriter::ResultsWriter(std::string path, const Schema& schema, const Scenario& scenario, bool overwrite,
                             std::optional<Shard> shard)
    : path_(std::move(path)), work_(path_ + ".partial-run"), schema_(schema), scenario_(scenario),
      replicates_(scenario.runs()), shard_(shard), runs_(shard.value_or(Shard{}).runs(replicates_)),
      compression_(static_cast<int>(scenario.params.integer("output.compression"))),
      grouped_(scenario.params.boolean("output.grouped")), overwrite_(overwrite),
      resolved_(scenario.resolved_yaml(schema)), parts_(replicates_) {
    silence_hdf5();
    manifest_ = std::string("therasim work directory (not a result: rerun the same command to finish it)\n") +
                "layout: " + std::to_string(PART_FORMAT_VERSION) + "\ngit_commit: " + GIT_COMMIT + "\nruns: " +
                std::to_string(replicates_) + (shard_ ? "\nshard: " + shard_->text() : std::string()) + "\n---\n" + resolved_;
    scenario_hash_ = files::hex(files::hash_bytes(resolved_));
    open_work_directory();
}

void ResultsWriter::open_work_directory() {
    struct stat st {};
    if (::lstat(work_.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            throw UsageError("'" + work_ + "' exists and is not the work directory of a run; move it away or delete it");
    } else if (::mkdir(work_.c_str(), 0755) != 0) {
        throw RunError("cannot create '" + work_ + "': " + std::strerror(errno));
    }
    if (!lock_.try_acquire(work_ + "/" + LOCK))
        throw UsageError("another therasim run is writing '" + path_ + "' (it holds " + work_ + "/" + LOCK +
                         "); wait for it to finish, or give another -o");
    const std::string manifest = work_ + "/" + MANIFEST;
    std::vector<std::string> names = files::list(work_);
    std::sort(names.begin(), names.end());
    const bool has_manifest = std::find(names.begin(), names.end(), MANIFEST) != names.end();
    if (has_manifest) {
        const std::string text = files::read_text(manifest);
        if (text != manifest_) {
            // The manifest's header lines ("key: value") up to the resolved scenario.
            const std::string head = text.substr(0, text.find("\n---\n"));
            const auto line = [&](const std::string& key, const char* absent) {
                const auto at = head.find("\n" + key + ": ");
                if (at == std::string::npos) return std::string(absent);
                const auto from = at + key.size() + 3;
                return head.substr(from, head.find('\n', from) - from);
            };
            const std::string built = line("git_commit", "?");
            if (built != GIT_COMMIT)
                throw UsageError("'" + work_ + "' holds an interrupted run written by another build of therasim (" + built +
                                 ", this is " + GIT_COMMIT + "); delete it to start afresh");
            const std::string theirs = line("shard", ""), ours = shard_ ? shard_->text() : "";
            if (theirs != ours)
                throw UsageError("'" + work_ + "' holds an interrupted run of " + (theirs.empty() ? "all the runs" : "shard " + theirs) +
                                 ", not of " + (ours.empty() ? "all the runs" : "shard " + ours) +
                                 "; rerun that command, or delete it to start afresh");
            throw UsageError("'" + work_ + "' holds an interrupted run of a different scenario or seed; delete it to start afresh");
        }
    }
    // What else may be there: parts (verified below), and what a killed run leaves half-written
    // (temporary files), which is removed. Anything else is not ours and is left alone.
    std::vector<std::string> candidates;
    for (const auto& n : names) {
        if (n == LOCK || n == MANIFEST) continue;
        const bool torn = n == RESULT || (n.size() > 4 && n.substr(n.size() - 4) == ".tmp");
        std::size_t run = 0;
        std::uint64_t hash = 0;
        if (torn) {
            ::unlink((work_ + "/" + n).c_str());
        } else if (parse_part_name(n, &run, &hash)) {
            candidates.push_back(n);
        } else {
            throw UsageError("'" + work_ + "' holds '" + n + "', which therasim did not write; it is left alone: move it away to resume");
        }
    }
    if (!has_manifest) {
        if (!candidates.empty())
            throw UsageError("'" + work_ + "' holds run parts but no " + MANIFEST + "; it is left alone: delete it to start afresh");
        files::write_atomically(manifest, manifest_);
        return;
    }
    // Every part is verified: the hash in its name against its bytes, then its run and scenario.
    // One that fails (damaged on disk, or torn by a crash of the machine) is removed and rerun.
    for (const auto& n : candidates) {
        std::size_t run = 0;
        std::uint64_t hash = 0;
        parse_part_name(n, &run, &hash);
        const std::string p = work_ + "/" + n;
        bool good = run < replicates_ && (!shard_ || shard_->holds(run)) && parts_[run].empty();
        try {
            good = good && files::hash_file(p) == hash && verify_part(p, run);
        } catch (const RunError&) {
            good = false;
        }
        if (good) {
            parts_[run] = n;
        } else {
            ::unlink(p.c_str());
            ++rejected_;
        }
    }
    resumed_ = true;
}

bool ResultsWriter::verify_part(const std::string& p, std::size_t run) const {
    const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return false;
    Handle file(f, H5Fclose);
    if (read_string_attr(f, "format") != PART_FORMAT || read_int_attr(f, "layout") != PART_FORMAT_VERSION ||
        read_int_attr(f, "run") != static_cast<long long>(run) || read_string_attr(f, "scenario_hash") != scenario_hash_ ||
        read_string_attr(f, "git_commit") != GIT_COMMIT)
        return false;
    // Every dataset the assembly reads, with the shapes it expects (this also reads the data).
    Handle time(ok(H5Gopen2(f, "/time", H5P_DEFAULT), "open /time"), H5Gclose);
    const auto steps = static_cast<hsize_t>(read_int_attr(time, "n_steps")) + 1;
    const std::vector<std::size_t> dims = group_dims_of(f);
    hsize_t groups = 1;
    for (auto d : dims) groups *= d;
    (void)read_doubles(f, "national", {schema_.series().size(), steps}, "national series");
    (void)read_doubles(f, "grouped", {grouped_series_count(schema_, grouped_), steps * groups}, "grouped series");
    (void)read_doubles(f, "metrics", {schema_.metrics().size()}, "metrics");
    (void)read_number_attr(f, "wall_time_s");
    (void)read_string_attr(f, "start_time");
    return run != 0 || H5Lexists(f, "/agents", H5P_DEFAULT) > 0;
}

ResultsWriter::~ResultsWriter() {
    files::PageBuffer::release(kept_.data);
    if (finished_) return;
    // Unfinished: the part being written and a half-assembled result are removed; finished
    // parts are kept for a rerun to resume. A directory with no finished run is removed.
    std::error_code ec;
    for (const auto& n : files::list(work_))
        if (n == RESULT || (n.size() > 4 && n.substr(n.size() - 4) == ".tmp")) ::unlink((work_ + "/" + n).c_str());
    if (done_count() == 0) {
        ::unlink((work_ + "/" + MANIFEST).c_str());
        lock_.release_and_remove();
        ::rmdir(work_.c_str());
    }
}

bool ResultsWriter::done(std::size_t run) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return !parts_.at(run).empty();
}

std::size_t ResultsWriter::done_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_count_locked();
}

std::size_t ResultsWriter::done_count_locked() const {
    return static_cast<std::size_t>(std::count_if(parts_.begin(), parts_.end(), [](const std::string& p) { return !p.empty(); }));
}

void ResultsWriter::write(const Results& r) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::size_t run = r.world->run;
    if (run >= replicates_ || (shard_ && !shard_->holds(run))) throw std::logic_error("run out of range");
    const std::string tmp = work_ + "/" + part_prefix(run) + ".h5.tmp";
    std::uint64_t hash = 0;
    file_system_errors(tmp, [&] { hash = write_part(r, tmp); });
    const std::string name = part_prefix(run) + "-" + files::hex(hash) + ".h5";
    if (std::rename(tmp.c_str(), (work_ + "/" + name).c_str()) != 0)
        throw RunError("cannot rename '" + tmp + "': " + std::strerror(errno));
    if (!parts_[run].empty() && parts_[run] != name) ::unlink((work_ + "/" + parts_[run]).c_str());  // a run written again
    parts_[run] = name;
    threads_ = r.threads;
}

std::uint64_t ResultsWriter::write_part(const Results& r, const std::string& tmp) {
    const World& w = *r.world;
    MemoryFile memory;
    // A writer of one run keeps its part (the agents' states: most of a national run's output)
    // in memory for the assembly, which then reads no file back.
    const bool keep = runs_.size() == 1 && w.run == 0;
    if (keep) memory.keep();
    std::uint64_t hash = 0;
    {
        const hid_t f = memory.create(tmp);
        Handle file(f, H5Fclose);
        attr_string(f, "format", PART_FORMAT);
        attr_int(f, "layout", PART_FORMAT_VERSION);
        attr_int(f, "run", w.run);
        attr_string(f, "scenario_hash", scenario_hash_);
        attr_string(f, "git_commit", GIT_COMMIT);
        attr_string(f, "start_time", r.start_time);
        attr_number(f, "wall_time_s", r.wall_seconds);
        attr_int(f, "threads", r.threads);
        write_axes(f, w, scenario_.params.real("time.years"));
        const SeriesStore& st = w.series;
        const std::size_t steps = w.n_steps + 1, groups = w.n_groups(), ns = schema_.series().size();
        std::vector<double> national(ns * steps), grouped;
        for (std::size_t s = 0; s < ns; ++s) {
            for (std::size_t t = 0; t < steps; ++t) national[s * steps + t] = st.value(schema_, t, s, SeriesStore::ALL);
            if (!grouped_ || !schema_.series()[s].grouped) continue;
            for (std::size_t t = 0; t < steps; ++t)
                for (std::size_t g = 0; g < groups; ++g) grouped.push_back(st.value(schema_, t, s, g));
        }
        dataset(f, "national", H5T_NATIVE_DOUBLE, national.data(), {ns, steps}, 0);
        dataset(f, "grouped", H5T_NATIVE_DOUBLE, grouped.data(), {grouped_series_count(schema_, grouped_), steps * groups}, 0);
        dataset(f, "metrics", H5T_NATIVE_DOUBLE, w.metrics.data(), {schema_.metrics().size()}, 0);
        if (w.run == 0) write_agents(f, r, compression_);
        hash = memory.write_out(f, tmp, MemoryFile::Kind::part);
    }  // closed: a kept image is this writer's now
    if (keep) {
        files::PageBuffer::release(kept_.data);
        kept_ = memory.take();
    }
    return hash;
}

namespace {

/// Opens the HDF5 file image @p image (read-only, in place: HDF5 neither copies nor frees it;
/// it must outlive the file). The callbacks hand HDF5 the image itself wherever it would
/// allocate and copy one (setting it on the property list, copying the list, opening the file)
/// and free nothing, as H5LTopen_file_image does with DONT_COPY and DONT_RELEASE (whose own
/// bookkeeping leaks). @p label names it in an error.
hid_t open_image_in_place(const KeptImage& image, const std::string& label) {
    Handle fapl(ok(H5Pcreate(H5P_FILE_ACCESS), "create file access properties"), H5Pclose);
    ok(H5Pset_fapl_core(fapl, 4u << 20, 0), "select the in-memory file driver");
    H5FD_file_image_callbacks_t cb{};
    cb.image_malloc = [](size_t size, H5FD_file_image_op_t, void* u) -> void* {
        const auto* im = static_cast<const KeptImage*>(u);
        return size <= im->size ? im->data : nullptr;
    };
    cb.image_memcpy = [](void* dest, const void* src, size_t size, H5FD_file_image_op_t, void*) -> void* {
        return dest == src ? dest : std::memcpy(dest, src, size);
    };
    cb.image_realloc = [](void*, size_t, H5FD_file_image_op_t, void*) -> void* { return nullptr; };  // read-only
    cb.image_free = [](void*, H5FD_file_image_op_t, void*) -> herr_t { return 0; };
    cb.udata_copy = [](void* u) -> void* { return u; };
    cb.udata_free = [](void*) -> herr_t { return 0; };
    cb.udata = const_cast<KeptImage*>(&image);
    ok(H5Pset_file_image_callbacks(fapl, &cb), "set the in-memory file's callbacks");
    ok(H5Pset_file_image(fapl, image.data, image.size), "hand '" + label + "' to HDF5");
    // The name must not be an existing file's: the core driver refuses an image under one.
    const std::string name = label + " (in memory)";
    return ok(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl), "open '" + name + "'");
}

/// The runs of a ResultsWriter, read from its part files.
class PartSource : public RunSource {
public:
    /// @p kept: run 0's part in memory (its data, or nullptr), as ResultsWriter::write_part kept it.
    PartSource(const std::string& work, const std::vector<std::string>& parts, const std::vector<std::size_t>& runs,
               const Schema& schema, bool grouped, KeptImage kept)
        : work_(work), parts_(parts), runs_(runs), schema_(schema), grouped_(grouped), kept_(kept) {}
    [[nodiscard]] std::size_t rows() const override { return runs_.size(); }
    [[nodiscard]] std::size_t run(std::size_t row) const override { return runs_[row]; }
    RunRow read(std::size_t row, std::size_t steps, std::size_t groups) override {
        const std::string p = path(row);
        Handle part(open(row), H5Fclose);
        RunRow out;
        out.national = read_doubles(part, "national", {schema_.series().size(), steps}, "national series of '" + p + "'");
        out.grouped = read_doubles(part, "grouped", {grouped_series_count(schema_, grouped_), steps * groups},
                                   "grouped series of '" + p + "'");
        out.metrics = read_doubles(part, "metrics", {schema_.metrics().size()}, "metrics of '" + p + "'");
        out.wall_time_s = read_number_attr(part, "wall_time_s");
        out.start_time = read_string_attr(part, "start_time");
        out.threads = static_cast<unsigned>(read_int_attr(part, "threads"));
        return out;
    }
    bool copy(std::size_t row, const char* name, hid_t dest) override {
        Handle part(open(row), H5Fclose);
        if (H5Lexists(part, name, H5P_DEFAULT) <= 0) return false;
        ok(H5Ocopy(part, name, dest, name, H5P_DEFAULT, H5P_DEFAULT), std::string("copy /") + name);
        return true;
    }

private:
    [[nodiscard]] std::string path(std::size_t row) const { return work_ + "/" + parts_[runs_[row]]; }
    /// Row @p row's part: the image in memory (open_image_in_place), or the file.
    [[nodiscard]] hid_t open(std::size_t row) const {
        const std::string p = path(row);
        if (runs_[row] == 0 && kept_.data) return open_image_in_place(kept_, p);
        return ok(H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open '" + p + "'");
    }
    const std::string& work_;
    const std::vector<std::string>& parts_;
    const std::vector<std::size_t>& runs_;
    const Schema& schema_;
    bool grouped_;
    KeptImage kept_;
};

void write_provenance(hid_t f, const Assembly& a, const std::string& start_time, unsigned threads, double wall_seconds) {
    Handle g(group(f, "provenance"), H5Gclose);
    const Provenance& p = a.provenance;
    attr_string(g, "scenario_name", p.scenario_name);
    attr_string(g, "scenario_description", p.scenario_description);
    attr_string(g, "scenario_file", p.scenario_file);
    attr_string(g, "scenario_chain", p.scenario_chain);
    attr_int(g, "seed", p.seed);
    attr_int(g, "replicates", static_cast<long long>(a.runs));
    attr_int(g, "threads", threads);
    attr_string(g, "start_time", start_time);
    attr_number(g, "wall_time_s", wall_seconds);
    attr_string(g, "therasim_version", VERSION);
    attr_string(g, "git_commit", GIT_COMMIT);
    if (!p.merged_shards.empty()) attr_string(g, "merged_shards", p.merged_shards);
    strings(g, "scenario_yaml", {a.resolved});
}

void write_summaries(hid_t f, const Assembly& a, std::size_t runs, std::size_t steps, const std::vector<std::size_t>& gdims,
                     std::size_t n_groups) {
    // Summaries across runs: mean and the 2.5%, 50% and 97.5% quantiles, per step (and group).
    const Schema& schema = *a.schema;
    Handle sg(group(f, "summary"), H5Gclose);
    attr_string(sg, "statistics", "mean,q025,q50,q975");
    auto summarise = [&](const std::vector<double>& all, std::size_t cells) {
        std::vector<double> stats(4 * cells), x;
        for (std::size_t c = 0; c < cells; ++c) {
            x.clear();
            for (std::size_t rep = 0; rep < runs; ++rep)
                if (!std::isnan(all[rep * cells + c])) x.push_back(all[rep * cells + c]);
            std::sort(x.begin(), x.end());
            double sum = 0;
            for (double v : x) sum += v;
            stats[c] = x.empty() ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(x.size());
            stats[cells + c] = quantile(x, 0.025);
            stats[2 * cells + c] = quantile(x, 0.5);
            stats[3 * cells + c] = quantile(x, 0.975);
        }
        return stats;
    };
    for (const bool grouped : {false, true}) {
        if (grouped && !a.grouped) continue;
        const std::string kind = grouped ? "grouped" : "national";
        Handle out(group(sg, kind), H5Gclose);
        std::vector<std::vector<double>> stats;
        std::vector<PendingDataset> batch;
        stats.reserve(schema.series().size());
        for (const auto& spec : schema.series()) {
            if (grouped && !spec.grouped) continue;
            const std::size_t cells = steps * (grouped ? n_groups : 1);
            std::vector<hsize_t> dims{4, steps}, src_dims{runs, steps};
            if (grouped) {
                dims.insert(dims.end(), gdims.begin(), gdims.end());
                src_dims.insert(src_dims.end(), gdims.begin(), gdims.end());
            }
            const std::string src = "/series/" + kind + "/" + spec.name;
            stats.push_back(summarise(read_doubles(f, src, src_dims, src), cells));
            batch.push_back({out, spec.name, H5T_NATIVE_DOUBLE, stats.back().data(), dims, a.compression, spec.unit, spec.label});
        }
        datasets(batch);
    }
    if (schema.metrics().empty()) return;
    Handle out(group(sg, "metrics"), H5Gclose);
    for (const auto& m : schema.metrics()) {
        const std::string src = "/metrics/" + m.name;
        const std::vector<double> stats = summarise(read_doubles(f, src, {runs}, src), 1);
        dataset(out, m.name, H5T_NATIVE_DOUBLE, stats.data(), {4}, 0, m.unit, m.label);
    }
}

}  // namespace

std::size_t h5::grouped_series_count(const Schema& schema, bool grouped) {
    if (!grouped) return 0;
    return static_cast<std::size_t>(
        std::count_if(schema.series().begin(), schema.series().end(), [](const SeriesSpec& s) { return s.grouped; }));
}

void ResultsWriter::finish(double wall_seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_count_locked() != runs_.size()) throw std::logic_error("finish() before every run was written");
    const std::string tmp = work_ + "/" + RESULT;
    Assembly a;
    a.schema = &schema_;
    a.compression = compression_;
    a.grouped = grouped_;
    a.resolved = resolved_;
    a.runs = replicates_;
    a.shard = shard_;
    const Scenario& sc = scenario_;
    a.provenance.scenario_name = sc.name;
    a.provenance.scenario_description = sc.description;
    a.provenance.scenario_file = sc.path;
    for (const auto& c : sc.chain) a.provenance.scenario_chain += (a.provenance.scenario_chain.empty() ? "" : " -> ") + c;  // base -> ... -> the given file
    a.provenance.seed = sc.params.integer("seed");
    a.provenance.threads = threads_;
    if (sc.sweep)
        a.write_sweep = [&](hid_t f) { write_sweep(f, *sc.sweep, static_cast<std::size_t>(sc.params.integer("replicates"))); };
    PartSource source(work_, parts_, runs_, schema_, grouped_, kept_);
    file_system_errors(tmp, [&] { assemble(tmp, a, source, wall_seconds); });
    if (!files::move_into_place(tmp, path_, overwrite_))
        throw RunError("output file '" + path_ + "' was created by something else while the run was going and is left as it is; "
                       "every run is kept in " + work_ + ": move that file away (or add --overwrite) and rerun the same command");
    // The result is in place: the parts are no longer needed.
    for (const auto& n : parts_)
        if (!n.empty()) ::unlink((work_ + "/" + n).c_str());
    ::unlink((work_ + "/" + MANIFEST).c_str());
    lock_.release_and_remove();
    ::rmdir(work_.c_str());
    finished_ = true;
}

void h5::assemble(const std::string& tmp, const Assembly& a, RunSource& source, double wall_seconds) {
    const Schema& schema = *a.schema;
    MemoryFile memory;
    const hid_t f = memory.create(tmp);
    Handle file(f, H5Fclose);
    const std::size_t rows = source.rows(), ns = schema.series().size(), nm = schema.metrics().size();
    attr_string(f, "format", a.shard ? SHARD_FORMAT : "therasim results");
    attr_int(f, "schema_version", OUTPUT_SCHEMA_VERSION);
    attr_string(f, "therasim_version", VERSION);
    attr_string(f, "git_commit", GIT_COMMIT);
    attr_int(f, "replicates", static_cast<long long>(rows));
    attr_string(f, "resolved_scenario", a.resolved);
    // Axes and the agents of run 0 are copied from its part as they are (compressed chunks are
    // not recompressed).
    std::size_t n_steps = 0, n_groups = 1;
    std::vector<std::size_t> gdims;
    for (const char* g : {"time", "dimensions"})
        if (!source.copy(0, g, f)) throw RunError(std::string("the first run has no /") + g);
    {
        Handle time(ok(H5Gopen2(f, "/time", H5P_DEFAULT), "open /time"), H5Gclose);
        n_steps = static_cast<std::size_t>(read_int_attr(time, "n_steps"));
        gdims = group_dims_of(f);
        for (auto d : gdims) n_groups *= d;
    }
    const std::size_t steps = n_steps + 1;
    std::vector<Handle> national, grouped;
    national.reserve(ns);
    grouped.reserve(ns);
    std::vector<int> grouped_index(ns, -1);
    {
        Handle g(group(f, "series"), H5Gclose);
        Handle ng(group(g, "national"), H5Gclose);
        std::optional<Handle> gg;
        if (a.grouped) gg.emplace(group(g, "grouped"), H5Gclose);
        for (std::size_t s = 0; s < ns; ++s) {
            const SeriesSpec& spec = schema.series()[s];
            national.emplace_back(row_dataset(ng, spec.name, H5T_NATIVE_DOUBLE, {rows, steps}, a.compression, spec), H5Dclose);
            if (!a.grouped || !spec.grouped) continue;
            std::vector<hsize_t> dims{rows, steps};
            dims.insert(dims.end(), gdims.begin(), gdims.end());
            grouped_index[s] = static_cast<int>(grouped.size());
            grouped.emplace_back(row_dataset(*gg, spec.name, H5T_NATIVE_DOUBLE, dims, a.compression, spec), H5Dclose);
        }
    }
    std::vector<double> metrics(rows * nm), wall(rows);
    std::string start_time = a.provenance.start_time;
    unsigned threads = a.provenance.threads;
    for (std::size_t r = 0; r < rows; ++r) {
        const RunRow row = source.read(r, steps, n_groups);
        for (std::size_t s = 0; s < ns; ++s) {
            write_row(national[s], r, row.national.data() + s * steps, "series " + schema.series()[s].name);
            if (grouped_index[s] >= 0) {
                const auto gi = static_cast<std::size_t>(grouped_index[s]);
                write_row(grouped[gi], r, row.grouped.data() + gi * steps * n_groups, "series " + schema.series()[s].name);
            }
        }
        std::copy(row.metrics.begin(), row.metrics.end(), metrics.begin() + static_cast<std::ptrdiff_t>(r * nm));
        wall[r] = row.wall_time_s;
        if (!row.start_time.empty() && (start_time.empty() || row.start_time < start_time)) start_time = row.start_time;
        if (threads == 0) threads = row.threads;
        if (source.run(r) == 0)
            for (const char* g : {"agents", "trajectories"}) (void)source.copy(r, g, f);
    }
    national.clear();
    grouped.clear();
    attr_string(f, "start_time", start_time);
    if (nm > 0) {
        Handle mg(group(f, "metrics"), H5Gclose);
        std::vector<double> column(rows);
        for (std::size_t m = 0; m < nm; ++m) {
            for (std::size_t r = 0; r < rows; ++r) column[r] = metrics[r * nm + m];
            dataset(mg, schema.metrics()[m].name, H5T_NATIVE_DOUBLE, column.data(), {rows}, 0, schema.metrics()[m].unit,
                    schema.metrics()[m].label);
        }
    }
    {
        Handle rg(group(f, "replicates"), H5Gclose);
        const std::vector<std::uint8_t> ones(rows, 1);
        dataset(rg, "done", H5T_NATIVE_UINT8, ones.data(), {rows}, 0, "", "1 once the replicate's results are written");
        dataset(rg, "wall_time_s", H5T_NATIVE_DOUBLE, wall.data(), {rows}, 0, "s", "Wall time of the replicate (setup and stepping)");
    }
    write_provenance(f, a, start_time, threads, wall_seconds);
    if (a.write_sweep) a.write_sweep(f);
    if (a.shard) {
        // A shard's file holds some of the runs: summaries over them would pass for the result's.
        Handle sg(group(f, "shard"), H5Gclose);
        attr_int(sg, "index", static_cast<long long>(a.shard->index));
        attr_int(sg, "count", static_cast<long long>(a.shard->count));
        attr_int(sg, "runs", static_cast<long long>(a.runs));
        std::vector<std::int64_t> run(rows);
        for (std::size_t r = 0; r < rows; ++r) run[r] = static_cast<std::int64_t>(source.run(r));
        dataset(sg, "run", H5T_NATIVE_INT64, run.data(), {rows}, 0, "", "Run of the whole result held in each row");
    } else {
        write_summaries(f, a, rows, steps, gdims, n_groups);
    }
    // Written last: a reader that finds complete == 1 knows every dataset is there.
    attr_int(f, "complete", 1);
    (void)memory.write_out(f, tmp, MemoryFile::Kind::result);
}

void write_results(const std::string& path, const Schema& schema, const Scenario& sc, const Results& r, const Model&,
                   bool overwrite) {
    ResultsWriter w(path, schema, sc, overwrite);
    w.write(r);
    w.finish(r.wall_seconds);
}

}  // namespace sim
