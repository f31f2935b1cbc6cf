#include "sim/h5_detail.hpp"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>

namespace sim::h5 {

hid_t ok(hid_t id, const std::string& what) {
    if (id < 0) throw RunError("HDF5: cannot " + what);
    return id;
}

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

namespace {

/// Elements per chunk of a compressed dataset: about 64k, along the first dimension.
constexpr hsize_t CHUNK_ELEMENTS = 65536;
/// A batch compresses about this many bytes per thread at once (a few chunks each), so that its
/// compressed chunks stay a small part of the run's memory.
constexpr std::size_t BATCH_BYTES_PER_THREAD = std::size_t{1} << 20;

hsize_t elements(const std::vector<hsize_t>& dims) {
    hsize_t total = 1;
    for (auto d : dims) total *= d;
    return total;
}

/// The chunk shape of @p d: empty if it is stored contiguous and uncompressed (small, or
/// compression off, or a type the direct chunk path does not handle).
std::vector<hsize_t> chunk_shape(const PendingDataset& d) {
    const hsize_t total = elements(d.dims);
    if (d.compression <= 0 || total < 1024 || H5Tis_variable_str(d.mem_type) > 0) return {};
    std::vector<hsize_t> chunk = d.dims;
    const hsize_t rest = total / std::max<hsize_t>(1, d.dims[0]);
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(d.dims[0], CHUNK_ELEMENTS / std::max<hsize_t>(1, rest)));
    return chunk;
}

/// This thread's libdeflate compressor at @p level (1-9, as zlib's levels), made at its first use.
libdeflate_compressor* compressor(int level) {
    struct Free {
        void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
    };
    thread_local std::array<std::unique_ptr<libdeflate_compressor, Free>, 13> kept;
    auto& c = kept.at(static_cast<std::size_t>(std::clamp(level, 1, 12)));
    if (!c) c.reset(libdeflate_alloc_compressor(std::clamp(level, 1, 12)));
    if (!c) throw std::bad_alloc();
    return c.get();
}

/// Whether @p n bytes from @p p are not worth deflating: the order-0 entropy of the bytes and of
/// their differences from the byte before are both at least 7.2 bits (of 8), counted at every
/// fourth byte (16,384 of a 65,536-byte plane: the estimate's bias, about 0.01 bit, is far below
/// the margin). Deflate would then save at most about a tenth of them, and usually nothing: the
/// low byte planes of floating-point state measure 7.99 bits and deflate to 0.999 of their size at
/// level 1, so storing every such plane of the national run costs 1% of its file and saves more
/// than half of its compression time. Runs, small values and counters have one of the two
/// entropies lower.
/// Too few bytes to tell: worth deflating.
bool not_worth_deflating(const unsigned char* p, std::size_t n) {
    constexpr std::size_t STRIDE = 4;
    if (n < 16384 * STRIDE) return false;
    std::array<std::uint32_t, 256> bytes{}, steps{};
    std::size_t samples = 0;
    for (std::size_t i = STRIDE; i < n; i += STRIDE, ++samples) {
        ++bytes[p[i]];
        ++steps[static_cast<unsigned char>(p[i] - p[i - 1])];
    }
    const auto entropy = [samples](const std::array<std::uint32_t, 256>& count) {
        double sum = 0;  // sum of c log2 c
        for (const std::uint32_t c : count)
            if (c) sum += c * std::log2(static_cast<double>(c));
        return std::log2(static_cast<double>(samples)) - sum / static_cast<double>(samples);
    };
    return entropy(bytes) >= 7.2 && entropy(steps) >= 7.2;
}

/// Chunk @p k of dataset @p d, filtered as HDF5's shuffle and deflate filters would store it
/// (H5Z_filter_shuffle: byte planes of the elements, none for 1-byte elements; H5Z_filter_deflate:
/// a zlib stream, here made by libdeflate at the dataset's level). The last chunk along the
/// first axis is padded with zeros, the default fill value HDF5 pads edge chunks with.
///
/// Deflate is not spent on the noise of agents' values (PendingDataset::agent_values): the leading
/// byte planes not worth deflating (the low bytes of floating-point values come first) go into
/// the zlib stream as stored blocks, byte for byte, and only the planes after them are compressed,
/// as deflate blocks that follow in the same stream. Any zlib reader inflates it. National run:
/// the file 1% larger, libdeflate 0.8 to 0.36 s of CPU time.
std::vector<unsigned char> filtered_chunk(const PendingDataset& d, const std::vector<hsize_t>& chunk, hsize_t k) {
    const std::size_t size = H5Tget_size(d.mem_type);
    const hsize_t rest = elements(d.dims) / d.dims[0];
    const std::size_t n = static_cast<std::size_t>(elements(chunk));
    const hsize_t row0 = k * chunk[0], rows = std::min(chunk[0], d.dims[0] - row0);
    const auto* src = static_cast<const unsigned char*>(d.data) + static_cast<std::size_t>(row0 * rest) * size;
    const std::size_t used = static_cast<std::size_t>(rows * rest) * size;
    // Scratch of this thread, reused from chunk to chunk; the result is copied out at its size.
    thread_local std::vector<unsigned char> raw, packed;
    raw.assign(n * size, 0);
    const bool shuffled = size > 1 && n > 1;
    if (shuffled) {
        const std::size_t used_elements = used / size;
        for (std::size_t b = 0; b < size; ++b) {
            unsigned char* plane = raw.data() + b * n;
            for (std::size_t e = 0; e < used_elements; ++e) plane[e] = src[e * size + b];
        }
    } else {
        std::memcpy(raw.data(), src, used);
    }
    // The leading planes not worth deflating: stored as they are.
    const std::size_t plane_bytes = shuffled ? n : raw.size();
    std::size_t stored = 0;
    while (d.agent_values && stored < raw.size() && not_worth_deflating(raw.data() + stored, plane_bytes)) stored += plane_bytes;
    libdeflate_compressor* c = compressor(d.compression);
    if (stored == 0) {
        packed.resize(libdeflate_zlib_compress_bound(c, raw.size()));
        const std::size_t out_len = libdeflate_zlib_compress(c, raw.data(), raw.size(), packed.data(), packed.size());
        if (out_len == 0) throw RunError("libdeflate: cannot compress a chunk of dataset " + d.name);
        return {packed.begin(), packed.begin() + static_cast<std::ptrdiff_t>(out_len)};
    }
    // A zlib stream (RFC 1950) by hand: its header, stored deflate blocks of at most 65,535 bytes
    // (RFC 1951 3.2.4: a byte-aligned header byte, LEN and its complement), then the rest as
    // libdeflate's raw deflate blocks, which start byte-aligned and end with the final block,
    // then the Adler-32 of all the bytes.
    constexpr std::size_t STORED_MAX = 65535;
    const std::size_t tail = raw.size() - stored;
    const std::size_t n_stored_blocks = (stored + STORED_MAX - 1) / STORED_MAX;
    packed.resize(2 + stored + 5 * n_stored_blocks + (tail ? libdeflate_deflate_compress_bound(c, tail) : 0) + 4);
    unsigned char* out = packed.data();
    *out++ = 0x78;  // deflate, 32 KiB window
    *out++ = 0x01;  // fastest level, no dictionary; (0x78 << 8 | 0x01) is a multiple of 31
    for (std::size_t at = 0; at < stored; at += STORED_MAX) {
        const auto len = static_cast<std::uint16_t>(std::min(STORED_MAX, stored - at));
        const auto nlen = static_cast<std::uint16_t>(~len);
        const bool final = tail == 0 && at + len == stored;
        *out++ = final ? 0x01 : 0x00;  // BFINAL, BTYPE 00 (stored), then padding to the byte
        *out++ = static_cast<unsigned char>(len & 0xFF);
        *out++ = static_cast<unsigned char>(len >> 8);
        *out++ = static_cast<unsigned char>(nlen & 0xFF);
        *out++ = static_cast<unsigned char>(nlen >> 8);
        std::memcpy(out, raw.data() + at, len);
        out += len;
    }
    if (tail) {
        const std::size_t room = static_cast<std::size_t>(packed.data() + packed.size() - out) - 4;
        const std::size_t len = libdeflate_deflate_compress(c, raw.data() + stored, tail, out, room);
        if (len == 0) throw RunError("libdeflate: cannot compress a chunk of dataset " + d.name);
        out += len;
    }
    const std::uint32_t adler = libdeflate_adler32(1, raw.data(), raw.size());
    for (int shift = 24; shift >= 0; shift -= 8) *out++ = static_cast<unsigned char>(adler >> shift);
    return {packed.data(), out};
}

/// Creates and writes dataset @p d; @p chunks are its filtered chunks if it is chunked.
void write_dataset(const PendingDataset& d, const std::vector<hsize_t>& chunk, const std::vector<std::vector<unsigned char>>* chunks) {
    Handle space(ok(H5Screate_simple(static_cast<int>(d.dims.size()), d.dims.data(), nullptr), "create dataspace"), H5Sclose);
    Handle dcpl(ok(H5Pcreate(H5P_DATASET_CREATE), "create property list"), H5Pclose);
    if (!chunk.empty()) {
        H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, static_cast<unsigned>(d.compression));
    }
    Handle ds(ok(H5Dcreate2(d.parent, d.name.c_str(), d.mem_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "create dataset " + d.name),
              H5Dclose);
    if (chunks) {
        std::vector<hsize_t> offset(d.dims.size(), 0);
        for (std::size_t k = 0; k < chunks->size(); ++k) {
            offset[0] = static_cast<hsize_t>(k) * chunk[0];
            const auto& c = (*chunks)[k];
            ok(H5Dwrite_chunk(ds, H5P_DEFAULT, 0, offset.data(), c.size(), c.data()), "write dataset " + d.name);
        }
    } else if (elements(d.dims) > 0) {
        ok(H5Dwrite(ds, d.mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.data), "write dataset " + d.name);
    }
    if (!d.unit.empty()) attr_string(ds, "unit", d.unit);
    if (!d.label.empty()) attr_string(ds, "label", d.label);
}

}  // namespace

void datasets(const std::vector<PendingDataset>& batch) {
    // The chunks of a window of datasets are compressed in parallel (compression was most of the
    // end of a run), then the datasets are created and written one after the other in the
    // batch's order, so the file is the same bytes at any thread count.
    const std::size_t window = BATCH_BYTES_PER_THREAD * static_cast<std::size_t>(std::max(1, tbb::this_task_arena::max_concurrency()));
    for (std::size_t from = 0; from < batch.size();) {
        std::size_t to = from, bytes = 0;
        struct Job {
            std::size_t dataset;
            hsize_t chunk;
        };
        std::vector<Job> jobs;
        std::vector<std::vector<hsize_t>> shapes;
        while (to < batch.size() && (to == from || bytes < window)) {
            const PendingDataset& d = batch[to];
            shapes.push_back(chunk_shape(d));
            if (!shapes.back().empty()) {
                const hsize_t n = (d.dims[0] + shapes.back()[0] - 1) / shapes.back()[0];
                for (hsize_t k = 0; k < n; ++k) jobs.push_back({to - from, k});
                bytes += static_cast<std::size_t>(elements(d.dims)) * H5Tget_size(d.mem_type);
            }
            ++to;
        }
        std::vector<std::vector<std::vector<unsigned char>>> filtered(to - from);
        for (const Job& j : jobs) filtered[j.dataset].emplace_back();  // one slot per chunk
        // Isolated: a thread waiting here must not pick up another replicate's task, which
        // could block on the results writer's lock this thread holds.
        tbb::this_task_arena::isolate([&] {
            tbb::parallel_for(std::size_t{0}, jobs.size(), [&](std::size_t i) {
                const Job& j = jobs[i];
                filtered[j.dataset][static_cast<std::size_t>(j.chunk)] = filtered_chunk(batch[from + j.dataset], shapes[j.dataset], j.chunk);
            });
        });
        for (std::size_t i = from; i < to; ++i)
            write_dataset(batch[i], shapes[i - from], shapes[i - from].empty() ? nullptr : &filtered[i - from]);
        from = to;
    }
}

/// Writes an N-d dataset, chunked and compressed when it is large enough to matter.
void dataset(hid_t parent, const std::string& name, hid_t mem_type, const void* data, const std::vector<hsize_t>& dims,
             int compression, const std::string& unit, const std::string& label) {
    datasets({PendingDataset{parent, name, mem_type, data, dims, compression, unit, label}});
}

void strings(hid_t parent, const std::string& name, const std::vector<std::string>& values) {
    std::vector<const char*> p;
    for (const auto& v : values) p.push_back(v.c_str());
    Handle type(string_type(), H5Tclose);
    dataset(parent, name, type, p.data(), {values.size()}, 0);
}

namespace {
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
}  // namespace

void write_columns(hid_t g, const AgentTypeSpec& spec, const std::vector<std::size_t>& cols, const std::vector<const Column*>& data,
                   int compression) {
    std::vector<PendingDataset> batch;
    for (std::size_t i = 0; i < cols.size(); ++i) {
        const AttributeSpec& a = spec.attributes[cols[i]];
        batch.push_back({g, a.name, native(*data[i]), data_of(*data[i]), {size_of(*data[i])}, compression, a.unit, a.label, true});
    }
    datasets(batch);
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
    if (spec.better != 0) attr_string(ds, "better", spec.better > 0 ? "higher" : "lower");
    return ds;
}

/// Writes @p data as row @p row (first axis) of dataset @p ds.
namespace {
/// Selects row @p row (first axis) of @p file_space. @return the shape of one row (1 on the first axis)
std::vector<hsize_t> select_row(hid_t file_space, hsize_t row, const std::string& what) {
    const int rank = H5Sget_simple_extent_ndims(file_space);
    if (rank < 1) throw RunError("HDF5: " + what + " has no rows");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), start(dims.size(), 0);
    H5Sget_simple_extent_dims(file_space, dims.data(), nullptr);
    if (row >= dims[0]) throw RunError(what + " has no row " + std::to_string(row));
    std::vector<hsize_t> count = dims;
    count[0] = 1;
    start[0] = row;
    ok(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), "select " + what);
    return count;
}
}  // namespace

void write_row(hid_t ds, hsize_t row, const double* data, const std::string& what) {
    Handle file_space(ok(H5Dget_space(ds), "get dataspace"), H5Sclose);
    const std::vector<hsize_t> count = select_row(file_space, row, what);
    Handle mem_space(ok(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), "create dataspace"), H5Sclose);
    ok(H5Dwrite(ds, H5T_NATIVE_DOUBLE, mem_space, file_space, H5P_DEFAULT, data), "write " + what);
}

std::vector<double> read_row(hid_t ds, hsize_t row, const std::string& what) {
    Handle file_space(ok(H5Dget_space(ds), "get dataspace"), H5Sclose);
    const std::vector<hsize_t> count = select_row(file_space, row, what);
    hsize_t n = 1;
    for (auto c : count) n *= c;
    std::vector<double> v(static_cast<std::size_t>(n));
    Handle mem_space(ok(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), "create dataspace"), H5Sclose);
    if (n > 0) ok(H5Dread(ds, H5T_NATIVE_DOUBLE, mem_space, file_space, H5P_DEFAULT, v.data()), "read " + what);
    return v;
}

/// Quantile of sorted values (linear interpolation between order statistics, numpy's default).
double quantile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
    const double h = (static_cast<double>(sorted.size()) - 1.0) * p;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

namespace {
/// Refuses an attribute that is not a scalar (an array-valued one would be read past its end).
void check_scalar(hid_t a, const char* name) {
    Handle space(ok(H5Aget_space(a), std::string("get the dataspace of attribute ") + name), H5Sclose);
    if (H5Sget_simple_extent_type(space) != H5S_SCALAR && H5Sget_simple_extent_npoints(space) != 1)
        throw RunError(std::string("attribute ") + name + " is not a single value");
}
void check_class(hid_t a, const char* name, std::initializer_list<H5T_class_t> allowed, const char* expected) {
    Handle type(ok(H5Aget_type(a), std::string("get the type of attribute ") + name), H5Tclose);
    const H5T_class_t c = H5Tget_class(type);
    for (auto k : allowed)
        if (c == k) return;
    throw RunError(std::string("attribute ") + name + " is not " + expected);
}
void check_scalar_number(hid_t a, const char* name) {
    check_scalar(a, name);
    check_class(a, name, {H5T_INTEGER, H5T_FLOAT}, "a number");
}
}  // namespace

std::string read_string_attr(hid_t obj, const char* name) {
    if (H5Aexists(obj, name) <= 0) throw RunError(std::string("missing attribute ") + name);
    Handle a(ok(H5Aopen(obj, name, H5P_DEFAULT), std::string("open attribute ") + name), H5Aclose);
    check_scalar(a, name);
    {
        Handle stored(ok(H5Aget_type(a), std::string("get the type of attribute ") + name), H5Tclose);
        if (H5Tget_class(stored) != H5T_STRING || H5Tis_variable_str(stored) <= 0)
            throw RunError(std::string("attribute ") + name + " is not a text value");
    }
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
    check_scalar(a, name);
    check_class(a, name, {H5T_INTEGER}, "an integer");
    long long v = 0;
    ok(H5Aread(a, H5T_NATIVE_LLONG, &v), std::string("read attribute ") + name);
    return v;
}

double read_number_attr(hid_t obj, const char* name) {
    if (H5Aexists(obj, name) <= 0) throw RunError(std::string("missing attribute ") + name);
    Handle a(ok(H5Aopen(obj, name, H5P_DEFAULT), std::string("open attribute ") + name), H5Aclose);
    check_scalar_number(a, name);
    double v = 0;
    ok(H5Aread(a, H5T_NATIVE_DOUBLE, &v), std::string("read attribute ") + name);
    return v;
}

std::vector<hsize_t> shape(hid_t ds) {
    Handle space(ok(H5Dget_space(ds), "get dataspace"), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) throw RunError("HDF5: cannot get the rank of a dataset");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    return dims;
}

std::vector<double> read_doubles(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                                 const std::string& what) {
    if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) <= 0) throw RunError(what + " is missing");
    Handle ds(ok(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), "open " + what), H5Dclose);
    {
        Handle type(ok(H5Dget_type(ds), "get the type of " + what), H5Tclose);
        const H5T_class_t c = H5Tget_class(type);
        if (c != H5T_FLOAT && c != H5T_INTEGER) throw RunError(what + " is not numeric");
    }
    const std::vector<hsize_t> got = shape(ds);
    if (got != dims) {
        auto str = [](const std::vector<hsize_t>& d) {
            std::string s = "(";
            for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
            return s + (d.size() == 1 ? ",)" : ")");
        };
        throw RunError(what + " has shape " + str(got) + "; expected " + str(dims));
    }
    hsize_t n = 1;
    for (auto d : dims) n *= d;
    std::vector<double> v(static_cast<std::size_t>(n));
    if (n > 0) ok(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read " + what);
    return v;
}

}  // namespace sim::h5
