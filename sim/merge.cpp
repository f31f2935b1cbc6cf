// Shards and their merge. `therasim run --shard K/N` writes the runs r with r mod N == K to a
// shard's file (the results layout with only those rows, /shard saying which, no /summary);
// merge_shards() checks that the files are the N shards of one run and reads their rows, in run
// order, through the same assembly as a single process's finish() (assembly.hpp), so the merged
// file is that process's file. Recipes and the checks are in docs/cluster.md.
#include "sim/h5.hpp"

#include "sim/assembly.hpp"
#include "sim/errors.hpp"
#include "sim/files.hpp"
#include "sim/version.hpp"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <unistd.h>

namespace sim {
namespace fs = std::filesystem;
using namespace h5;

std::vector<std::size_t> Shard::runs(std::size_t total) const {
    std::vector<std::size_t> out;
    for (std::size_t r = index; r < total; r += count) out.push_back(r);
    return out;
}

Shard parse_shard(const std::string& text) {
    const auto bad = [&] {
        return UsageError("--shard expects K/N with 0 <= K < N (shard K of N, e.g. 0/4), got '" + text.substr(0, 40) + "'");
    };
    const auto slash = text.find('/');
    if (slash == std::string::npos) throw bad();
    auto number = [&](const std::string& s) {
        if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) throw bad();
        return static_cast<std::size_t>(std::stoul(s));
    };
    Shard s{number(text.substr(0, slash)), number(text.substr(slash + 1))};
    if (s.count == 0 || s.index >= s.count) throw bad();
    return s;
}

namespace {

/// An input of a merge, opened and checked to be a complete shard's file.
struct ShardFile {
    std::string path;
    std::unique_ptr<Handle> file;
    Shard shard;
    std::size_t runs = 0;  ///< runs of the whole result
    std::string resolved, version, commit, start_time;
    double wall_time_s = 0;
    unsigned threads = 0;
};

std::string quoted(const std::string& path) { return "'" + path + "'"; }

/// The first line where @p a and @p b differ, for saying how two scenarios differ.
std::string first_difference(const std::string& a, const std::string& b) {
    std::size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    const auto line = [&](const std::string& s) {
        const auto begin = s.rfind('\n', i == 0 ? 0 : i - 1);
        const auto from = begin == std::string::npos || i == 0 ? 0 : begin + 1;
        return s.substr(from, std::min<std::size_t>(60, s.find('\n', from) - from));
    };
    return "'" + line(a) + "' against '" + line(b) + "'";
}

ShardFile open_shard(const std::string& path) {
    ShardFile s;
    s.path = path;
    const fs::path p(path);
    std::error_code ec;
    if (p.parent_path().filename().string().find(".partial-") != std::string::npos)
        throw UsageError(quoted(path) + " is a part of an unfinished run (in its work directory " + p.parent_path().string() +
                         "); rerun that run's command to finish its file, then merge the file");
    if (!fs::is_regular_file(path, ec)) throw UsageError(quoted(path) + " is not a file");
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) throw UsageError(quoted(path) + " is not an HDF5 file (cut short, or not written by therasim)");
    s.file = std::make_unique<Handle>(f, H5Fclose);
    try {
        const std::string format = H5Aexists(f, "format") > 0 ? read_string_attr(f, "format") : "";
        if (format == "therasim results")
            throw UsageError(quoted(path) + " is a whole result (written without --shard), not a shard's file");
        if (format == "therasim run part")
            throw UsageError(quoted(path) + " is a part of an unfinished run; rerun that run's command to finish its file");
        if (format != SHARD_FORMAT) throw UsageError(quoted(path) + " is not a shard's file of therasim (format '" + format + "')");
        const long long layout = read_int_attr(f, "schema_version");
        if (layout != OUTPUT_SCHEMA_VERSION)
            throw UsageError(quoted(path) + " has results layout " + std::to_string(layout) + "; this therasim writes layout " +
                             std::to_string(OUTPUT_SCHEMA_VERSION));
        if (H5Aexists(f, "complete") <= 0 || read_int_attr(f, "complete") != 1)
            throw UsageError(quoted(path) + " is incomplete (the shard's run did not finish); rerun its command");
        s.version = read_string_attr(f, "therasim_version");
        s.commit = read_string_attr(f, "git_commit");
        s.resolved = read_string_attr(f, "resolved_scenario");
        Handle sg(ok(H5Gopen2(f, "/shard", H5P_DEFAULT), "open /shard"), H5Gclose);
        const long long index = read_int_attr(sg, "index"), count = read_int_attr(sg, "count"), runs = read_int_attr(sg, "runs");
        if (count < 1 || index < 0 || index >= count || runs < count)
            throw UsageError(quoted(path) + " says it is shard " + std::to_string(index) + " of " + std::to_string(count) + " of " +
                             std::to_string(runs) + " runs, which cannot be");
        s.shard = Shard{static_cast<std::size_t>(index), static_cast<std::size_t>(count)};
        s.runs = static_cast<std::size_t>(runs);
        const std::vector<std::size_t> want = s.shard.runs(s.runs);
        const std::vector<double> held = read_doubles(sg, "run", {want.size()}, "/shard/run");
        for (std::size_t i = 0; i < want.size(); ++i)
            if (held[i] != static_cast<double>(want[i]))
                throw UsageError(quoted(path) + " holds runs other than those of shard " + s.shard.text() + " (row " +
                                 std::to_string(i) + " is run " + std::to_string(static_cast<long long>(held[i])) + ")");
        if (read_int_attr(f, "replicates") != static_cast<long long>(want.size()))
            throw UsageError(quoted(path) + ": attribute replicates is not the shard's number of runs");
        Handle pg(ok(H5Gopen2(f, "/provenance", H5P_DEFAULT), "open /provenance"), H5Gclose);
        s.start_time = read_string_attr(pg, "start_time");
        s.wall_time_s = read_number_attr(pg, "wall_time_s");
        s.threads = static_cast<unsigned>(read_int_attr(pg, "threads"));
    } catch (const RunError& e) {
        throw UsageError(quoted(path) + ": " + e.what() + "; the file is damaged or was not written by therasim");
    }
    return s;
}

/// Refuses shards that are not exactly shards 0..N-1 of one run of one build.
void check_shards(const std::vector<ShardFile>& shards) {
    const ShardFile& a = shards.front();
    for (const ShardFile& b : shards) {
        if (b.version != a.version || b.commit != a.commit)
            throw UsageError(quoted(a.path) + " and " + quoted(b.path) + " were written by different builds of therasim (" +
                             a.version + " " + a.commit + ", " + b.version + " " + b.commit + "); rerun the shards with one build");
        if (b.resolved != a.resolved)
            throw UsageError(quoted(a.path) + " and " + quoted(b.path) + " are shards of different runs: their resolved scenarios differ (" +
                             first_difference(a.resolved, b.resolved) + ")");
        if (b.shard.count != a.shard.count)
            throw UsageError(quoted(a.path) + " is shard " + a.shard.text() + " and " + quoted(b.path) + " shard " + b.shard.text() +
                             ": the shards of a run are all K/N with the same N");
    }
    if (a.version != VERSION || a.commit != GIT_COMMIT)
        throw UsageError("the shards were written by therasim " + a.version + " (" + a.commit + "); this is " + VERSION + " (" +
                         GIT_COMMIT + "): merge with the build that ran them");
    std::vector<const ShardFile*> by_index(a.shard.count, nullptr);
    for (const ShardFile& s : shards) {
        if (by_index[s.shard.index])
            throw UsageError(quoted(by_index[s.shard.index]->path) + " and " + quoted(s.path) + " are both shard " + s.shard.text() +
                             " (overlapping shards)");
        by_index[s.shard.index] = &s;
    }
    std::string missing;
    for (std::size_t k = 0; k < by_index.size(); ++k)
        if (!by_index[k]) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
    if (!missing.empty())
        throw UsageError("shard" + std::string(missing.find(',') == std::string::npos ? " " : "s ") + missing + " of " +
                         std::to_string(a.shard.count) + " " + (missing.find(',') == std::string::npos ? "is" : "are") +
                         " missing: give every shard's file (run the missing ones with --shard K/" + std::to_string(a.shard.count) + ")");
}

/// The rows of the shards, in run order: run r is row r / N of shard r mod N.
class ShardSource : public RunSource {
public:
    ShardSource(const std::vector<const ShardFile*>& by_index, const Schema& schema, bool grouped)
        : shards_(by_index), schema_(schema), grouped_(grouped) {}
    [[nodiscard]] std::size_t rows() const override { return shards_.front()->runs; }
    [[nodiscard]] std::size_t run(std::size_t row) const override { return row; }
    RunRow read(std::size_t row, std::size_t steps, std::size_t groups) override {
        const ShardFile& s = *shards_[row % shards_.size()];
        const hsize_t local = row / shards_.size();
        RunRow out;
        out.national.reserve(schema_.series().size() * steps);
        out.grouped.reserve(grouped_series_count(schema_, grouped_) * steps * groups);
        for (const auto& spec : schema_.series()) {
            append(out.national, s, "/series/national/" + spec.name, local, steps);
            if (grouped_ && spec.grouped) append(out.grouped, s, "/series/grouped/" + spec.name, local, steps * groups);
        }
        for (const auto& m : schema_.metrics()) append(out.metrics, s, "/metrics/" + m.name, local, 1);
        std::vector<double> wall;
        append(wall, s, "/replicates/wall_time_s", local, 1);
        out.wall_time_s = wall[0];
        return out;
    }
    bool copy(std::size_t row, const char* name, hid_t dest) override {
        const hid_t f = *shards_[row % shards_.size()]->file;
        if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return false;
        ok(H5Ocopy(f, name, dest, name, H5P_DEFAULT, H5P_DEFAULT), std::string("copy /") + name);
        return true;
    }

private:
    /// Appends row @p row of dataset @p name of @p s, which must hold @p n values.
    static void append(std::vector<double>& out, const ShardFile& s, const std::string& name, hsize_t row, std::size_t n) {
        const std::string what = quoted(s.path) + " " + name;
        if (H5Lexists(*s.file, name.c_str(), H5P_DEFAULT) <= 0)
            throw UsageError(what + " is missing: the shard's results layout differs from this build's");
        Handle ds(ok(H5Dopen2(*s.file, name.c_str(), H5P_DEFAULT), "open " + what), H5Dclose);
        const std::vector<double> v = read_row(ds, row, what);
        if (v.size() != n)
            throw UsageError(what + " has " + std::to_string(v.size()) + " values per run, expected " + std::to_string(n) +
                             ": the shard's results layout differs from this build's");
        out.insert(out.end(), v.begin(), v.end());
    }
    const std::vector<const ShardFile*>& shards_;
    const Schema& schema_;
    bool grouped_;
};

}  // namespace

void merge_shards(const Schema& schema, const std::vector<std::string>& inputs, const std::string& path, bool overwrite) {
    silence_hdf5();
    if (inputs.empty()) throw UsageError("merge expects the shard files (PART...); see --help");
    check_output_path(path, overwrite, inputs);
    std::vector<ShardFile> shards;
    for (const auto& in : inputs) shards.push_back(open_shard(in));
    check_shards(shards);
    std::vector<const ShardFile*> by_index(shards.front().shard.count);
    for (const ShardFile& s : shards) by_index[s.shard.index] = &s;
    const ShardFile& first = *by_index.front();

    // The run's own settings, from its resolved scenario (read as a scenario, so checked too).
    const Scenario sc = load_scenario_text(schema, first.resolved, "the resolved scenario of " + quoted(first.path));
    if (sc.runs() != first.runs)
        throw UsageError(quoted(first.path) + " says the run has " + std::to_string(first.runs) + " runs; its scenario has " +
                         std::to_string(sc.runs()));
    Assembly a;
    a.schema = &schema;
    a.compression = static_cast<int>(sc.params.integer("output.compression"));
    a.grouped = sc.params.boolean("output.grouped");
    a.resolved = first.resolved;
    a.runs = first.runs;
    // Provenance as the shards recorded it: the scenario's file, chain and seed are the run's;
    // the start is the earliest shard's, the threads the most any shard had, the wall time
    // their sum (machine time), and each shard is listed.
    {
        Handle pg(ok(H5Gopen2(*first.file, "/provenance", H5P_DEFAULT), "open /provenance"), H5Gclose);
        Provenance& p = a.provenance;
        p.scenario_name = read_string_attr(pg, "scenario_name");
        p.scenario_description = read_string_attr(pg, "scenario_description");
        p.scenario_file = read_string_attr(pg, "scenario_file");
        p.scenario_chain = read_string_attr(pg, "scenario_chain");
        p.seed = read_int_attr(pg, "seed");
    }
    double wall = 0;
    for (const ShardFile* s : by_index) {
        Provenance& p = a.provenance;
        if (p.start_time.empty() || s->start_time < p.start_time) p.start_time = s->start_time;
        p.threads = std::max(p.threads, s->threads);
        wall += s->wall_time_s;
        if (!p.merged_shards.empty()) p.merged_shards += '\n';
        p.merged_shards.append(s->shard.text()).append(" ").append(fs::path(s->path).filename().string());
        p.merged_shards.append(" started ").append(s->start_time).append(", ").append(std::to_string(s->wall_time_s));
        p.merged_shards.append(" s on ").append(std::to_string(s->threads)).append(" threads");
    }
    if (H5Lexists(*first.file, "sweep", H5P_DEFAULT) > 0)
        a.write_sweep = [&](hid_t f) { ok(H5Ocopy(*first.file, "sweep", f, "sweep", H5P_DEFAULT, H5P_DEFAULT), "copy /sweep"); };
    else if (sc.sweep)
        throw UsageError(quoted(first.path) + " has no /sweep, but its scenario has a sweep");

    ShardSource source(by_index, schema, a.grouped);
    const std::string tmp = path + ".partial-merge-" + std::to_string(::getpid());
    try {
        file_system_errors(tmp, [&] { assemble(tmp, a, source, wall); });
        if (!files::move_into_place(tmp, path, overwrite))
            throw RunError("output file '" + path + "' was created by something else while the merge was going and is left as it is; "
                           "move it away (or add --overwrite) and merge again");
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
}

}  // namespace sim
