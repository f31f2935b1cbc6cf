#pragma once
/// @file simulation.hpp
/// Running a model: the step loop, parallel sweeps, baseline snapshots and sampled trajectories.
///
/// A run is:
///   1. preflight: the model's cross-parameter checks and the memory estimate (before allocation)
///   2. init: the model creates its agents (step 0)
///   3. baseline: observer kernels record step 0; baseline attributes are snapshotted
///   4. for step = 1..n_steps, the model's phases in the order it lists them, then
///      the series of the step are committed and sampled trajectories recorded
///   5. the final state stays in the World for the writer

#include "sim/model.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

namespace sim {

/// Copies of some columns of one agent type at one time.
struct Snapshot {
    std::string agent;
    std::vector<std::size_t> columns;  ///< attribute indices in the agent type
    std::vector<Column> data;
};

/// Per-step values of a deterministic sample of rows of the traced agent types.
struct Trajectories {
    struct Column {
        std::size_t table;      ///< index of the agent table in World::tables()
        std::size_t attribute;  ///< attribute index in that table
    };
    std::vector<std::uint32_t> rows;      ///< sampled rows (evenly spaced, so the same in every arm)
    std::vector<Column> columns;          ///< traced attributes, in table then declaration order
    std::vector<float> values;            ///< [step][column][sample]
};

/// What a run produces.
struct Results {
    std::unique_ptr<World> world;         ///< final agent state and the time series
    std::vector<Snapshot> baseline;       ///< attributes declared baseline_and_final, at step 0
    Trajectories trajectories;
    unsigned threads = 1;
    std::string start_time;               ///< ISO 8601, UTC
    double wall_seconds = 0.0;            ///< init, burn-in and stepping, not writing
    double burn_in_seconds = 0.0;         ///< the burn-in's steps (part of wall_seconds)
    double step_seconds = 0.0;            ///< stepping only (the reported steps)
};

/// How to run.
struct RunOptions {
    unsigned threads = 0;                          ///< 0: all hardware threads
    std::uint32_t replicate = 0;                   ///< which replicate to run (part of every random key)
    std::uint32_t run = 0;                         ///< its row in the results (differs from replicate in a sweep)
    bool progress = false;                         ///< progress bar with ETA on stderr
    const volatile std::sig_atomic_t* stop = nullptr;  ///< nonzero: stop at the next step (signal number)
    bool check_invariants = false;                 ///< check declared attribute ranges and NaN every step
    bool nested = false;                           ///< called inside an ensemble that set the thread limit
    std::atomic<std::uint64_t>* steps_done = nullptr;  ///< incremented after every step, burn-in included (an ensemble's progress)
};

/// What a run needs in memory at its peak, by part (bytes). Runs hold their agents, series and
/// their part of the results file while they run; the results file is assembled, in memory,
/// once they are done: the peak is the larger of the two phases.
struct MemoryEstimate {
    std::size_t agents = 0;       ///< one run's agents and model state (Model::estimate_bytes)
    std::size_t series = 0;       ///< one run's series (every step, by group) and trajectories (as they grow)
    std::size_t part = 0;         ///< one run's part of the results file, built in memory
    std::size_t in_flight = 1;    ///< runs in memory at once (threads, at most the runs)
    std::size_t assembly = 0;     ///< the results file built in memory from every run's part
    static constexpr std::size_t BASE = 64u << 20;  ///< the program, libraries and thread stacks
    /// Run 0's part also holds its agents (compressed: up to about their size), counted once.
    [[nodiscard]] std::size_t running() const { return clamp((double(agents) + double(series) + double(part)) * double(in_flight) + double(agents)); }
    [[nodiscard]] std::size_t total() const { return clamp(double(std::max(running(), assembly)) + double(BASE)); }

private:
    /// Sums in double, so that an absurd estimate saturates instead of wrapping around.
    static std::size_t clamp(double v) { return v >= 1.8e19 ? static_cast<std::size_t>(-1) : static_cast<std::size_t>(v); }
};

/// Estimates a run's peak memory: what preflight compares with the machine's available memory.
/// @param threads worker threads (0: all hardware threads)
MemoryEstimate estimate_memory(const Model& model, const Schema& schema, const Scenario& scenario, unsigned threads = 0);

/// Checks the step count (at least one step, at most MAX_STEPS with the burn-in), the model's
/// checks, and the memory estimate against the machine's available memory.
/// @throws InconsistentScenario, ResourceLimit
void preflight(const Model& model, const Scenario& scenario, unsigned threads = 0);

/// Most steps a run may take (horizon and burn-in together).
inline constexpr double MAX_STEPS = 1e7;

/// @return the steps of the horizon (time.years) at time.step_days, rounded to the nearest.
std::uint32_t horizon_steps(const Params& params);
/// @return the steps of the burn-in (time.burn_in_weeks) at time.step_days, rounded to the nearest.
std::uint32_t burn_in_steps(const Params& params);

/// A run taken a step at a time, for a caller that looks at the World between steps (the
/// explorer, web/). run() is a Stepper stepped to the end: the two give the same results.
class Stepper {
public:
    /// Steps 1-3 of a run: creates the agents, runs the burn-in and records step 0.
    /// @p model and @p scenario must outlive the Stepper.
    Stepper(Model& model, const Schema& schema, const Scenario& scenario, const RunOptions& options);
    ~Stepper();
    Stepper(const Stepper&) = delete;
    Stepper& operator=(const Stepper&) = delete;

    /// @return whether every step of the horizon has run.
    [[nodiscard]] bool done() const;
    /// Runs the next step and records its series and trajectories.
    /// @throws Interrupted if options.stop became nonzero, RunError if an invariant check fails
    void step();
    /// The agents and series as of the last step (world().step).
    [[nodiscard]] const World& world() const;
    /// What has been recorded so far (baseline, trajectories up to the last step).
    [[nodiscard]] const Results& results() const;
    /// After the last step: lets the model finalize and hands over the results.
    std::unique_ptr<Results> finish();

private:
    struct State;
    std::unique_ptr<State> s_;
};

/// Runs @p scenario with @p model.
/// @throws Interrupted if @p options.stop became nonzero
/// @throws RunError if an invariant check fails
std::unique_ptr<Results> run(Model& model, const Schema& schema, const Scenario& scenario, const RunOptions& options);

/// @return bytes of memory available to a new allocation (MemAvailable), or 0 if unknown.
std::size_t available_memory();
/// @return this process's peak resident set size in bytes (VmHWM), or 0 if unknown.
std::size_t peak_rss();

}  // namespace sim
