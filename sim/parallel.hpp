#pragma once
/// @file parallel.hpp
/// The engine's only door to threads: parallel loops, the thread limit and isolation.
///
/// Natively these are oneTBB's. In a build without threads (THERASIM_SERIAL: the WebAssembly
/// explorer, web/) they are plain loops. Results never depend on which: every loop body writes
/// only its own rows or its own block's slot, and reductions run in index order afterwards.
#include <cstddef>
#include <optional>

#ifndef THERASIM_SERIAL
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#endif

namespace sim::parallel {

/// @return the threads a loop may use: the hardware's, or 1 without threads.
inline unsigned hardware_threads() {
#ifdef THERASIM_SERIAL
    return 1;
#else
    return static_cast<unsigned>(tbb::this_task_arena::max_concurrency());
#endif
}

/// While alive, loops use at most the given number of threads (0: leave the limit alone).
class ThreadLimit {
public:
    explicit ThreadLimit(unsigned threads) {
#ifndef THERASIM_SERIAL
        if (threads) limit_.emplace(tbb::global_control::max_allowed_parallelism, threads);
#else
        (void)threads;
#endif
    }

private:
#ifndef THERASIM_SERIAL
    std::optional<tbb::global_control> limit_;
#endif
};

/// Calls fn(i) for every i in [0, n), in any order and on any thread.
template <class Fn>
void for_each_index(std::size_t n, Fn&& fn) {
#ifdef THERASIM_SERIAL
    for (std::size_t i = 0; i < n; ++i) fn(i);
#else
    tbb::parallel_for(std::size_t{0}, n, fn);
#endif
}

/// Calls fn(b) for every block b in [0, n), one block per task (blocks are already coarse).
template <class Fn>
void for_each_block(std::size_t n, Fn&& fn) {
#ifdef THERASIM_SERIAL
    for (std::size_t b = 0; b < n; ++b) fn(b);
#else
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, n, 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t b = r.begin(); b != r.end(); ++b) fn(b);
        },
        tbb::simple_partitioner());
#endif
}

/// Runs fn so that a thread waiting inside it takes no work from outside it: a replicate's
/// inner loops never start another replicate, so at most `threads` replicates are in memory.
template <class Fn>
void isolate(Fn&& fn) {
#ifdef THERASIM_SERIAL
    fn();
#else
    tbb::this_task_arena::isolate(fn);
#endif
}

}  // namespace sim::parallel
