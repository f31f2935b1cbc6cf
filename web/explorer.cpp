// The explorer's engine: the therasim engine and model compiled to WebAssembly, driven a week
// at a time by the page (web/src/engine.js). A C interface, because the page needs only a few
// calls and the strings and arrays cross into JavaScript through the module's memory.
//
// A simulation is created from a scenario's YAML text and `--set` overrides, validated exactly
// as `therasim run` validates them (the same code, so the same messages), and stepped with
// sim::Stepper, which run() also uses: the same scenario, seed and overrides give the same
// numbers as the command line (tests/web checks a hash of every series).
#include "models/therasim_model.hpp"
#include "sim/errors.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

#include <emscripten/emscripten.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Simulation {
    std::unique_ptr<sim::Model> model;
    std::unique_ptr<sim::Schema> schema;
    std::unique_ptr<sim::Scenario> scenario;
    std::unique_ptr<sim::Stepper> stepper;
    std::vector<double> buffer;  // the last column asked for
};

std::map<int, std::unique_ptr<Simulation>> simulations;
int next_handle = 1;
std::string last_error;
std::string text;  // the last string returned

Simulation* find(int h) {
    const auto it = simulations.find(h);
    return it == simulations.end() ? nullptr : it->second.get();
}

const char* give(std::string s) {
    text = std::move(s);
    return text.c_str();
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::vector<std::string> lines(const char* s) {
    std::vector<std::string> out;
    std::istringstream in(s ? s : "");
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

/// The hash of a series: 64-bit FNV-1a over its values' bits, a word per value, NaN taken as the
/// one canonical NaN (which bits a NaN has differs between processors). tests/web/series_hash.py
/// computes the same from a results file.
class Hash {
public:
    void add(double v) {
        std::uint64_t w;
        if (std::isnan(v)) w = 0x7ff8000000000000ull;
        else std::memcpy(&w, &v, sizeof w);
        word(w);
    }
    void add(float v) {
        std::uint32_t w;
        if (std::isnan(v)) w = 0x7fc00000u;
        else std::memcpy(&w, &v, sizeof w);
        word(w);
    }
    [[nodiscard]] std::string hex() const {
        char buf[20];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
        return buf;
    }

private:
    void word(std::uint64_t w) { h_ = (h_ ^ w) * 0x100000001b3ull; }
    std::uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace

extern "C" {

/// Creates a simulation of @p yaml (named @p name in messages) with @p overrides, one
/// "key=value" per line, up to step 0 (agents created, burn-in run).
/// @return its handle, or 0 with the message in ts_last_error().
EMSCRIPTEN_KEEPALIVE int ts_create(const char* yaml, const char* name, const char* overrides) {
    try {
        auto s = std::make_unique<Simulation>();
        s->model = models::make_model();
        s->schema = std::make_unique<sim::Schema>(sim::make_schema(*s->model));
        s->scenario = std::make_unique<sim::Scenario>(sim::load_scenario_text(*s->schema, yaml, name, lines(overrides)));
        sim::preflight(*s->model, *s->scenario, 1);
        sim::RunOptions opt;
        opt.threads = 1;
        s->stepper = std::make_unique<sim::Stepper>(*s->model, *s->schema, *s->scenario, opt);
        const int h = next_handle++;
        simulations[h] = std::move(s);
        last_error.clear();
        return h;
    } catch (const sim::InputError& e) {
        last_error = std::string("error: ") + e.what();
    } catch (const std::exception& e) {
        last_error = std::string("run failed: ") + e.what();
    }
    return 0;
}

/// The message of the last failure, as `therasim` prints it after "therasim: ".
EMSCRIPTEN_KEEPALIVE const char* ts_last_error() { return last_error.c_str(); }

EMSCRIPTEN_KEEPALIVE void ts_destroy(int h) { simulations.erase(h); }

/// Runs the next step. @return the step now reached, or -1 (message in ts_last_error()).
EMSCRIPTEN_KEEPALIVE int ts_step(int h) {
    Simulation* s = find(h);
    if (!s) return -1;
    try {
        if (!s->stepper->done()) s->stepper->step();
        return static_cast<int>(s->stepper->world().step);
    } catch (const std::exception& e) {
        last_error = std::string("run failed: ") + e.what();
        return -1;
    }
}

EMSCRIPTEN_KEEPALIVE int ts_current_step(int h) {
    const Simulation* s = find(h);
    return s ? static_cast<int>(s->stepper->world().step) : -1;
}

EMSCRIPTEN_KEEPALIVE int ts_n_steps(int h) {
    const Simulation* s = find(h);
    return s ? static_cast<int>(s->stepper->world().n_steps) : -1;
}

/// @return the value of real or integer parameter @p path as the run uses it, NaN if it has none.
EMSCRIPTEN_KEEPALIVE double ts_param(int h, const char* path) {
    const Simulation* s = find(h);
    if (!s) return NAN;
    try {
        return s->scenario->params.real(path);
    } catch (const std::exception&) {
    }
    try {
        return static_cast<double>(s->scenario->params.integer(path));
    } catch (const std::exception&) {
        return NAN;
    }
}

/// @return the number of agents of type @p agent, or -1.
EMSCRIPTEN_KEEPALIVE int ts_rows(int h, const char* agent) {
    const Simulation* s = find(h);
    if (!s) return -1;
    try {
        return static_cast<int>(s->stepper->world().agents(agent).size());
    } catch (const std::exception&) {
        return -1;
    }
}

/// @return attribute @p attribute of every agent of type @p agent now, as doubles (valid until
/// the next call), or null if there is no such attribute.
EMSCRIPTEN_KEEPALIVE const double* ts_column(int h, const char* agent, const char* attribute) {
    Simulation* s = find(h);
    if (!s) return nullptr;
    try {
        const sim::AgentTable& t = s->stepper->world().agents(agent);
        const std::size_t c = t.index_of(attribute);
        s->buffer.resize(t.size());
        for (std::size_t r = 0; r < t.size(); ++r) s->buffer[r] = t.as_double(c, r);
        return s->buffer.data();
    } catch (const std::exception&) {
        return nullptr;
    }
}

/// @return the series the model declares, as JSON: [{name, label, unit, mean}].
EMSCRIPTEN_KEEPALIVE const char* ts_series_list(int h) {
    const Simulation* s = find(h);
    if (!s) return "[]";
    std::string out = "[";
    for (const auto& sp : s->schema->series()) {
        if (out.size() > 1) out += ",";
        out += "{\"name\":" + json_string(sp.name) + ",\"label\":" + json_string(sp.label) + ",\"unit\":" +
               json_string(sp.unit) + ",\"mean\":" + (sp.stat == sim::Stat::mean ? "true" : "false") + "}";
    }
    return give(out + "]");
}

/// @return national series @p index at @p step, as the results file's /series/national has it.
EMSCRIPTEN_KEEPALIVE double ts_series(int h, int index, int step) {
    const Simulation* s = find(h);
    if (!s || index < 0 || step < 0) return NAN;
    const sim::World& w = s->stepper->world();
    if (static_cast<std::size_t>(index) >= s->schema->series().size() || static_cast<std::uint32_t>(step) > w.step) return NAN;
    return w.series.value(*s->schema, static_cast<std::size_t>(step), static_cast<std::size_t>(index), sim::SeriesStore::ALL);
}

/// @return a hash of every series and trajectory up to the current step, as JSON
/// {"national/NAME": hex, "grouped/NAME": hex, "trajectories/ATTRIBUTE": hex}.
EMSCRIPTEN_KEEPALIVE const char* ts_hashes(int h) {
    const Simulation* s = find(h);
    if (!s) return "{}";
    const sim::World& w = s->stepper->world();
    const sim::Schema& schema = *s->schema;
    const std::size_t steps = w.step + 1, groups = w.n_groups();
    const bool grouped = s->scenario->params.boolean("output.grouped");
    std::string out = "{";
    auto put = [&](const std::string& key, const Hash& hash) {
        if (out.size() > 1) out += ",";
        out += json_string(key) + ":\"" + hash.hex() + "\"";
    };
    for (std::size_t i = 0; i < schema.series().size(); ++i) {
        Hash national;
        for (std::size_t t = 0; t < steps; ++t) national.add(w.series.value(schema, t, i, sim::SeriesStore::ALL));
        put("national/" + schema.series()[i].name, national);
        if (!grouped || !schema.series()[i].grouped) continue;
        Hash by_group;
        for (std::size_t t = 0; t < steps; ++t)
            for (std::size_t g = 0; g < groups; ++g) by_group.add(w.series.value(schema, t, i, g));
        put("grouped/" + schema.series()[i].name, by_group);
    }
    const sim::Trajectories& tr = s->stepper->results().trajectories;
    const std::size_t k = tr.rows.size(), nc = tr.columns.size();
    for (std::size_t c = 0; c < nc; ++c) {
        Hash hash;
        for (std::size_t t = 0; t < steps; ++t)
            for (std::size_t i = 0; i < k; ++i) hash.add(tr.values[(t * nc + c) * k + i]);
        const auto& col = tr.columns[c];
        put("trajectories/" + w.tables()[col.table].spec().attributes[col.attribute].name, hash);
    }
    return give(out + "}");
}

}  // extern "C"
