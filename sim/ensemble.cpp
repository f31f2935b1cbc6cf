#include "sim/ensemble.hpp"

#include "sim/errors.hpp"
#include "sim/h5.hpp"
#include "sim/parallel.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <unistd.h>

namespace sim {

namespace {

/// Progress of a whole ensemble, from its first step: the steps done (burn-in included) over
/// all the runs to do, with an ETA. On a terminal a bar redrawn four times a second; otherwise
/// (a batch job's log) a line at every tenth, once the run has lasted 10 seconds.
class EnsembleProgress {
public:
    EnsembleProgress(bool on, std::size_t runs, std::uint64_t steps_per_run, const char* what)
        : tty_(isatty(STDERR_FILENO) != 0), runs_(runs), total_(std::max<std::uint64_t>(1, runs * steps_per_run)), what_(what) {
        if (on && runs > 0) thread_ = std::thread([this] { loop(); });
    }
    ~EnsembleProgress() { stop(); }
    EnsembleProgress(const EnsembleProgress&) = delete;
    EnsembleProgress& operator=(const EnsembleProgress&) = delete;
    std::atomic<std::uint64_t> steps{0};
    std::atomic<std::size_t> finished{0};
    /// Draws the last state (a full bar when every run is done) and ends the display.
    void stop() {
        if (!thread_.joinable()) return;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }

private:
    using clock = std::chrono::steady_clock;
    void loop() {
        int tenth = 0;
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            const bool last = wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return done_; });
            const double el = std::chrono::duration<double>(clock::now() - t0_).count();
            const std::uint64_t s = std::min(steps.load(std::memory_order_relaxed), total_);
            const double f = static_cast<double>(s) / static_cast<double>(total_);
            char eta[32] = "--";
            if (s > 0) std::snprintf(eta, sizeof eta, "%.0f s", el * (1.0 - f) / f);
            if (tty_) {
                const int width = 30, fill = static_cast<int>(width * f);
                std::fprintf(stderr, "\r[%.*s%*s] %3d%%  %zu of %zu %s done  ETA %-8s", fill, "==============================",
                             width - fill, "", static_cast<int>(100 * f), finished.load(), runs_, what_, eta);
                if (last) std::fprintf(stderr, "\n");
            } else if (el >= 10.0 && static_cast<int>(10 * f) > tenth && !last) {
                tenth = static_cast<int>(10 * f);
                std::fprintf(stderr, "therasim: %d%% of the steps, %zu of %zu %s done, %.0f s so far, ETA %s\n", 10 * tenth,
                             finished.load(), runs_, what_, el, eta);
            }
            if (last) return;
        }
    }
    bool tty_;
    std::size_t runs_;
    std::uint64_t total_;
    const char* what_;
    clock::time_point t0_ = clock::now();
    std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    std::thread thread_;
};

}  // namespace

EnsembleInfo run_ensemble(const ModelFactory& factory, const Schema& schema, const Scenario& sc, const std::string& path,
                          const EnsembleOptions& opt) {
    const auto t0 = std::chrono::steady_clock::now();
    const unsigned threads = opt.threads ? opt.threads : parallel::hardware_threads();
    const parallel::ThreadLimit limit(threads);
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
    // Steps per run (every point has the scenario's time axis: sweeps cannot vary it).
    const std::uint64_t steps_per_run = std::uint64_t{horizon_steps(sc.params)} + burn_in_steps(sc.params);
    EnsembleProgress progress(opt.progress, runs - writer.done_count(), steps_per_run, what);

    auto one = [&](std::size_t r) {
        if (writer.done(r)) return;  // finished by an earlier, interrupted run
        auto model = factory();
        RunOptions ro;
        ro.threads = threads;
        ro.replicate = static_cast<std::uint32_t>(r % reps);
        ro.run = static_cast<std::uint32_t>(r);
        ro.stop = opt.stop;
        ro.check_invariants = opt.check_invariants;
        ro.nested = true;
        ro.steps_done = &progress.steps;
        // The World refers to its scenario's parameters: the point's scenario outlives the results.
        const std::optional<Scenario> point = sc.sweep ? std::optional<Scenario>(sc.at_point(r / reps)) : std::nullopt;
        auto res = run(*model, schema, point ? *point : sc, ro);
        writer.write(*res);
        {
            std::lock_guard<std::mutex> lock(info_mutex);
            ++info.ran;
            info.step_seconds += res->step_seconds;
            info.burn_in_seconds += res->burn_in_seconds;
            info.run_seconds += res->wall_seconds;
            info.n_steps = res->world->n_steps;
            const auto traced = model->traced_agents();
            info.agent_type = traced.empty() ? res->world->tables().front().name() : traced.front();
            info.agents = res->world->agents(info.agent_type).size();
        }
        ++progress.finished;
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
            parallel::for_each_index(runs, [&](std::size_t i) { parallel::isolate([&] { one(mine[i]); }); });
        }
        if (opt.stop && *opt.stop) throw Interrupted(static_cast<int>(*opt.stop));
        progress.stop();
    } catch (const Interrupted& e) {
        progress.stop();
        // Replicates already written are kept for the same command to resume.
        if (writer.done_count() == 0) throw Interrupted(e.signal(), "stopped, no results file written");
        throw Interrupted(e.signal(), kept());
    } catch (const RunError& e) {
        progress.stop();
        if (writer.done_count() == 0) throw;
        throw RunError(std::string(e.what()) + "; " + kept());
    }
    // The file records the time until its assembly; the caller is told the whole, with the writing.
    try {
        writer.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    } catch (const RunError& e) {
        throw RunError(std::string(e.what()) + "; " + kept());
    }
    info.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return info;
}

}  // namespace sim
