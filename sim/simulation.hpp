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
    double wall_seconds = 0.0;            ///< init and stepping, not writing
    double step_seconds = 0.0;            ///< stepping only
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
};

/// Runs the model's checks and the memory estimate against the machine's available memory.
/// @throws InconsistentScenario, ResourceLimit
void preflight(const Model& model, const Scenario& scenario);

/// Runs @p scenario with @p model.
/// @throws Interrupted if @p options.stop became nonzero
/// @throws RunError if an invariant check fails
std::unique_ptr<Results> run(Model& model, const Schema& schema, const Scenario& scenario, const RunOptions& options);

/// @return bytes of memory available to a new allocation (MemAvailable), or 0 if unknown.
std::size_t available_memory();
/// @return this process's peak resident set size in bytes (VmHWM), or 0 if unknown.
std::size_t peak_rss();

}  // namespace sim
