#pragma once
/// @file agents.hpp
/// Structure-of-arrays storage: one contiguous typed column per declared attribute.

#include "sim/schema.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sim {

/// One typed column.
using Column = std::variant<std::vector<float>, std::vector<double>, std::vector<std::int32_t>, std::vector<std::uint8_t>>;

namespace detail {
template <class T> struct ColumnTag;
template <> struct ColumnTag<float> { static constexpr ColumnType type = ColumnType::f32; };
template <> struct ColumnTag<double> { static constexpr ColumnType type = ColumnType::f64; };
template <> struct ColumnTag<std::int32_t> { static constexpr ColumnType type = ColumnType::i32; };
template <> struct ColumnTag<std::uint8_t> { static constexpr ColumnType type = ColumnType::u8; };
}  // namespace detail

/// All agents of one type, as columns.
class AgentTable {
public:
    /// Creates an empty table with one column per attribute of @p spec.
    explicit AgentTable(const AgentTypeSpec& spec);

    /// Sets the number of agents; new rows take each attribute's declared initial value.
    void resize(std::size_t n);
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] const AgentTypeSpec& spec() const { return *spec_; }
    [[nodiscard]] const std::string& name() const { return spec_->name; }

    /// @return a pointer to the first element of column @p name.
    /// @throws std::logic_error if there is no such column or its type is not T
    /// @warning the pointer is invalidated by resize()
    template <class T> [[nodiscard]] T* column(std::string_view name) {
        const std::size_t i = index_of(name);
        if (spec_->attributes[i].type != detail::ColumnTag<T>::type)
            throw std::logic_error("column " + spec_->name + "." + std::string(name) + " is " +
                                   to_string(spec_->attributes[i].type));
        return std::get<std::vector<T>>(columns_[i]).data();
    }
    template <class T> [[nodiscard]] const T* column(std::string_view name) const {
        return const_cast<AgentTable*>(this)->column<T>(name);
    }
    /// @return column @p i as stored. @throws std::out_of_range
    [[nodiscard]] const Column& column_at(std::size_t i) const { return columns_.at(i); }
    /// @return the index of column @p name. @throws std::logic_error if absent
    [[nodiscard]] std::size_t index_of(std::string_view name) const;
    /// @return the value at (@p row, column @p col) as a double (for checks and sampled output).
    [[nodiscard]] double as_double(std::size_t col, std::size_t row) const {
        return std::visit([row](const auto& v) { return static_cast<double>(v[row]); }, columns_[col]);
    }

private:
    const AgentTypeSpec* spec_;
    std::vector<Column> columns_;
    std::size_t size_ = 0;
};

}  // namespace sim
