#pragma once
/// @file schema.hpp
/// Declarations a model makes to the engine: parameters, agent types and their attributes,
/// output series and their grouping dimensions. Each is declared once; validation, storage,
/// HDF5 output and the parameter reference are all driven from these declarations.

#include "sim/distribution.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace sim {

/// The type of a scenario parameter.
enum class ParamType { real, integer, boolean, choice, text, table };
/// The storage type of an agent attribute column.
enum class ColumnType { f32, f64, i32, u8 };

/// @return "real", "integer", ... for messages and docs.
const char* to_string(ParamType t);
/// @return "f32", "f64", "i32", "u8".
const char* to_string(ColumnType t);

inline constexpr double INF = std::numeric_limits<double>::infinity();

/// One scenario parameter, addressed by a dotted path ("relapse.p_year_on_meds").
/// Declared with a fluent builder: `s.param("a.b").real(0.27).range(0, 1).unit("1/year")...`.
struct ParamSpec {
    std::string path;
    ParamType type = ParamType::real;
    std::string default_yaml;            ///< the default, as YAML text (validated like user input)
    double min = -INF, max = INF;        ///< inclusive range for real and integer values
    bool min_open = false;               ///< true if min itself is excluded
    std::vector<std::string> choices;    ///< allowed values of a choice
    std::vector<ParamSpec> fields;       ///< columns of a table (each row is a map of these)
    std::size_t min_rows = 0;            ///< minimum number of rows of a table
    std::string unit, label, source;     ///< unit, one-line meaning, literature source or "guess"
    Distribution uncertainty;            ///< its uncertainty for a PSA (none: not drawn unless a psa: block gives one)

    ParamSpec& real(double def);
    ParamSpec& integer(long long def);
    ParamSpec& boolean(bool def);
    ParamSpec& choice(std::string def, std::vector<std::string> allowed);
    ParamSpec& text(std::string def);
    /// A list of records; @p default_rows is YAML text of the default list.
    ParamSpec& table(std::vector<ParamSpec> columns, std::string default_rows, std::size_t at_least = 1);
    ParamSpec& range(double lo, double hi);
    /// Range (lo, hi]: lo excluded.
    ParamSpec& above(double lo, double hi = INF);
    ParamSpec& with_unit(std::string u);
    ParamSpec& means(std::string l);
    ParamSpec& cite(std::string s);
    /// Declares the parameter's uncertainty (centred on its default; a PSA draws from it).
    ParamSpec& uncertain(Distribution d);
};

/// What the HDF5 writer stores of an attribute.
enum class Output : std::uint8_t { none, final_state, baseline_and_final };

/// One column of an agent type.
struct AttributeSpec {
    std::string name;
    ColumnType type = ColumnType::f32;
    double init = 0.0;                 ///< value of a freshly allocated row
    double min = -INF, max = INF;      ///< range checked by invariant checks
    std::string unit, label;
    Output output = Output::final_state;
    bool traced = false;               ///< recorded every step for the sampled agents
};

/// An agent type: its name and its columns.
struct AgentTypeSpec {
    std::string name;
    std::string label;
    std::vector<AttributeSpec> attributes;
    /// Declares a column. @throws std::logic_error on a duplicate name.
    AttributeSpec& add(std::string name, ColumnType type, double init, std::string unit, std::string label,
                       Output out = Output::final_state);
};

/// How a time series aggregates over agents in a group.
enum class Stat : std::uint8_t {
    sum,   ///< a total (counts, events, bed-days, costs)
    mean,  ///< a sum divided by the sum of another series (its denominator) in the same group
};

/// Whether a series is a state at a point in time or a count of events during a step.
enum class Kind : std::uint8_t {
    level,  ///< a state at the end of the step (patients engaged); a period reports its last value
    flow,   ///< events or amounts during the step (admissions, bed-days, costs); a period reports their sum
};

/// One output time series.
struct SeriesSpec {
    std::string name, unit, label;
    Stat stat = Stat::sum;
    std::string denominator;  ///< for Stat::mean: the series whose sum divides this one
    bool grouped = true;      ///< false: national only (set by serial phases)
    Kind kind = Kind::level;
    bool headline = false;    ///< printed in run summaries
    int better = 0;           ///< +1: more is better for patients, -1: less is, 0: neither (comparisons word it)

    SeriesSpec& national_only() { grouped = false; return *this; }
    SeriesSpec& flow() { kind = Kind::flow; return *this; }
    SeriesSpec& in_summary() { headline = true; return *this; }
    SeriesSpec& better_if_higher() { better = 1; return *this; }
    SeriesSpec& better_if_lower() { better = -1; return *this; }
};

/// A number a model computes once at the end of each replicate (e.g. a simulated trial's
/// effect size); results keep it per replicate with its mean and quantiles across replicates.
struct MetricSpec {
    std::string name, unit, label;
};

/// A dimension patients are grouped by in the output (arm, region, severity).
struct GroupDimension {
    std::string name;
    std::string label;
    std::vector<std::string> levels;  ///< may be filled at model init (e.g. region names)
};

/// Everything a model declares.
class Schema {
public:
    /// Declares a parameter. @throws std::logic_error on a duplicate path.
    ParamSpec& param(const std::string& path);
    /// Declares an agent type. @throws std::logic_error on a duplicate name.
    AgentTypeSpec& agent(const std::string& name, const std::string& label);
    /// Declares a time series. @throws std::logic_error on a duplicate name.
    SeriesSpec& series(std::string name, std::string unit, std::string label, Stat stat = Stat::sum,
                       std::string denominator = "");
    /// Declares a grouping dimension of the grouped series.
    GroupDimension& dimension(std::string name, std::string label, std::vector<std::string> levels = {});
    /// Declares an end-of-replicate metric. @throws std::logic_error on a duplicate name
    MetricSpec& metric(std::string name, std::string unit, std::string label);
    [[nodiscard]] const std::vector<MetricSpec>& metrics() const { return metrics_; }
    [[nodiscard]] int metric_index(const std::string& name) const;

    [[nodiscard]] const std::vector<ParamSpec>& params() const { return params_; }
    [[nodiscard]] const ParamSpec* find_param(const std::string& path) const;
    /// The declared parameter @p path, for a model to restate an engine parameter's default,
    /// meaning or source. @throws std::logic_error if it is not declared
    ParamSpec& declared(const std::string& path);
    [[nodiscard]] const std::vector<AgentTypeSpec>& agents() const { return agents_; }
    [[nodiscard]] const AgentTypeSpec& agent_spec(const std::string& name) const;
    [[nodiscard]] const std::vector<SeriesSpec>& series() const { return series_; }
    [[nodiscard]] int series_index(const std::string& name) const;
    [[nodiscard]] std::vector<GroupDimension>& dimensions() { return dims_; }
    [[nodiscard]] const std::vector<GroupDimension>& dimensions() const { return dims_; }
    /// @return true if @p prefix is a strict prefix (whole dotted segments) of a declared path.
    [[nodiscard]] bool is_section(const std::string& prefix) const;
    /// @return the declared keys directly below @p prefix ("" for top level).
    [[nodiscard]] std::vector<std::string> children(const std::string& prefix) const;
    /// Checks that every mean series names a declared denominator. @throws std::logic_error
    void check() const;
    /// Names the parameter that gives the price year of the money series (costs are in prices
    /// of that year), for summaries to state it; "" (the default): not declared.
    void set_price_year_parameter(std::string path) { price_year_parameter_ = std::move(path); }
    [[nodiscard]] const std::string& price_year_parameter() const { return price_year_parameter_; }

private:
    std::vector<ParamSpec> params_;
    std::map<std::string, std::size_t> param_index_;
    std::vector<AgentTypeSpec> agents_;
    std::vector<SeriesSpec> series_;
    std::vector<GroupDimension> dims_;
    std::vector<MetricSpec> metrics_;
    std::string price_year_parameter_;
};

}  // namespace sim
