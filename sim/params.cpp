#include "sim/params.hpp"

#include <stdexcept>

namespace sim {

const Value& Params::get(const std::string& path) const {
    auto it = values_.find(path);
    if (it == values_.end()) throw std::out_of_range("parameter not declared: " + path);
    return it->second;
}
double Params::real(const std::string& path) const { return get(path).num; }
long long Params::integer(const std::string& path) const { return static_cast<long long>(get(path).num); }
bool Params::boolean(const std::string& path) const { return get(path).num != 0.0; }
const std::string& Params::str(const std::string& path) const { return get(path).str; }
const std::vector<Row>& Params::table(const std::string& path) const { return get(path).rows; }
Location Params::where(const std::string& path) const { return get(path).where; }

}  // namespace sim
