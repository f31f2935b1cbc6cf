// libFuzzer target for the results reader: a valid results file (a tiny run, written once) is
// damaged structurally by the input's bytes, then read through sim::ResultsFile the way
// `therasim compare` reads it. Bytes do not damage the file's bytes: HDF5's own parser is not
// what this project can fix, and byte flips mostly exercise it. They choose, op by op, an object
// or attribute of the file and what to do to it: delete it, replace a dataset with one of
// another rank, shape or type, replace an attribute with an array, a string or a number, or set
// an integer attribute to any value. A refusal (sim::RunError) is the expected outcome; anything
// else (a crash, another exception, a sanitizer report, a read past a buffer) is a finding.
// Built and run by tools/fuzz.sh; see docs/hardening.md.
#include "models/therasim_model.hpp"
#include "sim/errors.hpp"
#include "sim/h5.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

constexpr const char* SCENARIO = "seed: 3\ntime: {years: 0.1, burn_in_weeks: 0}\npopulation: {n_patients: 60}\nreplicates: 2\n"
                                 "structure:\n  team_size: 5\n  regions:\n    - {name: North, share: 1, n_trusts: 1}\n"
                                 "output: {trajectories: 3}\n";

/// The valid file's bytes and what is in it, made once.
struct Target {
    std::string dir, valid_bytes;
    std::vector<std::string> objects;                         ///< every group and dataset
    std::vector<std::pair<std::string, std::string>> attrs;   ///< (object, attribute name)
    Target() {
        char tmpl[] = "/tmp/therasim-fuzz-results-XXXXXX";
        dir = mkdtemp(tmpl);
        auto model = models::make_model();
        const sim::Schema schema = sim::make_schema(*model);
        const sim::Scenario sc = sim::load_scenario_text(schema, SCENARIO, "fuzz.yaml", {}, ".");
        sim::preflight(*model, sc);
        const std::string valid = dir + "/valid.h5";
        {
            sim::ResultsWriter w(valid, schema, sc);
            for (std::uint32_t r = 0; r < 2; ++r) {
                auto m = models::make_model();
                sim::RunOptions ro;
                ro.threads = 1;
                ro.replicate = ro.run = r;
                const auto res = sim::run(*m, schema, sc, ro);
                w.write(*res);
            }
            w.finish(0.0);
        }
        std::ifstream in(valid, std::ios::binary);
        valid_bytes.assign(std::istreambuf_iterator<char>(in), {});
        const hid_t f = H5Fopen(valid.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        objects.push_back("/");
        H5Lvisit(
            f, H5_INDEX_NAME, H5_ITER_INC,
            [](hid_t, const char* name, const H5L_info_t*, void* d) -> herr_t {
                static_cast<std::vector<std::string>*>(d)->push_back(std::string("/") + name);
                return 0;
            },
            &objects);
        for (const auto& o : objects) {
            const hid_t obj = H5Oopen(f, o.c_str(), H5P_DEFAULT);
            const int n = H5Aget_num_attrs(obj);
            for (int i = 0; i < n; ++i) {
                const hid_t a = H5Aopen_idx(obj, static_cast<unsigned>(i));
                char name[256] = {};
                H5Aget_name(a, sizeof name, name);
                attrs.emplace_back(o, name);
                H5Aclose(a);
            }
            H5Oclose(obj);
        }
        H5Fclose(f);
        std::remove(valid.c_str());
    }
};

/// Reads bytes of the input in order; zeros once it is used up.
struct Bytes {
    const std::uint8_t* p;
    std::size_t n;
    bool empty() const { return n == 0; }
    std::uint8_t next() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    std::int64_t number() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | next();
        return static_cast<std::int64_t>(v);
    }
};

void write_attr(hid_t obj, const char* name, Bytes& b) {
    const std::uint8_t kind = b.next() % 4;
    const hsize_t n = 1 + b.next() % 4;
    const hid_t space = kind == 3 ? H5Screate_simple(1, &n, nullptr) : H5Screate(H5S_SCALAR);
    if (kind == 2) {
        const hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        const hid_t a = H5Acreate2(obj, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
        const char* s = "x";
        H5Awrite(a, t, &s);
        H5Aclose(a);
        H5Tclose(t);
    } else {
        const hid_t t = kind == 1 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_LLONG;
        const hid_t a = H5Acreate2(obj, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
        long long v[4] = {b.number(), b.number(), b.number(), b.number()};
        H5Awrite(a, H5T_NATIVE_LLONG, v);
        H5Aclose(a);
    }
    H5Sclose(space);
}

void write_dataset(hid_t f, const std::string& path, Bytes& b) {
    const int rank = b.next() % 4;
    hsize_t dims[3] = {static_cast<hsize_t>(b.next() % 6), static_cast<hsize_t>(b.next() % 40),
                       static_cast<hsize_t>(b.next() % 4)};
    hsize_t total = 1;
    for (int i = 0; i < rank; ++i) total *= dims[i];
    const hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, nullptr);
    const bool text = b.next() % 5 == 0;
    hid_t t = H5T_NATIVE_DOUBLE;
    if (text) {
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
    }
    const hid_t ds = H5Dcreate2(f, path.c_str(), t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0 && !text) {
        std::vector<double> v(static_cast<std::size_t>(total), static_cast<double>(b.number() % 1000));
        if (!v.empty()) H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    }
    if (ds >= 0) H5Dclose(ds);
    if (text) H5Tclose(t);
    H5Sclose(space);
}

void damage(const Target& t, const std::string& path, Bytes b) {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return;
    for (int ops = 0; ops < 8 && !b.empty(); ++ops) {
        const std::uint8_t op = b.next() % 5;
        if (op <= 1) {  // an object: delete it, or replace it with a dataset of another shape
            const std::string& o = t.objects[b.next() % t.objects.size()];
            if (o == "/") continue;
            H5Ldelete(f, o.c_str(), H5P_DEFAULT);
            if (op == 1) write_dataset(f, o, b);
        } else {  // an attribute: delete it, replace it, or set it to a number
            const auto& [o, name] = t.attrs[(static_cast<std::size_t>(b.next()) << 8 | b.next()) % t.attrs.size()];
            if (H5Lexists(f, o.c_str(), H5P_DEFAULT) <= 0 && o != "/") continue;
            const hid_t obj = H5Oopen(f, o.c_str(), H5P_DEFAULT);
            if (obj < 0) continue;
            if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
            if (op == 3) write_attr(obj, name.c_str(), b);
            if (op == 4) {
                const long long v = b.number();
                const hid_t space = H5Screate(H5S_SCALAR);
                const hid_t a = H5Acreate2(obj, name.c_str(), H5T_NATIVE_LLONG, space, H5P_DEFAULT, H5P_DEFAULT);
                H5Awrite(a, H5T_NATIVE_LLONG, &v);
                H5Aclose(a);
                H5Sclose(space);
            }
            H5Oclose(obj);
        }
    }
    H5Fclose(f);
}

/// What `therasim compare` reads of one file.
void read_like_compare(const std::string& path) {
    const sim::ResultsFile f(path);
    (void)f.days();
    (void)f.replicates();
    for (const auto& name : f.national_series()) {
        (void)f.national(name);
        (void)f.national_replicates(name);
        (void)f.read_numbers("/summary/national/" + name);
        (void)f.text_attribute("/series/national/" + name, "label");
    }
    for (const auto& m : f.names("/summary/metrics")) (void)f.read_numbers("/summary/metrics/" + m);
    (void)f.provenance("scenario_name");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Target target;
    const std::string path = target.dir + "/damaged.h5";
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(target.valid_bytes.data(), static_cast<std::streamsize>(target.valid_bytes.size()));
    }
    damage(target, path, Bytes{data, size});
    try {
        read_like_compare(path);
    } catch (const sim::RunError&) {
        // A clean refusal naming the file: what a damaged file should get.
    }
    return 0;
}
