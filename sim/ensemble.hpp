#pragma once
/// @file ensemble.hpp
/// Running every replicate of a scenario and streaming them to one results file.
///
/// Replicate r draws only from the streams keyed by (seed, r), so its results do not depend on
/// which other replicates run, in which order, on how many threads, or on which machine: a
/// shard (EnsembleOptions::shard, `run --shard K/N`) runs some of them on one machine, and
/// merge_shards() combines the shards' rows into the file one process writes (docs/cluster.md).

#include "sim/h5.hpp"
#include "sim/model.hpp"
#include "sim/scenario.hpp"

#include <csignal>
#include <optional>
#include <string>

namespace sim {

struct EnsembleOptions {
    unsigned threads = 0;                              ///< 0: all hardware threads
    bool progress = false;                             ///< progress bar with ETA on stderr (a terminal only)
    const volatile std::sig_atomic_t* stop = nullptr;  ///< nonzero: stop (signal number)
    bool check_invariants = false;
    bool overwrite = false;                            ///< the final move may replace an existing file
    std::optional<Shard> shard;                        ///< run only this shard's runs, into a shard's file
};

/// What a finished ensemble reports.
struct EnsembleInfo {
    unsigned threads = 1;
    std::size_t replicates = 1;      ///< runs done here (all of them, or the shard's)
    std::size_t ran = 0;             ///< of those, the runs stepped by this process (the others were kept by an interrupted one)
    std::size_t agents = 0;          ///< agents of the model's main (first traced) type per replicate
    std::string agent_type;
    std::uint32_t n_steps = 0;
    double wall_seconds = 0;         ///< whole ensemble, setup, stepping and writing
    double run_seconds = 0;          ///< the runs' setup, burn-in and stepping, summed over the runs
    double burn_in_seconds = 0;      ///< the burn-in only, summed over the runs
    double step_seconds = 0;         ///< stepping only, summed over the runs (which overlap on several threads)
};

/// Runs all `replicates` of @p scenario (in parallel when there are several, each replicate's
/// sweeps in parallel too), or only those of `options.shard`, and writes them to @p path as they finish.
/// @throws Interrupted, RunError (finished runs are kept in PATH.partial-run for a rerun to resume)
EnsembleInfo run_ensemble(const ModelFactory& factory, const Schema& schema, const Scenario& scenario,
                          const std::string& path, const EnsembleOptions& options);

}  // namespace sim
