#include "sim/files.hpp"

#include "sim/errors.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sim::files {
namespace {

std::string why() { return std::strerror(errno); }

/// A file descriptor closed at scope exit.
struct Fd {
    int fd;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// The hash: 64-bit words mixed with a multiply and xor-shift (in the style of splitmix64),
// the length folded in at the end. About 2 GB/s, enough to check a results file on resume.
constexpr std::uint64_t MIX = 0x9e3779b97f4a7c15ULL;
inline std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
    h ^= w + MIX + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 31);
}
struct Hasher {
    std::uint64_t h = 0x243f6a8885a308d3ULL, n = 0;
    unsigned char tail[8] = {};
    unsigned t = 0;
    void add(const unsigned char* p, std::size_t len) {
        n += len;
        while (len > 0) {
            if (t == 0 && len >= 8) {
                std::uint64_t w;
                std::memcpy(&w, p, 8);
                h = mix(h, w);
                p += 8;
                len -= 8;
                continue;
            }
            tail[t++] = *p++;
            --len;
            if (t == 8) {
                std::uint64_t w;
                std::memcpy(&w, tail, 8);
                h = mix(h, w);
                t = 0;
            }
        }
    }
    std::uint64_t done() {
        std::uint64_t w = 0;
        std::memcpy(&w, tail, t);
        return mix(mix(h, w), n);
    }
};

}  // namespace

bool Lock::try_acquire(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) throw RunError("cannot open the lock file '" + path + "': " + why());
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK) return false;
        throw RunError("cannot lock '" + path + "': " + std::strerror(err));
    }
    fd_ = fd;
    path_ = path;
    return true;
}

Lock::~Lock() {
    if (fd_ >= 0) ::close(fd_);
}

void Lock::release_and_remove() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // removed while still held, so no other process locks a stale file
    ::close(fd_);
    fd_ = -1;
}

void sync(const std::string& path) {
    Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (f.fd < 0) throw RunError("cannot open '" + path + "' to flush it: " + why());
    if (::fsync(f.fd) != 0 && errno != EINVAL) throw RunError("cannot flush '" + path + "' to disk: " + why());
}

bool move_into_place(const std::string& from, const std::string& to, bool replace) {
    if (replace) {
        struct stat st {};
        if (::lstat(to.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
            throw RunError("'" + to + "' is not a regular file; it is not replaced");
        if (::rename(from.c_str(), to.c_str()) != 0) throw RunError("cannot rename '" + from + "' to '" + to + "': " + why());
    } else if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) return false;
        if (errno != EINVAL && errno != ENOSYS) throw RunError("cannot rename '" + from + "' to '" + to + "': " + why());
        // A file system without RENAME_NOREPLACE: link() never replaces either.
        if (::link(from.c_str(), to.c_str()) != 0) {
            if (errno == EEXIST) return false;
            throw RunError("cannot move '" + from + "' to '" + to + "': " + why());
        }
        ::unlink(from.c_str());
    }
    sync(parent_of(to));
    return true;
}

void write_file(const std::string& path, const char* data, std::size_t size, bool durable, bool direct_wanted) {
    Fd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (f.fd < 0) throw RunError("cannot create '" + path + "': " + why());
    const auto fail = [&](const char* doing) {
        const std::string e = why();
        ::unlink(path.c_str());
        throw RunError(std::string("cannot ") + doing + " '" + path + "': " + e);
    };
    std::size_t done = 0;
    // A large file flushed to disk anyway, or not read back, from page-aligned memory
    // (PageBuffer): its whole pages go straight to the device (O_DIRECT) instead of through the
    // page cache, which would first copy them (on a virtual machine, into memory the host has
    // not yet given the guest: about 0.3 s per 100 MB). The tail, and any file system that
    // refuses O_DIRECT, take the cache.
    const bool direct = (durable || direct_wanted) && size >= DIRECT_MIN && reinterpret_cast<std::uintptr_t>(data) % PAGE == 0;
    const int flags = ::fcntl(f.fd, F_GETFL);
    if (direct && flags >= 0 && ::fcntl(f.fd, F_SETFL, flags | O_DIRECT) == 0) {
        const std::size_t whole = size / PAGE * PAGE;
        while (done < whole) {
            const ssize_t n = ::write(f.fd, data + done, whole - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EINVAL) break;  // this file system's alignment differs: the cache takes the rest
            if (n <= 0) fail("write");
            done += static_cast<std::size_t>(n);
        }
        if (::fcntl(f.fd, F_SETFL, flags) != 0) fail("write");
    }
    while (done < size) {
        const ssize_t n = ::write(f.fd, data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("write");
        done += static_cast<std::size_t>(n);
    }
    if (durable && ::fsync(f.fd) != 0) fail("flush to disk");
}

void* PageBuffer::allocate(std::size_t size) {
    const std::size_t len = mapped_length(size);
    void* base = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    *static_cast<std::size_t*>(base) = len;
    return static_cast<char*>(base) + PAGE;
}

void* PageBuffer::reallocate(void* data, std::size_t size) {
    if (!data) return allocate(size);
    void* base = static_cast<char*>(data) - PAGE;
    const std::size_t old_len = *static_cast<std::size_t*>(base), len = mapped_length(size);
    if (len == old_len) return data;
    void* moved = ::mremap(base, old_len, len, MREMAP_MAYMOVE);  // the pages move, not their bytes
    if (moved == MAP_FAILED) return nullptr;
    *static_cast<std::size_t*>(moved) = len;
    return static_cast<char*>(moved) + PAGE;
}

void PageBuffer::release(void* data) {
    if (!data) return;
    void* base = static_cast<char*>(data) - PAGE;
    ::munmap(base, *static_cast<std::size_t*>(base));
}

void write_atomically(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".tmp";
    write_file(tmp, content.data(), content.size(), true);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string e = why();
        ::unlink(tmp.c_str());
        throw RunError("cannot rename '" + tmp + "' to '" + path + "': " + e);
    }
    sync(parent_of(path));
}

std::string read_text(const std::string& path) {
    Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (f.fd < 0) throw RunError("cannot open '" + path + "': " + why());
    struct stat st {};
    if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) throw RunError("'" + path + "' is not a regular file");
    std::string s;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw RunError("cannot read '" + path + "': " + why());
        if (n == 0) break;
        s.append(buf, static_cast<std::size_t>(n));
    }
    return s;
}

std::uint64_t hash_file(const std::string& path) {
    Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (f.fd < 0) throw RunError("cannot open '" + path + "': " + why());
    struct stat st {};
    if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) throw RunError("'" + path + "' is not a regular file");
    Hasher h;
    static thread_local std::vector<unsigned char> buf(1 << 20);
    for (;;) {
        const ssize_t n = ::read(f.fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw RunError("cannot read '" + path + "': " + why());
        if (n == 0) break;
        h.add(buf.data(), static_cast<std::size_t>(n));
    }
    return h.done();
}

std::uint64_t hash_bytes(const char* data, std::size_t size) {
    Hasher h;
    h.add(reinterpret_cast<const unsigned char*>(data), size);
    return h.done();
}

std::string hex(std::uint64_t h) {
    char s[17];
    std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(h));
    return s;
}

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa {}, sb {};
    if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

std::vector<std::string> list(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) throw RunError("cannot list '" + dir + "': " + why());
    std::vector<std::string> out;
    while (const dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
}

}  // namespace sim::files
