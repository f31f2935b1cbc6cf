#pragma once
/// @file files.hpp
/// File-system operations for outputs that must never be lost or faked: an exclusive lock,
/// a move into place that does not replace what appeared meanwhile, durable small files and a
/// content hash that verifies a file written earlier (possibly by a process that was killed).

#include <cstdint>
#include <string>
#include <vector>

namespace sim::files {

/// An exclusive advisory lock (flock) on a file, held until destroyed or the process dies
/// (SIGKILL included: the kernel releases it), so a crashed holder never blocks a rerun.
class Lock {
public:
    /// Creates @p path if needed and locks it without waiting.
    /// @return false (and holds nothing) if another process holds it. @throws RunError if it cannot be opened
    bool try_acquire(const std::string& path);
    Lock() = default;
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    /// Releases the lock and removes its file (the holder finished with what it guarded).
    void release_and_remove();

private:
    int fd_ = -1;
    std::string path_;
};

/// Flushes a file's data (or a directory's entries) to stable storage. @throws RunError
void sync(const std::string& path);

/// Moves @p from to @p to atomically (same file system). Without @p replace it never replaces
/// an existing @p to, even one created a moment ago (renameat2 RENAME_NOREPLACE, or link and
/// unlink where the file system lacks it); with @p replace it replaces only a regular file.
/// @return false if @p to exists and was kept. @throws RunError on any other failure
bool move_into_place(const std::string& from, const std::string& to, bool replace);

/// Writes @p content to @p path atomically: a temporary file in the same directory, flushed,
/// then renamed. @throws RunError
void write_atomically(const std::string& path, const std::string& content);

/// Writes @p bytes to @p path (created or truncated), flushed to stable storage if @p durable;
/// on failure the file is removed. A @p direct or durable file of at least DIRECT_MIN bytes in
/// page-aligned memory (PageBuffer) is written past the page cache (O_DIRECT) where the file
/// system allows: for a file this process will not read back. @throws RunError naming the file
/// and the reason
void write_file(const std::string& path, const char* data, std::size_t size, bool durable, bool direct = false);

/// The page size write_file aligns direct writes to, and the smallest file it writes so.
inline constexpr std::size_t PAGE = 4096, DIRECT_MIN = std::size_t{1} << 20;

/// Memory in whole pages, its data page-aligned (for write_file's direct writes), that grows
/// without copying its bytes (mremap): a malloc/realloc/free for large buffers such as an
/// in-memory HDF5 file. Each block keeps its mapped length in the page before its data.
struct PageBuffer {
    /// @return @p size bytes of zeroed, page-aligned memory, or nullptr
    static void* allocate(std::size_t size);
    /// @return @p data grown or shrunk to @p size bytes, its bytes kept (maybe moved), or
    /// nullptr (then @p data is unchanged); allocate() for nullptr
    static void* reallocate(void* data, std::size_t size);
    /// Frees what allocate() or reallocate() returned (nullptr: nothing).
    static void release(void* data);

private:
    static std::size_t mapped_length(std::size_t size) { return PAGE + (size + PAGE - 1) / PAGE * PAGE; }
};

/// Reads a whole (small) file. @throws RunError
std::string read_text(const std::string& path);

/// A 64-bit hash of a file's bytes (not cryptographic: it detects torn, truncated or damaged
/// files, not tampering). @throws RunError if it cannot be read
std::uint64_t hash_file(const std::string& path);
/// The same hash of bytes in memory.
std::uint64_t hash_bytes(const char* data, std::size_t size);
inline std::uint64_t hash_bytes(const std::string& bytes) { return hash_bytes(bytes.data(), bytes.size()); }
/// @p h as 16 lower-case hexadecimal digits.
std::string hex(std::uint64_t h);

/// @return true if @p a and @p b name the same file (same device and inode); false if either is missing.
bool same_file(const std::string& a, const std::string& b);

/// Names of the entries of directory @p dir (not . and ..), unsorted. @throws RunError
std::vector<std::string> list(const std::string& dir);

}  // namespace sim::files
