#include "sim/scenario.hpp"

#include "sim/numbers.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace sim {
namespace fs = std::filesystem;

namespace {

const std::set<std::string> META_KEYS = {"extends", "name", "description", "sweep", "psa"};
const std::vector<std::string> SWEEP_KEYS = {"design", "samples", "levels", "parameters"};
const std::vector<std::string> PSA_KEYS = {"draws", "comparator", "distributions"};
const std::vector<std::string> DISTRIBUTIONS = {"beta", "gamma", "lognormal", "normal", "uniform", "fixed"};
/// Parameters that set the shape of the results or the random keys: the same at every point.
bool sweepable_path(const std::string& path) {
    return path != "seed" && path != "replicates" && path.rfind("time.", 0) != 0 && path.rfind("output.", 0) != 0;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

/// @return the offset of the first byte that is not valid UTF-8 (RFC 3629: no overlong forms,
/// no surrogates, nothing above U+10FFFF), or npos.
std::size_t invalid_utf8_at(const std::string& s) {
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    while (i < s.size()) {
        const unsigned c = byte(i);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) len = 3, hi = 0x9F;  // no UTF-16 surrogates
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) len = 4, hi = 0x8F;  // nothing above U+10FFFF
        else return i;
        if (i + len > s.size()) return i;
        if (byte(i + 1) < lo || byte(i + 1) > hi) return i;
        for (std::size_t k = 2; k < len; ++k)
            if ((byte(i + k) & 0xC0) != 0x80) return i;
        i += len;
    }
    return std::string::npos;
}

/// @return the 1-based line of a document marker ('---' at the start of a line) that follows
/// content, i.e. starts a second document; 0 if there is none. Column-0 '---' cannot be inside a
/// block scalar of a scenario (its values are indented under their keys).
int second_document_line(const std::string& text) {
    bool content = false, ended = false;
    int line = 0;
    for (std::size_t pos = 0; pos <= text.size();) {
        const std::size_t end = std::min(text.find('\n', pos), text.size());
        const std::string l = text.substr(pos, end - pos);
        ++line;
        const auto marker = [&](const char* m) {
            return l.rfind(m, 0) == 0 && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
        };
        const std::size_t first = l.find_first_not_of(" \t\r");
        const bool has_content = first != std::string::npos && l[first] != '#' && l[0] != '%';
        if (marker("---")) {
            if (content || ended) return line;
        } else if (marker("...")) {
            ended = true;  // an explicit document end: any content after it is another document
        } else if (has_content) {
            if (ended) return line;
            content = true;
        }
        pos = end + 1;
    }
    return 0;
}

/// Where a YAML node is: the file and its 1-based line.
Location at(const std::string& file, const YAML::Node& n) {
    if (file.rfind("--set ", 0) == 0) return Location{file, 0};  // an override's value has no line of its own
    const auto m = n.Mark();
    return Location{file, m.line >= 0 ? m.line + 1 : 0};
}

/// A value as messages quote it: at most its first 40 characters.
std::string shown(const std::string& v) {
    constexpr std::size_t SHOWN = 40;
    return v.size() > SHOWN + 3 ? v.substr(0, SHOWN) + "... (" + std::to_string(v.size()) + " characters)" : v;
}

std::string describe(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Map: return "a mapping";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Null: return "nothing (null)";
        default: return "'" + shown(n.Scalar()) + "'";
    }
}

std::string range_text(const ParamSpec& s) {
    std::ostringstream o;
    o << (s.min_open ? "(" : "[") << (std::isinf(s.min) ? "-inf" : number_text(s.min)) << ", "
      << (std::isinf(s.max) ? "inf" : number_text(s.max)) << "]";
    return o.str();
}

/// Checks that a scalar node holds a finite number in the spec's range; returns it.
double parse_number(const ParamSpec& spec, const YAML::Node& n, const std::string& file, const std::string& key) {
    const char* expected = spec.type == ParamType::integer ? "an integer" : "a real number";
    if (!n.IsScalar() || n.Tag() == "!")
        throw WrongType(at(file, n), key, std::string("expected ") + expected + ", got " + describe(n) +
                                                (n.Tag() == "!" ? " (a quoted string)" : ""));
    const std::string& text = n.Scalar();
    double v = 0.0;
    if (spec.type == ParamType::integer) {
        long long i = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
        if (ec != std::errc() || end != text.data() + text.size())
            throw WrongType(at(file, n), key, std::string("expected an integer, got ") + describe(n));
        v = static_cast<double>(i);
    } else {
        std::string t = text;
        if (t == ".nan" || t == ".NaN" || t == ".NAN" || t == ".inf" || t == "-.inf" || t == "+.inf" || t == ".Inf" ||
            t == "-.Inf")
            throw OutOfRange(at(file, n), key, "expected a finite number in " + range_text(spec) + ", got " + t);
        if (!parse_real(t, v))
            throw WrongType(at(file, n), key, std::string("expected a real number, got ") + describe(n));
        if (!std::isfinite(v))
            throw OutOfRange(at(file, n), key, "expected a finite number in " + range_text(spec) + ", got " + t);
    }
    const bool low = spec.min_open ? v <= spec.min : v < spec.min;
    if (low || v > spec.max)
        throw OutOfRange(at(file, n), key, "expected a value in " + range_text(spec) + ", got " + text +
                                               (spec.unit.empty() ? "" : " (unit: " + spec.unit + ")"));
    return v;
}

Cell parse_cell(const ParamSpec& spec, const YAML::Node& n, const std::string& file, const std::string& key);

Value parse_value(const ParamSpec& spec, const YAML::Node& n, const std::string& file, const std::string& key) {
    Value v;
    v.type = spec.type;
    v.where = at(file, n);
    switch (spec.type) {
        case ParamType::real:
        case ParamType::integer: v.num = parse_number(spec, n, file, key); break;
        case ParamType::boolean: {
            bool b = false;
            if (!n.IsScalar() || n.Tag() == "!" || !YAML::convert<bool>::decode(n, b))
                throw WrongType(at(file, n), key, "expected true or false, got " + describe(n));
            v.num = b ? 1.0 : 0.0;
            break;
        }
        case ParamType::choice: {
            if (!n.IsScalar())
                throw WrongType(at(file, n), key, "expected one of [" + join(spec.choices) + "], got " + describe(n));
            v.str = n.Scalar();
            if (std::find(spec.choices.begin(), spec.choices.end(), v.str) == spec.choices.end()) {
                auto near = nearest_keys(v.str, spec.choices);
                throw OutOfRange(at(file, n), key,
                                 "expected one of [" + join(spec.choices) + "], got '" + shown(v.str) + "'" +
                                     (near.empty() ? "" : "; did you mean '" + near.front() + "'?"));
            }
            break;
        }
        case ParamType::text:
            if (!n.IsScalar()) throw WrongType(at(file, n), key, "expected text, got " + describe(n));
            v.str = n.Scalar();
            break;
        case ParamType::table: {
            if (!n.IsSequence()) throw WrongType(at(file, n), key, "expected a list of records, got " + describe(n));
            if (n.size() < spec.min_rows)
                throw OutOfRange(at(file, n), key,
                                 "expected at least " + std::to_string(spec.min_rows) + " rows, got " + std::to_string(n.size()));
            std::vector<std::string> names;
            for (const auto& f : spec.fields) names.push_back(f.path);
            for (std::size_t r = 0; r < n.size(); ++r) {
                const YAML::Node row = n[r];
                const std::string rkey = key + "[" + std::to_string(r) + "]";
                if (!row.IsMap())
                    throw WrongType(at(file, row), rkey, "expected a record {" + join(names) + "}, got " + describe(row));
                Row out;
                for (const auto& kv : row) {
                    const std::string k = kv.first.Scalar();
                    if (out.count(k)) throw InconsistentScenario(at(file, kv.first), rkey + "." + k, "field given twice in the same record");
                    auto f = std::find_if(spec.fields.begin(), spec.fields.end(), [&](const ParamSpec& s) { return s.path == k; });
                    if (f == spec.fields.end()) {
                        auto near = nearest_keys(k, names);
                        throw UnknownKey(at(file, kv.first), rkey + "." + k,
                                         "unknown field" + (near.empty() ? "" : "; did you mean '" + near.front() + "'?") +
                                             " Fields are: " + join(names));
                    }
                    out[k] = parse_cell(*f, kv.second, file, rkey + "." + k);
                }
                for (const auto& f : spec.fields) {
                    if (out.count(f.path)) continue;
                    if (f.default_yaml.empty())
                        throw InconsistentScenario(at(file, row), rkey, "missing field '" + f.path + "' (" + f.label + ")");
                    out[f.path] = parse_cell(f, YAML::Load(f.default_yaml), "(default)", rkey + "." + f.path);
                }
                v.rows.push_back(std::move(out));
            }
            break;
        }
    }
    return v;
}

Cell parse_cell(const ParamSpec& spec, const YAML::Node& n, const std::string& file, const std::string& key) {
    Value v = parse_value(spec, n, file, key);
    return Cell{v.num, v.str};
}

/// Counts nodes and depth so that alias bombs and deep nesting are refused before any walk.
void check_shape(const YAML::Node& n, const std::string& file, int depth, std::size_t& count) {
    if (++count > MAX_NODES)
        throw UnreadableScenario(at(file, n), "", "more than " + std::to_string(MAX_NODES) +
                                                      " YAML nodes (aliases expanded); a scenario is never this large");
    if (depth > MAX_NESTING)
        throw UnreadableScenario(at(file, n), "", "nesting deeper than " + std::to_string(MAX_NESTING) + " levels");
    if (n.IsMap())
        for (const auto& kv : n) {
            check_shape(kv.first, file, depth + 1, count);
            check_shape(kv.second, file, depth + 1, count);
        }
    else if (n.IsSequence())
        for (const auto& c : n) check_shape(c, file, depth + 1, count);
}

/// A `psa:` block as read; finish_sweep() turns it into the scenario's psa design.
struct PsaBlock {
    Location where;
    std::size_t draws = 0;
    std::vector<std::pair<std::string, Value>> comparator;
    std::vector<std::pair<SweepParameter, bool>> distributions;  ///< given in the block (fixed: false)
};

struct Loader {
    const Schema& schema;
    Scenario sc;
    std::vector<std::string> stack;  // canonical paths being loaded, for cycle detection
    std::optional<PsaBlock> psa = std::nullopt;

    void walk(const YAML::Node& map, const std::string& prefix, const std::string& file) {
        std::set<std::string> seen;
        for (const auto& kv : map) {
            if (!kv.first.IsScalar())
                throw WrongType(at(file, kv.first), prefix, "a key must be a plain name, got " + describe(kv.first));
            const std::string k = kv.first.Scalar();
            const std::string path = prefix.empty() ? k : prefix + "." + k;
            if (!seen.insert(k).second)
                throw InconsistentScenario(at(file, kv.first), path, "key given twice in the same mapping");
            // A missing value's YAML mark is the next token; report it at its key's line.
            if (kv.second.IsNull() && !(prefix.empty() && META_KEYS.count(k))) {
                if (const ParamSpec* spec = schema.find_param(path)) {
                    try {
                        (void)parse_value(*spec, kv.second, file, path);
                    } catch (const InputError& e) {
                        throw WrongType(at(file, kv.first), path, e.detail());
                    }
                } else if (schema.is_section(path)) {
                    throw WrongType(at(file, kv.first), path,
                                    "expected a section with keys [" + join(schema.children(path)) + "], got nothing (null)");
                }
            }
            if (prefix.empty() && META_KEYS.count(k)) continue;
            if (const ParamSpec* spec = schema.find_param(path)) {
                sc.params.put(path, parse_value(*spec, kv.second, file, path));
            } else if (schema.is_section(path)) {
                if (!kv.second.IsMap())
                    throw WrongType(at(file, kv.second), path,
                                    "expected a section with keys [" + join(schema.children(path)) + "], got " + describe(kv.second));
                walk(kv.second, path, file);
            } else {
                auto valid = schema.children(prefix);
                if (prefix.empty()) valid.insert(valid.end(), META_KEYS.begin(), META_KEYS.end());
                auto near = nearest_keys(k, valid);
                throw UnknownKey(at(file, kv.first), path,
                                 "unknown key" + (near.empty() ? "" : "; did you mean '" + near.front() + "'?") +
                                     " Valid keys" + (prefix.empty() ? "" : " in '" + prefix + "'") + " are: " + join(valid));
            }
        }
    }

    /// Reads and checks a `sweep:` block (its design is made once the seed is known).
    Sweep parse_sweep(const YAML::Node& key, const YAML::Node& n, const std::string& file) {
        const std::string keys = "[" + join(SWEEP_KEYS) + "]";
        if (!n.IsMap())
            throw WrongType(at(file, n.IsNull() ? key : n), "sweep", "expected a section with keys " + keys + ", got " + describe(n));
        Sweep s;
        s.where = at(file, key);
        std::set<std::string> seen;
        YAML::Node levels_key, levels, params;  // set once each (assigning an unset node binds it)
        bool has_levels = false, has_params = false;
        for (const auto& kv : n) {
            const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
            const std::string path = "sweep." + k;
            if (std::find(SWEEP_KEYS.begin(), SWEEP_KEYS.end(), k) == SWEEP_KEYS.end()) {
                auto near = nearest_keys(k, SWEEP_KEYS);
                throw UnknownKey(at(file, kv.first), path, "unknown key" + (near.empty() ? "" : "; did you mean '" + near.front() + "'?") +
                                                                 " Valid keys in 'sweep' are: " + join(SWEEP_KEYS));
            }
            if (!seen.insert(k).second) throw InconsistentScenario(at(file, kv.first), path, "key given twice in the same mapping");
            const YAML::Node v = kv.second.IsNull() ? kv.first : kv.second;  // a missing value: report at its key
            auto parse = [&](const ParamSpec& spec) {
                try {
                    return parse_value(spec, kv.second, file, path);
                } catch (const InputError& e) {
                    if (kv.second.IsNull()) throw WrongType(at(file, kv.first), path, e.detail());
                    throw;
                }
            };
            if (k == "design") {
                ParamSpec spec;
                spec.type = ParamType::choice;
                spec.choices = SWEEP_DESIGNS;
                s.design = parse(spec).str;
            } else if (k == "samples") {
                ParamSpec spec;
                spec.type = ParamType::integer;
                spec.min = 2;
                spec.max = static_cast<double>(MAX_SWEEP_RUNS);
                s.samples = static_cast<std::size_t>(parse(spec).num);
            } else if (k == "levels") {
                has_levels = true;
                levels_key = kv.first;
                levels = kv.second;
            } else {
                has_params = true;
                params = kv.second;
                if (!params.IsMap() || params.size() == 0)
                    throw WrongType(at(file, v), path, "expected a mapping of parameter: [lower, upper], e.g. "
                                                       "'dialog.action_probability: [0.02, 0.3]', got " + describe(kv.second));
            }
        }
        if (s.design.empty()) throw InconsistentScenario(s.where, "sweep.design", "missing; expected one of [" + join(SWEEP_DESIGNS) + "]");
        if (s.samples == 0) throw InconsistentScenario(s.where, "sweep.samples", "missing; expected the number of samples (an integer >= 2)");
        if (!has_params) throw InconsistentScenario(s.where, "sweep.parameters", "missing; expected a mapping of parameter: [lower, upper]");
        if (has_levels) {
            if (s.design != "morris")
                throw InconsistentScenario(at(file, levels_key), "sweep.levels", "only applies to design: morris (the design is '" + s.design + "')");
            ParamSpec spec;
            spec.type = ParamType::integer;
            spec.min = 2;
            spec.max = 64;
            if (levels.IsNull()) throw WrongType(at(file, levels_key), "sweep.levels", "expected an even integer in [2, 64], got nothing (null)");
            s.levels = static_cast<int>(parse_number(spec, levels, file, "sweep.levels"));
            if (s.levels % 2)
                throw OutOfRange(at(file, levels), "sweep.levels", "expected an even number of levels (Morris's design), got " +
                                                                             std::to_string(s.levels));
        } else if (s.design == "morris") {
            s.levels = 4;
        }
        std::vector<std::string> sweepable;
        for (const auto& p : schema.params())
            if ((p.type == ParamType::real || p.type == ParamType::integer) && sweepable_path(p.path)) sweepable.push_back(p.path);
        std::set<std::string> names;
        for (const auto& kv : params) {
            const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
            const std::string entry = "sweep.parameters." + name;
            if (!names.insert(name).second) throw InconsistentScenario(at(file, kv.first), entry, "parameter swept twice");
            const ParamSpec* spec = schema.find_param(name);
            if (!spec) {
                auto near = nearest_keys(name, sweepable);
                throw UnknownKey(at(file, kv.first), entry, "unknown parameter" + (near.empty() ? "" : "; did you mean '" + near.front() + "'?") +
                                                              " (a sweep names parameters by their full path)");
            }
            if (spec->type != ParamType::real && spec->type != ParamType::integer)
                throw WrongType(at(file, kv.first), entry, "only real and integer parameters can be swept; '" + name + "' is not a number");
            if (!sweepable_path(name))
                throw InconsistentScenario(at(file, kv.first), entry, "'" + name + "' sets the seed, the replicates, the time axis or the "
                                                                    "outputs, which must be the same at every point; it cannot be swept");
            const YAML::Node range = kv.second;
            if (!range.IsSequence() || range.size() != 2)
                throw WrongType(at(file, range.IsNull() ? kv.first : range), entry, "expected [lower, upper], got " + describe(range));
            SweepParameter sp;
            sp.path = name;
            sp.integer = spec->type == ParamType::integer;
            sp.lower = parse_number(*spec, range[0], file, entry + " (lower)");
            sp.upper = parse_number(*spec, range[1], file, entry + " (upper)");
            sp.where = at(file, kv.first);
            if (!(sp.lower < sp.upper))
                throw OutOfRange(at(file, range), entry, "expected lower < upper, got [" + number_text(sp.lower) + ", " + number_text(sp.upper) + "]");
            s.parameters.push_back(std::move(sp));
        }
        if (s.design == "saltelli" && s.k() < 2)
            throw InconsistentScenario(at(file, params), "sweep.parameters", "a saltelli design needs at least 2 parameters "
                                                                           "(one parameter explains all the variance by definition); "
                                                                           "use latin_hypercube or morris for one");
        return s;
    }

    /// One entry of `psa.distributions`: `{gamma: {mean: 450, sd: 135}}`, `{beta: {mean: 0.3,
    /// interval: [0.2, 0.4]}}` (sd = width / 3.92), `{uniform: [lower, upper]}` or `fixed`; an
    /// optional `guess: true` beside the family marks it as a guess.
    Distribution parse_distribution(const YAML::Node& n, const std::string& file, const std::string& key, const ParamSpec& spec) {
        const std::string expected = "expected one of " + join(DISTRIBUTIONS) + ", e.g. '{gamma: {mean: 450, sd: 135}}', "
                                     "'{beta: {mean: 0.3, interval: [0.2, 0.4]}}', '{uniform: [0.1, 0.3]}' or 'fixed'";
        if (n.IsScalar() && n.Scalar() == "fixed") return Distribution::fixed();
        if (!n.IsMap() || n.size() == 0) throw WrongType(at(file, n), key, expected + ", got " + describe(n));
        ParamSpec number;
        number.type = ParamType::real;
        Distribution d;
        bool family = false;
        for (const auto& kv : n) {
            const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
            if (k == "guess") {
                ParamSpec b;
                b.type = ParamType::boolean;
                d.guess = parse_value(b, kv.second, file, key + ".guess").num != 0;
                continue;
            }
            const auto it = std::find(DISTRIBUTIONS.begin(), DISTRIBUTIONS.end(), k);
            if (it == DISTRIBUTIONS.end() || k == "fixed") {
                auto near = nearest_keys(k, DISTRIBUTIONS);
                throw UnknownKey(at(file, kv.first), key + "." + k, "unknown distribution" +
                                 (near.empty() ? "" : "; did you mean '" + near.front() + "'?") + " " + expected);
            }
            if (family) throw InconsistentScenario(at(file, kv.first), key, "two distributions given; give one");
            family = true;
            const YAML::Node v = kv.second;
            const std::string vkey = key + "." + k;
            if (k == "uniform") {
                if (!v.IsSequence() || v.size() != 2)
                    throw WrongType(at(file, v.IsNull() ? kv.first : v), vkey, "expected [lower, upper], got " + describe(v));
                d = Distribution::uniform(parse_number(number, v[0], file, vkey + " (lower)"),
                                          parse_number(number, v[1], file, vkey + " (upper)"));
            } else {
                if (!v.IsMap() || !v["mean"] || (!v["sd"] == !v["interval"]))
                    throw WrongType(at(file, v.IsNull() ? kv.first : v), vkey,
                                    "expected {mean: M, sd: S} or {mean: M, interval: [lower, upper]} (a 95% interval), got " + describe(v));
                for (const auto& e : v) {
                    const std::string ek = e.first.IsScalar() ? e.first.Scalar() : "";
                    if (ek != "mean" && ek != "sd" && ek != "interval")
                        throw UnknownKey(at(file, e.first), vkey + "." + ek, "unknown key; expected mean, and sd or interval");
                }
                const double mean = parse_number(number, v["mean"], file, vkey + ".mean");
                double sd = 0;
                if (v["sd"]) {
                    sd = parse_number(number, v["sd"], file, vkey + ".sd");
                } else {
                    const YAML::Node iv = v["interval"];
                    if (!iv.IsSequence() || iv.size() != 2)
                        throw WrongType(at(file, iv), vkey + ".interval", "expected [lower, upper] (a 95% interval), got " + describe(iv));
                    const double lo = parse_number(number, iv[0], file, vkey + ".interval (lower)");
                    const double hi = parse_number(number, iv[1], file, vkey + ".interval (upper)");
                    if (!(lo < mean && mean < hi))
                        throw OutOfRange(at(file, iv), vkey + ".interval", "expected lower < mean < upper, got [" + number_text(lo) + ", " +
                                                                              number_text(hi) + "] around " + number_text(mean));
                    sd = (hi - lo) / 3.92;
                }
                d.kind = k == "beta" ? Distribution::Kind::beta : k == "gamma" ? Distribution::Kind::gamma
                       : k == "lognormal" ? Distribution::Kind::lognormal : Distribution::Kind::normal;
                d.a = mean;
                d.b = sd;
            }
        }
        if (!family) throw WrongType(at(file, n), key, expected + ", got only 'guess'");
        if (const std::string why = d.problem(); !why.empty()) throw OutOfRange(at(file, n), key, why);
        if (d.kind == Distribution::Kind::beta && !(spec.min >= 0 && spec.max <= 1))
            throw InconsistentScenario(at(file, n), key, "a beta distribution is for a probability or share in [0, 1]; '" + spec.path +
                                                          "' ranges beyond it");
        if ((d.kind == Distribution::Kind::gamma || d.kind == Distribution::Kind::lognormal) && spec.min < 0)
            throw InconsistentScenario(at(file, n), key, std::string(to_string(d.kind)) + " draws positive values; '" + spec.path +
                                                          "' may be negative: use normal or uniform");
        return d;
    }

    PsaBlock parse_psa(const YAML::Node& key, const YAML::Node& n, const std::string& file) {
        if (!n.IsMap())
            throw WrongType(at(file, n.IsNull() ? key : n), "psa", "expected a section with keys [" + join(PSA_KEYS) + "], got " + describe(n));
        PsaBlock b;
        b.where = at(file, key);
        std::vector<std::string> drawable;
        for (const auto& p : schema.params())
            if ((p.type == ParamType::real || p.type == ParamType::integer) && sweepable_path(p.path)) drawable.push_back(p.path);
        std::set<std::string> seen;
        for (const auto& kv : n) {
            const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
            const std::string path = "psa." + k;
            if (std::find(PSA_KEYS.begin(), PSA_KEYS.end(), k) == PSA_KEYS.end()) {
                auto near = nearest_keys(k, PSA_KEYS);
                throw UnknownKey(at(file, kv.first), path, "unknown key" + (near.empty() ? "" : "; did you mean '" + near.front() + "'?") +
                                                                 " Valid keys in 'psa' are: " + join(PSA_KEYS));
            }
            if (!seen.insert(k).second) throw InconsistentScenario(at(file, kv.first), path, "key given twice in the same mapping");
            const YAML::Node v = kv.second;
            if (k == "draws") {
                ParamSpec spec;
                spec.type = ParamType::integer;
                spec.min = 2;
                spec.max = static_cast<double>(MAX_SWEEP_RUNS / 2);
                if (v.IsNull()) throw WrongType(at(file, kv.first), path, "expected the number of parameter draws (an integer >= 2), got nothing (null)");
                b.draws = static_cast<std::size_t>(parse_number(spec, v, file, path));
            } else if (k == "comparator") {
                if (!v.IsMap() || v.size() == 0)
                    throw WrongType(at(file, v.IsNull() ? kv.first : v), path, "expected a mapping of parameter: value that makes the "
                                                                               "comparator, e.g. 'dialog.enabled: false', got " + describe(v));
                std::vector<std::string> all;
                for (const auto& p : schema.params()) all.push_back(p.path);
                for (const auto& e : v) {
                    const std::string name = e.first.IsScalar() ? e.first.Scalar() : "";
                    const ParamSpec* spec = schema.find_param(name);
                    if (!spec) {
                        auto near = nearest_keys(name, all);
                        throw UnknownKey(at(file, e.first), path + "." + name, "unknown parameter" +
                                         (near.empty() ? "" : "; did you mean '" + near.front() + "'?") + " (the comparator names parameters by their full path)");
                    }
                    if (!sweepable_path(name))
                        throw InconsistentScenario(at(file, e.first), path + "." + name, "sets the seed, the replicates, the time axis or the "
                                                                                         "outputs, which the comparator must share");
                    Value val = parse_value(*spec, e.second, file, path + "." + name);
                    val.where = at(file, e.first);
                    b.comparator.emplace_back(name, std::move(val));
                }
            } else {
                if (!v.IsMap() || v.size() == 0)
                    throw WrongType(at(file, v.IsNull() ? kv.first : v), path, "expected a mapping of parameter: distribution, e.g. "
                                                                               "'costs.bed_day: {gamma: {mean: 450, sd: 135}}', got " + describe(v));
                std::set<std::string> names;
                for (const auto& e : v) {
                    const std::string name = e.first.IsScalar() ? e.first.Scalar() : "";
                    const std::string ekey = path + "." + name;
                    if (!names.insert(name).second) throw InconsistentScenario(at(file, e.first), ekey, "parameter given twice");
                    const ParamSpec* spec = schema.find_param(name);
                    if (!spec) {
                        auto near = nearest_keys(name, drawable);
                        throw UnknownKey(at(file, e.first), ekey, "unknown parameter" + (near.empty() ? "" : "; did you mean '" + near.front() + "'?"));
                    }
                    if (std::find(drawable.begin(), drawable.end(), name) == drawable.end())
                        throw InconsistentScenario(at(file, e.first), ekey, "only real and integer parameters other than the seed, the "
                                                                            "replicates, the time axis and the outputs can be uncertain");
                    SweepParameter sp;
                    sp.path = name;
                    sp.integer = spec->type == ParamType::integer;
                    sp.lower = spec->min;
                    sp.upper = spec->max;
                    sp.where = at(file, e.first);
                    sp.dist = parse_distribution(e.second, file, ekey, *spec);
                    const bool drawn = sp.dist.drawn();
                    b.distributions.emplace_back(std::move(sp), drawn);
                }
            }
        }
        if (b.draws == 0) throw InconsistentScenario(b.where, "psa.draws", "missing; expected the number of parameter draws (an integer >= 2)");
        if (b.comparator.empty())
            throw InconsistentScenario(b.where, "psa.comparator", "missing; expected the overrides that make the comparator of every draw, "
                                                                  "e.g. 'comparator: {dialog.enabled: false}'");
        return b;
    }

    /// Turns the `psa:` block into the scenario's psa design: every parameter with a declared
    /// distribution (centred on its resolved value) or one given in the block.
    void finish_psa() {
        if (!psa) return;
        if (sc.sweep)
            throw InconsistentScenario(psa->where, "psa", "a scenario has either a sweep: block (" + sc.sweep->where.str() +
                                                          ") or a psa: block, not both");
        Sweep s;
        s.design = "psa";
        s.samples = psa->draws;
        s.where = psa->where;
        std::set<std::string> given;
        for (const auto& [sp, drawn] : psa->distributions) {
            given.insert(sp.path);
            if (drawn) s.parameters.push_back(sp);
        }
        for (const auto& p : schema.params()) {
            if (given.count(p.path) || !p.uncertainty.drawn() || !sweepable_path(p.path)) continue;
            const double value = sc.params.real(p.path);
            const Distribution d = p.uncertainty.centred_at(value);
            if (!d.problem().empty()) continue;  // e.g. a cost set to 0: nothing to be uncertain about
            SweepParameter sp;
            sp.path = p.path;
            sp.integer = p.type == ParamType::integer;
            sp.lower = p.min;
            sp.upper = p.max;
            sp.where = psa->where;
            sp.dist = d;
            s.parameters.push_back(std::move(sp));
        }
        if (s.parameters.empty())
            throw InconsistentScenario(psa->where, "psa.distributions", "no parameter is uncertain: every declared distribution is "
                                                                       "fixed here; give one under distributions:");
        std::stable_sort(s.parameters.begin(), s.parameters.end(), [](const auto& x, const auto& y) { return x.path < y.path; });
        const auto reps = static_cast<std::size_t>(sc.params.integer("replicates"));
        if (s.points() * reps > MAX_SWEEP_RUNS)
            throw InconsistentScenario(psa->where, "psa.draws", "the analysis needs " + std::to_string(s.points()) + " runs x " +
                                                                    std::to_string(reps) + " replicates, more than " +
                                                                    std::to_string(MAX_SWEEP_RUNS) + " runs");
        make_design(s, static_cast<std::uint32_t>(sc.params.integer("seed")));
        sc.sweep = std::move(s);
        sc.comparator = psa->comparator;
    }

    /// Checks the sweep against the resolved parameters and makes its design.
    void finish_sweep() {
        if (!sc.sweep) return;
        Sweep& s = *sc.sweep;
        // A value set beside the sweep (in its file, a later one or --set) would be ignored at
        // every point: refused. A value from a base file is what the sweep replaces.
        const auto position = [&](const std::string& file) {
            return std::find(sc.chain.begin(), sc.chain.end(), file) - sc.chain.begin();
        };
        for (const auto& p : s.parameters) {
            const Location w = sc.params.where(p.path);
            if (w.file.rfind("--set ", 0) == 0)
                throw InconsistentScenario(w, p.path, "is swept by the scenario's sweep: block (" + s.where.str() +
                                                          "); a --set value would be ignored, so it is refused");
            if (!w.file.empty() && position(w.file) >= position(s.where.file))
                throw InconsistentScenario(w, p.path, "is also swept by the sweep: block at " + s.where.str() +
                                                          "; this value would be ignored at every point, so it is refused "
                                                          "(set it in a base file, or remove it from the sweep)");
        }
        const auto reps = static_cast<std::size_t>(sc.params.integer("replicates"));
        const std::size_t points = s.points();
        if (points / std::max<std::size_t>(1, s.samples) != Sweep::points_for(s.design, 1, s.k()) || points * reps > MAX_SWEEP_RUNS)
            throw InconsistentScenario(s.where, "sweep.samples", "the sweep needs " + std::to_string(points) + " points x " +
                                                                     std::to_string(reps) + " replicates, more than " +
                                                                     std::to_string(MAX_SWEEP_RUNS) + " runs");
        make_design(s, static_cast<std::uint32_t>(sc.params.integer("seed")));
    }

    YAML::Node parse_text(const std::string& text, const std::string& file) {
        if (text.size() > MAX_SCENARIO_BYTES)
            throw UnreadableScenario(Location{file, 0}, "", "file is larger than 1 MiB; a scenario is never this large");
        if (const std::size_t bad = invalid_utf8_at(text); bad != std::string::npos) {
            const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
            throw UnreadableScenario(Location{file, static_cast<int>(line)}, "", "file is not valid UTF-8 text");
        }
        // A second document would be ignored by YAML::Load; refuse it. (YAML::LoadAll is not
        // used: in yaml-cpp 0.7 it never returns on some inputs, e.g. a lone ','.)
        if (const int line = second_document_line(text); line > 0)
            throw UnreadableScenario(Location{file, line}, "", "more than one YAML document ('---'); a scenario is one document");
        YAML::Node root;
        try {
            root = YAML::Load(text);
        } catch (const YAML::Exception& e) {
            throw UnreadableScenario(Location{file, e.mark.line >= 0 ? e.mark.line + 1 : 0}, "",
                                     "YAML syntax error: " + e.msg);
        }
        if (root.IsNull()) throw UnreadableScenario(Location{file, 0}, "", "the scenario is empty");
        if (!root.IsMap()) throw WrongType(at(file, root), "", "a scenario must be a mapping of keys, got " + describe(root));
        std::size_t count = 0;
        check_shape(root, file, 0, count);
        return root;
    }

    void load_node(const YAML::Node& root, const std::string& file, const fs::path& dir, int depth) {
        if (const auto ext = root["extends"]) {
            if (!ext.IsScalar() || ext.Scalar().empty())
                throw WrongType(at(file, ext), "extends", "expected the path of a base scenario file, got " + describe(ext));
            // This file is number depth + 1 of the chain; its base would be depth + 2.
            if (depth + 2 > MAX_EXTENDS)
                throw InconsistentScenario(at(file, ext), "extends", "chain of more than " + std::to_string(MAX_EXTENDS) + " files");
            const fs::path base = dir / ext.Scalar();
            load_file(base.string(), at(file, ext), depth + 1);
        }
        walk(root, "", file);
        for (const auto& kv : root)  // a file's sweep: block replaces any its bases had
            if (kv.first.IsScalar() && kv.first.Scalar() == "sweep") sc.sweep = parse_sweep(kv.first, kv.second, file);
            else if (kv.first.IsScalar() && kv.first.Scalar() == "psa") psa = parse_psa(kv.first, kv.second, file);
        if (const auto n = root["name"]; n && n.IsScalar()) sc.name = n.Scalar();
        if (const auto d = root["description"]; d && d.IsScalar()) sc.description = d.Scalar();
    }

    void load_file(const std::string& file, const Location& from, int depth) {
        std::error_code ec;
        if (!fs::exists(file, ec))
            throw UnreadableScenario(from, depth ? "extends" : "", "scenario file '" + file + "' does not exist");
        if (fs::is_directory(file, ec))
            throw UnreadableScenario(from, depth ? "extends" : "", "'" + file + "' is a directory, not a scenario file");
        // A pipe, device or socket is refused before it is opened: opening a FIFO with no
        // writer would block for ever, and reading a device may never end.
        if (!fs::is_regular_file(file, ec))
            throw UnreadableScenario(from, depth ? "extends" : "",
                                     "'" + file + "' is not a regular file (a pipe, device or socket); give a scenario file");
        const std::string canon = fs::weakly_canonical(file, ec).string();
        if (std::find(stack.begin(), stack.end(), canon) != stack.end())
            throw InconsistentScenario(from, "extends", "cycle: '" + file + "' extends itself through " + join(stack));
        std::ifstream in(file, std::ios::binary);
        if (!in) throw UnreadableScenario(from, "", "cannot read scenario file '" + file + "'");
        // Read at most one byte past the limit, so that a file that grows while it is read is
        // refused rather than read until memory runs out.
        std::string text(MAX_SCENARIO_BYTES + 1, '\0');
        in.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(in.gcount()));
        if (text.size() > MAX_SCENARIO_BYTES)
            throw UnreadableScenario(Location{file, 0}, "", "file is larger than 1 MiB; a scenario is never this large");
        stack.push_back(canon);
        load_node(parse_text(text, file), file, fs::path(file).parent_path(), depth);
        sc.chain.push_back(file);  // after its bases: the chain lists the base first
        stack.pop_back();
    }

    void apply_override(const std::string& kv) {
        const auto eq = kv.find('=');
        // Messages name the override by its key and the start of its value, not a whole value.
        constexpr std::size_t SHOWN = 40;
        const Location where{"--set " + (kv.size() > SHOWN + 3 ? kv.substr(0, SHOWN) + "..." : kv), 0};
        if (eq == std::string::npos || eq == 0) throw UsageError("--set expects key.path=value, got '" + shown(kv) + "'");
        const std::string path = kv.substr(0, eq);
        const ParamSpec* spec = schema.find_param(path);
        if (!spec) {
            const auto dot = path.rfind('.');
            const std::string prefix = dot == std::string::npos ? "" : path.substr(0, dot);
            if (schema.is_section(path))
                throw UnknownKey(where, path, "is a section; set one of its keys: " + join(schema.children(path)));
            std::vector<std::string> all;
            for (const auto& p : schema.params()) all.push_back(p.path);
            auto near = nearest_keys(path, all);
            throw UnknownKey(where, path, "unknown parameter" + (near.empty() ? "" : "; did you mean '" + near.front() + "'?"));
        }
        // The value goes through the file loader's checks: UTF-8, size, one document, nesting
        // and alias expansion.
        const std::string text = kv.substr(eq + 1);
        if (text.size() > MAX_SCENARIO_BYTES) throw UnreadableScenario(where, path, "value is larger than 1 MiB");
        if (invalid_utf8_at(text) != std::string::npos) throw UnreadableScenario(where, path, "value is not valid UTF-8 text");
        if (second_document_line(text) > 0)
            throw UnreadableScenario(where, path, "value holds more than one YAML document ('---')");
        YAML::Node n;
        try {
            n = YAML::Load(text);
        } catch (const YAML::Exception& e) {
            throw WrongType(where, path, "value is not valid YAML: " + e.msg);
        }
        std::size_t count = 0;
        check_shape(n, where.file, 1, count);
        Value v = parse_value(*spec, n, where.file, path);
        v.where = where;
        sc.params.put(path, std::move(v));
    }

    void fill_defaults() {
        for (const auto& spec : schema.params()) {
            if (sc.params.all().count(spec.path)) continue;
            Value v = parse_value(spec, YAML::Load(spec.default_yaml), "", spec.path);
            v.where = Location{};
            sc.params.put(spec.path, std::move(v));
        }
    }
};

void emit_value(YAML::Emitter& out, const ParamSpec& spec, const Value& v) {
    switch (spec.type) {
        case ParamType::real: out << number_text(v.num); break;
        case ParamType::integer: out << static_cast<long long>(v.num); break;
        case ParamType::boolean: out << (v.num != 0.0); break;
        case ParamType::choice: out << v.str; break;
        case ParamType::text: out << YAML::DoubleQuoted << v.str; break;
        case ParamType::table:
            out << YAML::BeginSeq;
            for (const auto& row : v.rows) {
                out << YAML::Flow << YAML::BeginMap;
                for (const auto& f : spec.fields) {
                    out << YAML::Key << f.path << YAML::Value;
                    const Cell& c = row.at(f.path);
                    Value cv;
                    cv.num = c.num;
                    cv.str = c.str;
                    emit_value(out, f, cv);
                }
                out << YAML::EndMap;
            }
            out << YAML::EndSeq;
            break;
    }
}

/// Writes the parameters under @p prefix, except those in @p skip.
void emit_section(YAML::Emitter& out, const Schema& schema, const Params& params, const std::string& prefix,
                  const std::set<std::string>& skip) {
    for (const auto& key : schema.children(prefix)) {
        const std::string path = prefix.empty() ? key : prefix + "." + key;
        if (skip.count(path)) continue;
        out << YAML::Key << key << YAML::Value;
        if (const ParamSpec* spec = schema.find_param(path)) {
            emit_value(out, *spec, params.get(path));
        } else {
            out << YAML::BeginMap;
            emit_section(out, schema, params, path, skip);
            out << YAML::EndMap;
        }
    }
}

}  // namespace

std::vector<std::string> nearest_keys(const std::string& key, const std::vector<std::string>& candidates) {
    std::vector<std::pair<std::size_t, std::string>> scored;
    const std::size_t limit = std::max<std::size_t>(2, key.size() / 3);
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(key, c);
        if (d <= limit) scored.emplace_back(d, c);
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (const auto& s : scored) out.push_back(s.second);
    return out;
}

Scenario load_scenario(const Schema& schema, const std::string& path, const std::vector<std::string>& overrides) {
    Loader l{schema, {}, {}};
    l.sc.path = path;
    l.load_file(path, Location{path, 0}, 0);
    for (const auto& o : overrides) l.apply_override(o);
    l.fill_defaults();
    l.finish_sweep();
    l.finish_psa();
    if (l.sc.name.empty()) l.sc.name = fs::path(path).stem().string();
    return std::move(l.sc);
}

Scenario load_scenario_text(const Schema& schema, const std::string& yaml, const std::string& name_for_errors,
                            const std::vector<std::string>& overrides, const std::string& base_dir) {
    Loader l{schema, {}, {}};
    l.sc.path = name_for_errors;
    l.sc.chain.push_back(name_for_errors);
    l.load_node(l.parse_text(yaml, name_for_errors), name_for_errors, fs::path(base_dir), 0);
    for (const auto& o : overrides) l.apply_override(o);
    l.fill_defaults();
    l.finish_sweep();
    l.finish_psa();
    if (l.sc.name.empty()) l.sc.name = name_for_errors;
    return std::move(l.sc);
}

std::size_t Scenario::runs() const {
    return (sweep ? sweep->points() : 1) * static_cast<std::size_t>(params.integer("replicates"));
}

Scenario Scenario::at_point(std::size_t point) const {
    if (!sweep) throw std::logic_error("at_point() of a scenario without a sweep");
    Scenario out;
    out.name = name;
    out.description = description;
    out.path = path;
    out.chain = chain;
    out.params = params;
    for (std::size_t i = 0; i < sweep->k(); ++i) {
        Value v = params.get(sweep->parameters[i].path);
        v.num = sweep->value(point, i);
        v.where = sweep->parameters[i].where;
        out.params.put(sweep->parameters[i].path, std::move(v));
    }
    if (sweep->design == "psa" && sweep->role.at(point) == 1)
        for (const auto& [key, v] : comparator) out.params.put(key, v);
    return out;
}

std::string Scenario::resolved_yaml(const Schema& schema) const {
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << name;
    if (!description.empty()) out << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted << description;
    // Swept parameters are given by the sweep alone (a value beside it would be refused).
    std::set<std::string> swept;
    if (sweep && sweep->design != "psa")  // a psa's distributions are centred on the values: both are written
        for (const auto& p : sweep->parameters) swept.insert(p.path);
    emit_section(out, schema, params, "", swept);
    if (sweep && sweep->design == "psa") {
        out << YAML::Key << "psa" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "draws" << YAML::Value << sweep->samples;
        out << YAML::Key << "comparator" << YAML::Value << YAML::BeginMap;
        for (const auto& [key, v] : comparator) {
            out << YAML::Key << key << YAML::Value;
            emit_value(out, *schema.find_param(key), v);
        }
        out << YAML::EndMap;
        out << YAML::Key << "distributions" << YAML::Value << YAML::BeginMap;
        for (const auto& p : sweep->parameters) {
            const Distribution& d = p.dist;
            out << YAML::Key << p.path << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << to_string(d.kind) << YAML::Value;
            if (d.kind == Distribution::Kind::uniform)
                out << YAML::Flow << YAML::BeginSeq << number_text(d.a) << number_text(d.b) << YAML::EndSeq;
            else
                out << YAML::Flow << YAML::BeginMap << YAML::Key << "mean" << YAML::Value << number_text(d.a) << YAML::Key << "sd"
                    << YAML::Value << number_text(d.b) << YAML::EndMap;
            if (d.guess) out << YAML::Key << "guess" << YAML::Value << true;
            out << YAML::EndMap;
        }
        // A declared distribution the analysis does not draw stays fixed when this is run again.
        std::set<std::string> drawn;
        for (const auto& p : sweep->parameters) drawn.insert(p.path);
        for (const auto& p : schema.params())
            if (p.uncertainty.drawn() && !drawn.count(p.path)) out << YAML::Key << p.path << YAML::Value << "fixed";
        out << YAML::EndMap << YAML::EndMap;
    } else if (sweep) {
        out << YAML::Key << "sweep" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "design" << YAML::Value << sweep->design;
        out << YAML::Key << "samples" << YAML::Value << sweep->samples;
        if (sweep->design == "morris") out << YAML::Key << "levels" << YAML::Value << sweep->levels;
        out << YAML::Key << "parameters" << YAML::Value << YAML::BeginMap;
        for (const auto& p : sweep->parameters)
            out << YAML::Key << p.path << YAML::Value << YAML::Flow << YAML::BeginSeq << number_text(p.lower) << number_text(p.upper)
                << YAML::EndSeq;
        out << YAML::EndMap << YAML::EndMap;
    }
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace sim
