// Every value `validate` accepts either runs or is refused before the run: each declared
// parameter is set, alone, to the ends of its range (just inside an open end; a large value for
// an unbounded one), to each of its choices, and to both booleans, and the small scenario is
// loaded, checked (preflight) and, if accepted, run for two weekly steps with the invariant
// checks on. A run that then fails (an exception, an attribute outside its declared range, a
// NaN) is a value the checks should have refused.
#include "tests/support.hpp"

#include "sim/errors.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

/// Parameters whose ends make a run large rather than wrong (the memory and step checks cover
/// them: tests/sim/test_resources.cpp), or that only name things.
const std::set<std::string> SIZE_PARAMETERS = {"population.n_patients", "replicates", "time.years", "time.burn_in_weeks",
                                               "output.trajectories", "time.step_days"};
/// Stands in for +infinity: large enough to be extreme, small enough not to be an allocation.
constexpr double LARGE = 1e6;

std::string number(double v, bool integer) {
    std::ostringstream o;
    if (integer) o << static_cast<long long>(v);
    else o.precision(17), o << v;
    return o.str();
}

/// The values to try for @p p, as YAML text.
std::vector<std::string> ends(const sim::ParamSpec& p) {
    switch (p.type) {
        case sim::ParamType::boolean: return {"true", "false"};
        case sim::ParamType::choice: return p.choices;
        case sim::ParamType::real:
        case sim::ParamType::integer: {
            const bool integer = p.type == sim::ParamType::integer;
            std::vector<std::string> v;
            if (std::isfinite(p.min)) {
                double lo = p.min;
                if (p.min_open) lo = integer ? p.min + 1 : p.min + std::max(1e-9, std::fabs(p.min) * 1e-9);
                v.push_back(number(lo, integer));
            } else {
                v.push_back(number(-LARGE, integer));
            }
            v.push_back(number(std::isfinite(p.max) ? p.max : LARGE, integer));
            return v;
        }
        default: return {};
    }
}

}  // namespace

TEST_CASE("every value validate accepts at the ends of each parameter's range runs", "[parameters][ranges]") {
    const std::string yaml = test::small_yaml(200, 1.0, 11);
    int tried = 0, refused = 0, ran = 0;
    std::vector<std::string> failed;
    for (const auto& p : test::schema().params()) {
        if (SIZE_PARAMETERS.count(p.path)) continue;
        for (const auto& value : ends(p)) {
            const std::string set = p.path + "=" + value;
            INFO("--set " << set);
            ++tried;
            std::optional<test::Run> r;
            try {
                r.emplace(test::run(yaml, {set, "time.years=0.0384"}, 1));  // two weekly steps, invariants checked
            } catch (const sim::InputError&) {
                ++refused;  // refused before the run, with its message: fine
                continue;
            } catch (const std::exception& e) {
                failed.push_back("--set " + set + ": accepted by validate but the run failed: " + e.what());
                continue;
            }
            ++ran;
        }
    }
    INFO(tried << " values: " << ran << " ran, " << refused << " refused before the run");
    for (const auto& f : failed) UNSCOPED_INFO(f);
    CHECK(failed.empty());
    CHECK(tried > 300);
    CHECK(ran > tried / 2);
}
