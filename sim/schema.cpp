#include "sim/schema.hpp"

#include "sim/numbers.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace sim {

const char* to_string(ParamType t) {
    switch (t) {
        case ParamType::real: return "real";
        case ParamType::integer: return "integer";
        case ParamType::boolean: return "boolean";
        case ParamType::choice: return "choice";
        case ParamType::text: return "text";
        case ParamType::table: return "table";
    }
    return "?";
}

const char* to_string(ColumnType t) {
    switch (t) {
        case ColumnType::f32: return "f32";
        case ColumnType::f64: return "f64";
        case ColumnType::i32: return "i32";
        case ColumnType::u8: return "u8";
    }
    return "?";
}

ParamSpec& ParamSpec::real(double def) {
    type = ParamType::real;
    default_yaml = number_text(def);
    return *this;
}
ParamSpec& ParamSpec::integer(long long def) {
    type = ParamType::integer;
    default_yaml = std::to_string(def);
    return *this;
}
ParamSpec& ParamSpec::boolean(bool def) {
    type = ParamType::boolean;
    default_yaml = def ? "true" : "false";
    return *this;
}
ParamSpec& ParamSpec::choice(std::string def, std::vector<std::string> allowed) {
    type = ParamType::choice;
    default_yaml = std::move(def);
    choices = std::move(allowed);
    return *this;
}
ParamSpec& ParamSpec::text(std::string def) {
    type = ParamType::text;
    default_yaml = "\"" + def + "\"";
    return *this;
}
ParamSpec& ParamSpec::table(std::vector<ParamSpec> columns, std::string default_rows, std::size_t at_least) {
    type = ParamType::table;
    fields = std::move(columns);
    default_yaml = std::move(default_rows);
    min_rows = at_least;
    return *this;
}
ParamSpec& ParamSpec::range(double lo, double hi) {
    min = lo;
    max = hi;
    min_open = false;
    return *this;
}
ParamSpec& ParamSpec::above(double lo, double hi) {
    min = lo;
    max = hi;
    min_open = true;
    return *this;
}
ParamSpec& ParamSpec::with_unit(std::string u) {
    unit = std::move(u);
    return *this;
}
ParamSpec& ParamSpec::means(std::string l) {
    label = std::move(l);
    return *this;
}
ParamSpec& ParamSpec::cite(std::string s) {
    source = std::move(s);
    return *this;
}

ParamSpec& ParamSpec::uncertain(Distribution d) {
    if (!d.problem().empty()) throw std::logic_error(path + ": " + d.problem());
    uncertainty = d;
    return *this;
}

AttributeSpec& AgentTypeSpec::add(std::string attr, ColumnType t, double init, std::string unit, std::string lbl,
                                  Output out) {
    for (const auto& a : attributes)
        if (a.name == attr) throw std::logic_error("attribute declared twice: " + name + "." + attr);
    attributes.push_back(AttributeSpec{std::move(attr), t, init, -INF, INF, std::move(unit), std::move(lbl), out, false});
    return attributes.back();
}

ParamSpec& Schema::param(const std::string& path) {
    if (param_index_.count(path)) throw std::logic_error("parameter declared twice: " + path);
    for (const auto& [p, i] : param_index_) {
        // A path cannot be both a value and a section ("a.b" and "a.b.c").
        if (p.rfind(path + ".", 0) == 0 || path.rfind(p + ".", 0) == 0)
            throw std::logic_error("parameter " + path + " clashes with " + p);
    }
    param_index_[path] = params_.size();
    params_.push_back(ParamSpec{});
    params_.back().path = path;
    return params_.back();
}

AgentTypeSpec& Schema::agent(const std::string& name, const std::string& label) {
    for (const auto& a : agents_)
        if (a.name == name) throw std::logic_error("agent type declared twice: " + name);
    agents_.push_back(AgentTypeSpec{name, label, {}});
    return agents_.back();
}

SeriesSpec& Schema::series(std::string name, std::string unit, std::string label, Stat stat, std::string denominator) {
    if (series_index(name) >= 0) throw std::logic_error("series declared twice: " + name);
    series_.push_back(SeriesSpec{std::move(name), std::move(unit), std::move(label), stat, std::move(denominator), true, Kind::level, false});
    return series_.back();
}

GroupDimension& Schema::dimension(std::string name, std::string label, std::vector<std::string> levels) {
    dims_.push_back(GroupDimension{std::move(name), std::move(label), std::move(levels)});
    return dims_.back();
}

MetricSpec& Schema::metric(std::string name, std::string unit, std::string label) {
    if (metric_index(name) >= 0) throw std::logic_error("metric declared twice: " + name);
    metrics_.push_back(MetricSpec{std::move(name), std::move(unit), std::move(label)});
    return metrics_.back();
}

int Schema::metric_index(const std::string& name) const {
    for (std::size_t i = 0; i < metrics_.size(); ++i)
        if (metrics_[i].name == name) return static_cast<int>(i);
    return -1;
}

const ParamSpec* Schema::find_param(const std::string& path) const {
    auto it = param_index_.find(path);
    return it == param_index_.end() ? nullptr : &params_[it->second];
}

ParamSpec& Schema::declared(const std::string& path) {
    auto it = param_index_.find(path);
    if (it == param_index_.end()) throw std::logic_error("no parameter " + path);
    return params_[it->second];
}

const AgentTypeSpec& Schema::agent_spec(const std::string& name) const {
    for (const auto& a : agents_)
        if (a.name == name) return a;
    throw std::out_of_range("no agent type " + name);
}

int Schema::series_index(const std::string& name) const {
    for (std::size_t i = 0; i < series_.size(); ++i)
        if (series_[i].name == name) return static_cast<int>(i);
    return -1;
}

bool Schema::is_section(const std::string& prefix) const {
    const std::string p = prefix + ".";
    auto it = param_index_.lower_bound(p);
    return it != param_index_.end() && it->first.rfind(p, 0) == 0;
}

std::vector<std::string> Schema::children(const std::string& prefix) const {
    std::vector<std::string> out;
    const std::string p = prefix.empty() ? "" : prefix + ".";
    for (const auto& spec : params_) {
        if (spec.path.rfind(p, 0) != 0) continue;
        std::string rest = spec.path.substr(p.size());
        std::string head = rest.substr(0, rest.find('.'));
        if (std::find(out.begin(), out.end(), head) == out.end()) out.push_back(head);
    }
    return out;
}

void Schema::check() const {
    for (const auto& s : series_) {
        if (s.stat != Stat::mean) continue;
        const int d = series_index(s.denominator);
        if (d < 0) throw std::logic_error("series " + s.name + " has no denominator series " + s.denominator);
        if (series_[static_cast<std::size_t>(d)].grouped != s.grouped)
            throw std::logic_error("series " + s.name + " and its denominator differ in grouping");
    }
}

}  // namespace sim
