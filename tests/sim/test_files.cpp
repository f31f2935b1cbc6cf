// The page-aligned buffers an in-memory results file lives in, and write_file's direct path
// (whole pages past the page cache, the tail through it): the bytes on disk are the bytes given.
#include "tests/support.hpp"

#include "sim/errors.hpp"
#include "sim/files.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>

namespace {

using sim::files::PageBuffer;

/// Fills @p n bytes at @p p with a pattern that differs between positions and between @p seed s.
void fill(void* p, std::size_t n, unsigned seed) {
    auto* b = static_cast<unsigned char*>(p);
    for (std::size_t k = 0; k < n; ++k) b[k] = static_cast<unsigned char>((k * 131 + seed * 7 + (k >> 12)) & 0xFF);
}

bool has_pattern(const void* p, std::size_t n, unsigned seed) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t k = 0; k < n; ++k)
        if (b[k] != static_cast<unsigned char>((k * 131 + seed * 7 + (k >> 12)) & 0xFF)) return false;
    return true;
}

bool page_aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % sim::files::PAGE == 0; }

}  // namespace

TEST_CASE("a page buffer is page-aligned and zeroed, and keeps its bytes as it grows and shrinks", "[files]") {
    void* p = PageBuffer::allocate(5000);
    REQUIRE(p != nullptr);
    CHECK(page_aligned(p));
    CHECK(std::string(static_cast<const char*>(p), 5000) == std::string(5000, '\0'));
    fill(p, 5000, 1);
    // the same pages (5000 and 8192 bytes both take two), then many more, then fewer
    void* q = PageBuffer::reallocate(p, 8192);
    REQUIRE(q != nullptr);
    CHECK(has_pattern(q, 5000, 1));
    q = PageBuffer::reallocate(q, 64u << 20);
    REQUIRE(q != nullptr);
    CHECK(page_aligned(q));
    CHECK(has_pattern(q, 5000, 1));
    fill(q, 64u << 20, 2);
    q = PageBuffer::reallocate(q, 3 * sim::files::PAGE + 1);
    REQUIRE(q != nullptr);
    CHECK(has_pattern(q, 3 * sim::files::PAGE + 1, 2));
    PageBuffer::release(q);
    PageBuffer::release(nullptr);  // nothing
    void* r = PageBuffer::reallocate(nullptr, 100);  // as allocate
    REQUIRE(r != nullptr);
    CHECK(page_aligned(r));
    PageBuffer::release(r);
}

TEST_CASE("write_file writes exactly the bytes given, direct or through the cache", "[files]") {
    const test::TempDir dir;
    // Durable and page-aligned, of several sizes around the direct path's threshold and with
    // and without a tail shorter than a page; and the same bytes unaligned and not durable.
    for (const std::size_t n : {std::size_t{0}, std::size_t{100}, sim::files::DIRECT_MIN - 1, sim::files::DIRECT_MIN,
                                sim::files::DIRECT_MIN + 1, std::size_t{3} * sim::files::DIRECT_MIN + 4095}) {
        void* p = PageBuffer::allocate(n + 1);
        REQUIRE(p != nullptr);
        fill(p, n + 1, static_cast<unsigned>(n));
        const auto* bytes = static_cast<const char*>(p);
        const std::string expected(bytes, n), expected_unaligned(bytes + 1, n);
        for (const bool durable : {true, false}) {
            const std::string path = dir.path("f" + std::to_string(n) + (durable ? "d" : "c"));
            sim::files::write_file(path, bytes, n, durable);
            CHECK(test::read_file(path) == expected);
            sim::files::write_file(path, bytes + 1, n, durable);  // over it, from unaligned memory
            CHECK(test::read_file(path) == expected_unaligned);
        }
        PageBuffer::release(p);
    }
}

TEST_CASE("write_file names the file when it cannot create it", "[files]") {
    const test::TempDir dir;
    void* p = PageBuffer::allocate(sim::files::DIRECT_MIN);
    REQUIRE(p != nullptr);
    CHECK_THROWS_WITH(sim::files::write_file(dir.path("missing/f.h5"), static_cast<const char*>(p), sim::files::DIRECT_MIN, true),
                      Catch::Contains("cannot create '" + dir.path("missing/f.h5") + "'"));
    PageBuffer::release(p);
}
