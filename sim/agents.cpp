#include "sim/agents.hpp"

#include "sim/parallel.hpp"

namespace sim {

AgentTable::AgentTable(const AgentTypeSpec& spec) : spec_(&spec) {
    for (const auto& a : spec.attributes) {
        switch (a.type) {
            case ColumnType::f32: columns_.emplace_back(std::vector<float>{}); break;
            case ColumnType::f64: columns_.emplace_back(std::vector<double>{}); break;
            case ColumnType::i32: columns_.emplace_back(std::vector<std::int32_t>{}); break;
            case ColumnType::u8: columns_.emplace_back(std::vector<std::uint8_t>{}); break;
        }
    }
}

void AgentTable::resize(std::size_t n) {
    // Columns in parallel: filling a large table (and the first touch of its memory) is a
    // share of a national run's setup.
    parallel::for_each_index(columns_.size(), [&](std::size_t i) {
        const double init = spec_->attributes[i].init;
        std::visit([&](auto& v) { v.resize(n, static_cast<typename std::decay_t<decltype(v)>::value_type>(init)); },
                   columns_[i]);
    });
    size_ = n;
}

std::size_t AgentTable::index_of(std::string_view name) const {
    for (std::size_t i = 0; i < spec_->attributes.size(); ++i)
        if (spec_->attributes[i].name == name) return i;
    throw std::logic_error("agent type " + spec_->name + " has no attribute " + std::string(name));
}

}  // namespace sim
