#pragma once
/// @file model.hpp
/// The interface through which a behavioural model plugs into the engine, and the World it
/// acts on. The engine never includes a model; a model declares its parameters, agents and
/// outputs in a Schema, creates its agents in init(), and lists its phases in order.

#include "sim/agents.hpp"
#include "sim/params.hpp"
#include "sim/rng.hpp"
#include "sim/scenario.hpp"
#include "sim/schema.hpp"
#include "sim/series.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sim {

/// Agents per block of a sweep. Fixed, so block boundaries (and the order in which partial
/// sums are combined) never depend on the number of threads.
inline constexpr std::size_t BLOCK_SIZE = 2048;
static_assert(BLOCK_SIZE <= BlockStream::CAPACITY, "a block's random words must fit a BlockStream");

/// A contiguous range of agent rows processed by one task of a sweep.
struct Block {
    std::size_t index;  ///< block number: rows [index*BLOCK_SIZE, ...)
    std::size_t begin;  ///< first row
    std::size_t end;    ///< one past the last row
    [[nodiscard]] std::size_t size() const { return end - begin; }
};

/// The state a model acts on: parameters, random streams, agent tables, time and outputs.
class World {
public:
    /// @param replicate the replicate number: it is part of every random key
    World(const Schema& schema, const Scenario& scenario, std::uint32_t replicate = 0);

    const Schema& schema;
    const Params& params;
    const Rng rng;
    std::uint32_t run = 0;       ///< row of this run in the results (= the replicate, or point x replicates + replicate in a sweep)
    /// 0 during init; 1..n_steps while stepping (the step being simulated). During the burn-in
    /// it counts -n_burn_in..-1 modulo 2^32, so burn-in draws have keys of their own; time() is
    /// the same step as a signed number.
    std::uint32_t step = 0;
    std::uint32_t n_steps = 0;   ///< steps in the horizon
    std::uint32_t n_burn_in = 0; ///< steps simulated before step 0 and not reported (time.burn_in_weeks)
    /// @return the current step as a signed number: negative during the burn-in.
    [[nodiscard]] std::int32_t time() const { return static_cast<std::int32_t>(step); }
    /// @return true while the burn-in runs (nothing is recorded).
    [[nodiscard]] bool burning_in() const { return time() < 0; }
    double step_days = 7.0;      ///< days per step

    /// @throws std::logic_error if @p name is not a declared agent type
    AgentTable& agents(const std::string& name);
    [[nodiscard]] const AgentTable& agents(const std::string& name) const;
    [[nodiscard]] std::vector<AgentTable>& tables() { return tables_; }
    [[nodiscard]] const std::vector<AgentTable>& tables() const { return tables_; }

    /// Grouping dimensions; a model may fill their levels during init (e.g. region names).
    std::vector<GroupDimension> dims;
    /// @return the number of groups (product of the dimension sizes).
    [[nodiscard]] std::size_t n_groups() const;

    SeriesStore series;
    /// @return block 0 of stream @p s at the current step for every row of @p b (vectorised).
    [[nodiscard]] BlockStream block_stream(StreamId s, const Block& b) const { return BlockStream(rng, s, step, b.begin, b.size()); }
    /// @return block 0 of stream @p s at the current step for every row of @p b, computed once
    /// per thread for the kernels of a block that share the stream (sim::shared_block_stream).
    /// @warning valid until the thread asks for another shared stream, step or block
    [[nodiscard]] const BlockStream& shared_block_stream(StreamId s, const Block& b) const {
        return sim::shared_block_stream(rng, s, step, b.begin, b.size());
    }

    /// @return the tally of block @p b for the current step.
    Tally tally(const Block& b) { return series.tally(b.index); }
    /// Sets a national-only series at the current step. @throws std::logic_error if unknown
    void set_national(const std::string& name, double value);
    void add_national(const std::string& name, double value);
    /// @return the series index of @p name. @throws std::logic_error if unknown
    [[nodiscard]] int series_id(const std::string& name) const;

    /// End-of-replicate metrics, in Schema::metrics() order; NaN until set.
    std::vector<double> metrics;
    /// Sets metric @p name. @throws std::logic_error if it was not declared
    void set_metric(const std::string& name, double value);

private:
    std::vector<AgentTable> tables_;
};

/// A per-agent rule run on one block of rows. It writes only the rows of its block (of its own
/// agent type, or of another type owned 1:1 by those rows) and reads anything else.
using KernelFn = std::function<void(World&, const Block&)>;
/// A rule over the whole population, run on one thread (for deterministic order).
using SerialFn = std::function<void(World&)>;

/// One kernel of a sweep.
struct Kernel {
    std::string name;
    KernelFn fn;
    bool observer = false;  ///< also run at step 0 to record the baseline (must not change state)
};

/// One phase of a step: either serial, or a sweep that runs its kernels, in order, block by
/// block in parallel (kernels are fused so a block stays in cache between them).
struct Phase {
    std::string name;
    std::string agent_type;        ///< the swept agent type; empty for a serial phase
    SerialFn serial;               ///< set for a serial phase
    std::vector<Kernel> kernels;   ///< set for a sweep
};

/// A behavioural model.
class Model {
public:
    virtual ~Model() = default;
    /// Declares parameters, agent types, series and dimensions.
    virtual void declare(Schema& schema) const = 0;
    /// Checks combinations of values that are each valid. @throws InconsistentScenario
    virtual void check(const Scenario&) const {}
    /// @return an estimate of the memory one run's agents and model state need, in bytes (the
    /// engine adds the series, trajectories, runs in flight and the results file: estimate_memory).
    [[nodiscard]] virtual std::size_t estimate_bytes(const Params& params) const = 0;
    /// @return how many agents of the main traced type a run has (bounds the trajectories in
    /// the memory estimate); default: unknown (no bound).
    [[nodiscard]] virtual std::size_t estimate_traced_agents(const Params&) const { return static_cast<std::size_t>(-1); }
    /// @return the number of groups series are kept by (the product of the dimensions' levels
    /// once init has filled them), for the memory estimate; default: the declared levels.
    [[nodiscard]] virtual std::size_t estimate_groups(const Schema& schema, const Params&) const {
        std::size_t n = 1;
        for (const auto& d : schema.dimensions()) n *= std::max<std::size_t>(1, d.levels.size());
        return n;
    }
    /// Creates the agents and fills the dimension levels; World::step is 0.
    virtual void init(World& world) = 0;
    /// Called after the burn-in (directly after init when there is none), before step 0 is
    /// recorded: the model clears what it counted during the burn-in and records its baseline.
    virtual void start_reporting(World&) {}
    /// @return the phases of a step, in the order the engine runs them.
    [[nodiscard]] virtual std::vector<Phase> phases() = 0;
    /// Called once after the last step; sets the replicate's metrics (World::set_metric).
    virtual void finalize(World&) {}
    /// @return the agent types whose traced attributes are recorded every step for a sample of
    /// rows (empty: none). The first is the main agent type (its count is reported as the
    /// population); all must have one row per agent of the first, as the same rows are sampled.
    [[nodiscard]] virtual std::vector<std::string> traced_agents() const { return {}; }
    /// @return one line on how well the model, with these parameters, meets its calibration
    /// targets (printed in run's summary); empty: the model says nothing.
    [[nodiscard]] virtual std::string calibration_status(const Schema&, const Params&) const { return {}; }
};

/// Creates a fresh model instance for a run.
using ModelFactory = std::function<std::unique_ptr<Model>()>;

/// Declares the engine's own parameters (seed, time, output) and the model's.
/// @throws std::logic_error if the declarations are inconsistent
Schema make_schema(const Model& model);

}  // namespace sim
