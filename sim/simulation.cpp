#include "sim/simulation.hpp"

#include "sim/errors.hpp"
#include "sim/parallel.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <unistd.h>

namespace sim {

std::uint32_t horizon_steps(const Params& params) {
    return static_cast<std::uint32_t>(std::lround(params.real("time.years") * 365.25 / params.real("time.step_days")));
}

std::uint32_t burn_in_steps(const Params& params) {
    return static_cast<std::uint32_t>(std::lround(params.real("time.burn_in_weeks") * 7.0 / params.real("time.step_days")));
}

World::World(const Schema& s, const Scenario& scenario, std::uint32_t replicate)
    : schema(s), params(scenario.params),
      rng(static_cast<std::uint32_t>(scenario.params.integer("seed")), replicate), dims(s.dimensions()) {
    step_days = params.real("time.step_days");
    n_steps = horizon_steps(params);
    n_burn_in = burn_in_steps(params);
    for (const auto& a : s.agents()) tables_.emplace_back(a);
    metrics.assign(s.metrics().size(), std::numeric_limits<double>::quiet_NaN());
}

AgentTable& World::agents(const std::string& name) {
    for (auto& t : tables_)
        if (t.name() == name) return t;
    throw std::logic_error("no agent type " + name);
}
const AgentTable& World::agents(const std::string& name) const { return const_cast<World*>(this)->agents(name); }

std::size_t World::n_groups() const {
    std::size_t n = 1;
    for (const auto& d : dims) n *= std::max<std::size_t>(1, d.levels.size());
    return n;
}

int World::series_id(const std::string& name) const {
    const int i = schema.series_index(name);
    if (i < 0) throw std::logic_error("no series " + name);
    return i;
}
void World::set_metric(const std::string& name, double value) {
    const int i = schema.metric_index(name);
    if (i < 0) throw std::logic_error("no metric " + name);
    metrics[static_cast<std::size_t>(i)] = value;
}

void World::set_national(const std::string& name, double value) {
    if (!burning_in()) series.set_national(step, series_id(name), value);
}
void World::add_national(const std::string& name, double value) {
    if (!burning_in()) series.add_national(step, series_id(name), value);
}

Schema make_schema(const Model& model) {
    Schema s;
    s.param("seed").integer(1).range(0, 4294967295.0).means("Random seed: with the scenario, it fixes every draw");
    s.param("replicates").integer(1).range(1, 100000).with_unit("runs")
        .means("Replicates of the scenario: replicate r draws from its own keyed streams (seed, r); results hold every replicate and their quantiles");
    s.param("time.years").real(5.0).above(0, 100).with_unit("years").means("Simulated horizon");
    s.param("time.step_days").real(7.0).above(0, 365).with_unit("days").means("Length of one step");
    s.param("time.burn_in_weeks").real(0.0).range(0, 5200).with_unit("weeks")
        .means("Weeks simulated before time 0 and not reported, so that time 0 is a settled state (the model may set its own default)");
    s.param("output.trajectories").integer(200).range(0, 100000).with_unit("agents")
        .means("Number of agents of the traced type whose state is recorded every step");
    s.param("output.compression").integer(1).range(0, 9).means("gzip (deflate) level of HDF5 datasets (0: none; docs/output.md, Storage)");
    s.param("output.grouped").boolean(true)
        .means("Write the series by group (arm x region x severity) as well as nationally; false keeps large sweeps small");
    model.declare(s);
    s.check();
    return s;
}

std::size_t available_memory() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::size_t kb = 0;
    std::string unit;
    while (in >> key >> kb >> unit)
        if (key == "MemAvailable:") return kb * 1024;
    return 0;
}

std::size_t peak_rss() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

namespace {

std::string fmt_number(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

/// A whole number of things, exactly below 10^15.
std::string count_text(double v) {
    return v < 1e15 ? std::to_string(std::llround(v)) : "more than 10^15";
}

std::string mib(std::size_t bytes) { return std::to_string(static_cast<unsigned long long>(std::llround(double(bytes) / (1u << 20)))) + " MiB"; }

void check_time(const Scenario& sc) {
    const Params& p = sc.params;
    const double steps = p.real("time.years") * 365.25 / p.real("time.step_days");
    const double burn = p.real("time.burn_in_weeks") * 7.0 / p.real("time.step_days");
    if (std::lround(steps) < 1)
        throw InconsistentScenario(p.where("time.years"), "time.years",
                                   "a horizon of " + fmt_number(p.real("time.years")) + " years is shorter than one step of " +
                                       fmt_number(p.real("time.step_days")) + " days: the run would take no step");
    if (steps + burn > MAX_STEPS)
        throw ResourceLimit(p.where("time.step_days"), "time.step_days",
                            "time.years, time.burn_in_weeks and time.step_days give " + count_text(steps + burn) +
                                " steps; at most " + count_text(MAX_STEPS) + " are allowed");
}

void check_memory(const Model& model, const Schema& schema, const Scenario& scenario, unsigned threads) {
    const MemoryEstimate e = estimate_memory(model, schema, scenario, threads);
    const std::size_t need = e.total();
    const std::size_t have = available_memory();
    if (have > 0 && need > have * 8 / 10) {
        // Named after what dominates: the agents, or the series (steps x groups) and the file.
        const double other = std::max(double(e.series + e.part) * double(e.in_flight), double(e.assembly) - 2.0 * double(e.agents));
        const bool agents = double(e.agents) * double(e.in_flight + 1) >= other;
        const std::string key = agents ? "population.n_patients" : "time.step_days";
        std::ostringstream m;
        m << "the run needs about " << mib(need) << " (per run: agents " << mib(e.agents) << ", series " << mib(e.series)
          << ", its results " << mib(e.part) << "; " << e.in_flight << " run(s) at once; the results file " << mib(e.assembly)
          << ") but only " << mib(have) << " are available; "
          << (agents ? "reduce the population" : "take fewer or longer steps, fewer replicates, or set output.grouped: false");
        throw ResourceLimit(scenario.params.where(key), key, m.str());
    }
}

}  // namespace

MemoryEstimate estimate_memory(const Model& model, const Schema& schema, const Scenario& sc, unsigned threads) {
    const Params& p = sc.params;
    MemoryEstimate e;
    e.agents = model.estimate_bytes(p);
    const auto steps = static_cast<std::size_t>(std::max<std::uint32_t>(1, horizon_steps(p))) + 1;
    const std::size_t groups = model.estimate_groups(schema, p), ns = schema.series().size();
    std::size_t grouped = 0;
    for (const auto& s : schema.series()) grouped += s.grouped ? 1 : 0;
    if (!p.boolean("output.grouped")) grouped = 0;
    std::size_t traced = 0;
    for (const auto& a : schema.agents())
        for (const auto& at : a.attributes) traced += at.traced ? 1 : 0;
    const std::size_t k = std::min(static_cast<std::size_t>(p.integer("output.trajectories")), model.estimate_traced_agents(p));
    const std::size_t trajectories = steps * traced * k * sizeof(float);
    // The store keeps every series by group for every step (doubles); the trajectories grow
    // by doubling, so up to twice their size is held.
    e.series = steps * ns * groups * sizeof(double) + 2 * trajectories;
    const std::size_t row = steps * (ns + grouped * groups) * sizeof(double);  // one run's national and grouped rows
    e.part = row + trajectories;
    const unsigned t = threads ? threads : parallel::hardware_threads();
    e.in_flight = std::min<std::size_t>(std::max(1u, t), sc.runs());
    // Every run's rows, run 0's agents and trajectories, the summaries (4 statistics of a row),
    // and one series of every run read back for them.
    const double assembly = (double(sc.runs()) * double(row) + double(e.agents) + double(trajectories) + 4.0 * double(row)) +
                            double(sc.runs()) * double(steps * groups * sizeof(double));
    e.assembly = assembly >= 1.8e19 ? static_cast<std::size_t>(-1) : static_cast<std::size_t>(assembly);
    return e;
}

void preflight(const Model& model, const Scenario& scenario, unsigned threads) {
    const Schema schema = make_schema(model);
    check_time(scenario);
    if (!scenario.sweep) {
        model.check(scenario);
        check_memory(model, schema, scenario, threads);
        return;
    }
    // Every point must be a valid scenario: a combination of swept values can be impossible.
    // Points are checked in parallel; the error reported is that of the first bad point.
    const Sweep& s = *scenario.sweep;
    std::mutex mutex;
    std::size_t first_bad = s.points();
    std::exception_ptr error;
    parallel::for_each_index(s.points(), [&](std::size_t p) {
        const Scenario at = scenario.at_point(p);
        try {
            check_time(at);
            model.check(at);
            check_memory(model, schema, at, threads);
        } catch (const InputError&) {
            const std::lock_guard<std::mutex> lock(mutex);
            if (p < first_bad) {
                first_bad = p;
                error = std::current_exception();
            }
        }
    });
    if (!error) return;
    try {
        std::rethrow_exception(error);
    } catch (const InputError& e) {
        // An error the scenario has whatever the swept values are is not the sweep's.
        try {
            model.check(scenario);
        } catch (const InputError& base) {
            if (base.key() == e.key() && base.detail() == e.detail()) throw;
        }
        std::ostringstream values;
        values << std::setprecision(6);
        for (std::size_t i = 0; i < s.k(); ++i) values << (i ? ", " : "") << s.parameters[i].path << " = " << s.value(first_bad, i);
        throw InconsistentScenario(e.where(), e.key(), e.detail() + " (at sweep point " + std::to_string(first_bad) + ": " +
                                                           values.str() + "; narrow the ranges in the sweep: block)");
    }
}

namespace {

std::string now_iso() {
    const std::time_t t = std::time(nullptr);
    char buf[32];
    std::tm utc{};
    gmtime_r(&t, &utc);  // std::gmtime's static buffer is shared by replicates running in parallel
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

Snapshot take_snapshot(const AgentTable& t, bool baseline_only) {
    Snapshot s{t.name(), {}, {}};
    const auto& attrs = t.spec().attributes;
    for (std::size_t i = 0; i < attrs.size(); ++i) {
        const bool keep = baseline_only ? attrs[i].output == Output::baseline_and_final : attrs[i].output != Output::none;
        if (!keep) continue;
        s.columns.push_back(i);
        s.data.push_back(t.column_at(i));
    }
    return s;
}

/// Which kernels of a sweep run.
enum class Kernels { all, observers, state };  // state: all but the observers (burn-in)

void run_sweep(World& w, const Phase& phase, Kernels which) {
    AgentTable& t = w.agents(phase.agent_type);
    const std::size_t n = t.size();
    const std::size_t nb = (n + BLOCK_SIZE - 1) / BLOCK_SIZE;
    parallel::for_each_block(nb, [&](std::size_t b) {
        const Block blk{b, b * BLOCK_SIZE, std::min(n, (b + 1) * BLOCK_SIZE)};
        for (const auto& k : phase.kernels)
            if (which == Kernels::all || (which == Kernels::observers) == k.observer) k.fn(w, blk);
    });
}

void check_invariants(const World& w) {
    for (const auto& t : w.tables()) {
        const auto& attrs = t.spec().attributes;
        for (std::size_t c = 0; c < attrs.size(); ++c) {
            for (std::size_t r = 0; r < t.size(); ++r) {
                const double v = t.as_double(c, r);
                if (std::isnan(v) || v < attrs[c].min || v > attrs[c].max) {
                    std::ostringstream m;
                    m << "invariant violated at step " << w.step << ": " << t.name() << "[" << r << "]." << attrs[c].name
                      << " = " << v << ", expected within [" << attrs[c].min << ", " << attrs[c].max << "]";
                    throw RunError(m.str());
                }
            }
        }
    }
}

class Progress {
public:
    Progress(bool on, std::uint32_t total) : on_(on && isatty(STDERR_FILENO)), total_(total), t0_(clock::now()) {}
    void update(std::uint32_t done) {
        if (!on_) return;
        const double el = std::chrono::duration<double>(clock::now() - t0_).count();
        if (done != total_ && el - last_ < 0.1) return;
        last_ = el;
        const int width = 30;
        const int fill = static_cast<int>(width * done / std::max<std::uint32_t>(1, total_));
        const double eta = done ? el * (total_ - done) / done : 0.0;
        std::fprintf(stderr, "\r[%.*s%*s] %3u%% step %u/%u  ETA %5.1fs ", fill, "==============================",
                     width - fill, "", 100 * done / std::max<std::uint32_t>(1, total_), done, total_, eta);
        if (done == total_) std::fprintf(stderr, "\n");
    }

private:
    using clock = std::chrono::steady_clock;
    bool on_;
    std::uint32_t total_;
    clock::time_point t0_;
    double last_ = -1.0;
};

void record_trajectories(const World& w, Trajectories& tr) {
    for (const auto& c : tr.columns) {
        const AgentTable& t = w.tables()[c.table];
        for (std::uint32_t r : tr.rows) tr.values.push_back(static_cast<float>(t.as_double(c.attribute, r)));
    }
}

}  // namespace

struct Stepper::State {
    State(Model& m, const Scenario& sc, const RunOptions& o) : model(m), scenario(sc), opt(o) {}
    Model& model;
    const Scenario& scenario;
    RunOptions opt;
    std::optional<parallel::ThreadLimit> limit;
    std::unique_ptr<Results> res;
    std::vector<Phase> phases;
    std::chrono::steady_clock::time_point t0, t1;

    void step(Kernels which) {
        World& w = *res->world;
        for (const auto& p : phases) {
            if (p.agent_type.empty())
                p.serial(w);
            else
                run_sweep(w, p, which);
        }
    }
    void check_stop() const {
        if (opt.stop && *opt.stop) throw Interrupted(static_cast<int>(*opt.stop));
    }
};

Stepper::Stepper(Model& model, const Schema& schema, const Scenario& scenario, const RunOptions& opt)
    : s_(std::make_unique<State>(model, scenario, opt)) {
    const unsigned threads = opt.threads ? opt.threads : parallel::hardware_threads();
    if (!opt.nested) s_->limit.emplace(threads);

    s_->res = std::make_unique<Results>();
    Results& res = *s_->res;
    res.threads = threads;
    res.start_time = now_iso();
    s_->t0 = std::chrono::steady_clock::now();

    res.world = std::make_unique<World>(schema, scenario, opt.replicate);
    World& w = *res.world;
    w.run = opt.run;
    model.init(w);

    std::size_t max_rows = 0;
    for (const auto& t : w.tables()) max_rows = std::max(max_rows, t.size());
    w.series.init(schema, w.n_groups(), w.n_steps, (max_rows + BLOCK_SIZE - 1) / BLOCK_SIZE);

    s_->phases = model.phases();
    // Burn-in: steps -n_burn_in..-1, every rule but the observers; nothing is recorded.
    const auto burn_in_start = std::chrono::steady_clock::now();
    for (std::uint32_t b = w.n_burn_in; b > 0; --b) {
        s_->check_stop();
        w.step = static_cast<std::uint32_t>(-static_cast<std::int64_t>(b));
        s_->step(Kernels::state);
        if (opt.steps_done) opt.steps_done->fetch_add(1, std::memory_order_relaxed);
    }
    res.burn_in_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - burn_in_start).count();
    w.step = 0;
    model.start_reporting(w);
    for (const auto& p : s_->phases)
        if (!p.agent_type.empty()) run_sweep(w, p, Kernels::observers);
    w.series.commit(0);
    if (opt.check_invariants) check_invariants(w);

    for (const auto& t : w.tables()) {
        Snapshot s = take_snapshot(t, true);
        if (!s.columns.empty()) res.baseline.push_back(std::move(s));
    }

    Trajectories& tr = res.trajectories;
    const std::vector<std::string> traced = model.traced_agents();
    if (!traced.empty()) {
        const std::size_t n = w.agents(traced.front()).size();
        const auto k = static_cast<std::size_t>(
            std::min<long long>(scenario.params.integer("output.trajectories"), static_cast<long long>(n)));
        for (std::size_t i = 0; i < k; ++i) tr.rows.push_back(static_cast<std::uint32_t>(i * n / k));
        for (std::size_t ti = 0; ti < w.tables().size(); ++ti) {
            const AgentTable& t = w.tables()[ti];
            if (std::find(traced.begin(), traced.end(), t.name()) == traced.end()) continue;
            if (t.size() != n) throw std::logic_error("traced agent type " + t.name() + " is not row-aligned with " + traced.front());
            for (std::size_t c = 0; c < t.spec().attributes.size(); ++c)
                if (t.spec().attributes[c].traced) tr.columns.push_back({ti, c});
        }
        record_trajectories(w, tr);
    }
    s_->t1 = std::chrono::steady_clock::now();
}

Stepper::~Stepper() = default;

bool Stepper::done() const { return !s_->res || s_->res->world->step >= s_->res->world->n_steps; }

const World& Stepper::world() const { return *s_->res->world; }

const Results& Stepper::results() const { return *s_->res; }

void Stepper::step() {
    if (done()) throw std::logic_error("Stepper::step after the last step");
    s_->check_stop();
    World& w = *s_->res->world;
    w.step += 1;
    s_->step(Kernels::all);
    w.series.commit(w.step);
    record_trajectories(w, s_->res->trajectories);
    if (s_->opt.check_invariants) check_invariants(w);
    if (s_->opt.steps_done) s_->opt.steps_done->fetch_add(1, std::memory_order_relaxed);
}

std::unique_ptr<Results> Stepper::finish() {
    if (!done()) throw std::logic_error("Stepper::finish before the last step");
    s_->model.finalize(*s_->res->world);
    const auto t2 = std::chrono::steady_clock::now();
    s_->res->wall_seconds = std::chrono::duration<double>(t2 - s_->t0).count();
    s_->res->step_seconds = std::chrono::duration<double>(t2 - s_->t1).count();
    return std::move(s_->res);
}

std::unique_ptr<Results> run(Model& model, const Schema& schema, const Scenario& scenario, const RunOptions& opt) {
    Stepper stepper(model, schema, scenario, opt);
    Progress progress(opt.progress, stepper.world().n_steps);
    while (!stepper.done()) {
        stepper.step();
        progress.update(stepper.world().step);
    }
    return stepper.finish();
}

}  // namespace sim
