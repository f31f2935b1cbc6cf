#pragma once
/// @file params.hpp
/// Validated parameter values of a scenario, each with the place it was set.

#include "sim/errors.hpp"
#include "sim/schema.hpp"

#include <map>
#include <string>
#include <vector>

namespace sim {

/// One cell of a table row: a number (real, integer, boolean as 0/1) or a string.
struct Cell {
    double num = 0.0;
    std::string str;
};
/// A table row: field name to cell.
using Row = std::map<std::string, Cell>;

/// A validated parameter value.
struct Value {
    ParamType type = ParamType::real;
    double num = 0.0;       ///< real, integer, boolean (0/1)
    std::string str;        ///< choice, text
    std::vector<Row> rows;  ///< table
    Location where;         ///< where it was set ("(default)" if never set)
};

/// The complete, validated parameter set of a scenario: every declared parameter has a value.
class Params {
public:
    /// @throws std::out_of_range if @p path is not declared (a programming error, not user input)
    [[nodiscard]] double real(const std::string& path) const;
    /// @throws std::out_of_range if @p path is not declared
    [[nodiscard]] long long integer(const std::string& path) const;
    /// @throws std::out_of_range if @p path is not declared
    [[nodiscard]] bool boolean(const std::string& path) const;
    /// The value of a choice or text parameter. @throws std::out_of_range if not declared
    [[nodiscard]] const std::string& str(const std::string& path) const;
    /// @throws std::out_of_range if not declared
    [[nodiscard]] const std::vector<Row>& table(const std::string& path) const;
    /// Where the value was set, for error messages of cross-parameter checks.
    [[nodiscard]] Location where(const std::string& path) const;
    /// @return true if the value was set by a scenario file or override rather than defaulted.
    [[nodiscard]] bool is_set(const std::string& path) const { return !where(path).file.empty(); }

    /// Sets a validated value (used by the scenario loader).
    void put(const std::string& path, Value v) { values_[path] = std::move(v); }
    [[nodiscard]] const Value& get(const std::string& path) const;
    [[nodiscard]] const std::map<std::string, Value>& all() const { return values_; }

private:
    std::map<std::string, Value> values_;
};

}  // namespace sim
