// libFuzzer target for the scenario loader: bytes -> sim::load_scenario_text (with the therasim
// schema) -> sim::preflight. A refusal (any sim::InputError) is the expected outcome for almost
// every input; anything else -- a crash, another exception, a sanitizer report, a timeout or
// running out of memory -- is a finding. Built and run by tools/fuzz.sh; see docs/hardening.md.
#include "models/therasim_model.hpp"
#include "sim/errors.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace {

/// Preflight checks every point of a sweep (about 25 us a point natively, ten times that in this
/// instrumented build): a valid sweep of 40,000 points takes 1 s in `therasim validate` but more
/// than the fuzzer's 10 s timeout here, a slow input rather than a hang. Larger sweeps are loaded
/// (and their limit of runs checked) but preflighted only up to this many points.
constexpr std::size_t MAX_PREFLIGHT_POINTS = 2000;

/// `extends:` in an input is resolved against the shipped scenarios, so that the seeds that
/// extend england_dialog_rollout.yaml load their base as they do in real use.
constexpr const char* BASE_DIR = THERASIM_SOURCE_DIR "/scenarios";
constexpr const char* NAME_FOR_ERRORS = "fuzz.yaml";

struct Target {
    std::unique_ptr<sim::Model> model = models::make_model();
    sim::Schema schema = sim::make_schema(*model);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Target target;  // built once: the schema does not depend on the input
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const sim::Scenario sc = sim::load_scenario_text(target.schema, text, NAME_FOR_ERRORS, {}, BASE_DIR);
        if (!sc.sweep || sc.sweep->points() <= MAX_PREFLIGHT_POINTS) sim::preflight(*target.model, sc);
        // A scenario that loads must also print as YAML (validate --print) without failing.
        (void)sc.resolved_yaml(target.schema);
    } catch (const sim::InputError&) {
        // A clean refusal with file, line and key: what bad input should get.
    }
    // Any other exception escapes and libFuzzer reports it as a crash (uncaught exception).
    return 0;
}
