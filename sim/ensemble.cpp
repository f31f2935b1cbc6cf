#include "sim/ensemble.hpp"

#include "sim/errors.hpp"
#include "sim/h5.hpp"
#include "sim/simulation.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <unistd.h>

namespace sim {

EnsembleInfo run_ensemble(const ModelFactory& factory, const Schema& schema, const Scenario& sc, const std::string& path,
                          const EnsembleOptions& opt) {
    const auto t0 = std::chrono::steady_clock::now();
    const unsigned threads = opt.threads ? opt.threads : static_cast<unsigned>(tbb::this_task_arena::max_concurrency());
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    // Runs are point-major: run r is replicate r % reps of sweep point r / reps (one point
    // without a sweep). Every point uses the same keys (seed, replicate): common random numbers.
    const auto reps = static_cast<std::size_t>(sc.params.integer("replicates"));
    const char* what = sc.sweep || opt.shard ? "runs" : "replicates";

    ResultsWriter writer(path, schema, sc, opt.overwrite, opt.shard);
    const std::vector<std::size_t>& mine = writer.runs();  // every run, or the shard's
    const std::size_t runs = mine.size();
    EnsembleInfo info;
    info.threads = threads;
    info.replicates = runs;
    std::mutex info_mutex;
    std::atomic<std::size_t> finished{0};
    const bool bar = opt.progress && runs > 1 && isatty(STDERR_FILENO);

    auto one = [&](std::size_t r) {
        if (writer.done(r)) return;  // finished by an earlier, interrupted run
        auto model = factory();
        RunOptions ro;
        ro.threads = threads;
        ro.replicate = static_cast<std::uint32_t>(r % reps);
        ro.run = static_cast<std::uint32_t>(r);
        ro.stop = opt.stop;
        ro.check_invariants = opt.check_invariants;
        ro.progress = opt.progress && runs == 1;
        ro.nested = true;
        // The World refers to its scenario's parameters: the point's scenario outlives the results.
        const std::optional<Scenario> point = sc.sweep ? std::optional<Scenario>(sc.at_point(r / reps)) : std::nullopt;
        auto res = run(*model, schema, point ? *point : sc, ro);
        writer.write(*res);
        {
            std::lock_guard<std::mutex> lock(info_mutex);
            info.step_seconds += res->step_seconds;
            info.n_steps = res->world->n_steps;
            const auto traced = model->traced_agents();
            info.agent_type = traced.empty() ? res->world->tables().front().name() : traced.front();
            info.agents = res->world->agents(info.agent_type).size();
        }
        const std::size_t n = ++finished;
        if (bar) {
            const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::fprintf(stderr, "\r%zu/%zu %s  ETA %6.1fs ", n, runs, what,
                         el * static_cast<double>(runs - n) / static_cast<double>(n));
            if (n == runs) std::fprintf(stderr, "\n");
        }
    };
    if (writer.resumed() && opt.progress) {
        std::fprintf(stderr, "therasim: resuming %s: %zu of %zu %s already done\n", writer.partial_path().c_str(),
                     writer.done_count(), runs, what);
        if (writer.rejected() > 0)
            std::fprintf(stderr, "therasim: %zu damaged part(s) failed verification and run again\n", writer.rejected());
    }
    const auto kept = [&] {
        return std::to_string(writer.done_count()) + " of " + std::to_string(runs) + " " + what + " are kept in " +
               writer.partial_path() + " (not a result); rerun the same command to resume";
    };
    try {
        if (runs == 1) {
            one(mine[0]);
        } else {
            // Each replicate's inner sweeps are isolated, so a thread waiting in one replicate
            // never starts another: at most `threads` replicates are in memory at once.
            tbb::parallel_for(std::size_t{0}, runs,
                              [&](std::size_t i) { tbb::this_task_arena::isolate([&] { one(mine[i]); }); });
        }
        if (opt.stop && *opt.stop) throw Interrupted(static_cast<int>(*opt.stop));
    } catch (const Interrupted& e) {
        // Replicates already written are kept for the same command to resume.
        if (writer.done_count() == 0) throw Interrupted(e.signal(), "stopped, no results file written");
        throw Interrupted(e.signal(), kept());
    } catch (const RunError& e) {
        if (writer.done_count() == 0) throw;
        throw RunError(std::string(e.what()) + "; " + kept());
    }
    info.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    try {
        writer.finish(info.wall_seconds);
    } catch (const RunError& e) {
        throw RunError(std::string(e.what()) + "; " + kept());
    }
    return info;
}

}  // namespace sim
