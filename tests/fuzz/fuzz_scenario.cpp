// libFuzzer target for the scenario loader: bytes -> sim::load_scenario_text (with the therasim
// schema) -> sim::preflight. A refusal (any sim::InputError) is the expected outcome for almost
// every input; anything else -- a crash, another exception, a sanitizer report, a timeout or
// running out of memory -- is a finding. Built and run by tools/fuzz.sh; see docs/hardening.md.
#include "models/therasim_model.hpp"
#include "sim/errors.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>

namespace {

/// `extends:` in an input is resolved against the shipped scenarios, so that the seeds that
/// extend england_dialog_rollout.yaml load their base as they do in real use.
constexpr const char* BASE_DIR = THERASIM_SOURCE_DIR "/scenarios";
constexpr const char* NAME_FOR_ERRORS = "fuzz.yaml";

struct Target {
    std::unique_ptr<sim::Model> model = models::make_model();
    sim::Schema schema = sim::make_schema(*model);
    /// THERASIM_FUZZ_SKIP_KNOWN=1 (set by tools/fuzz.sh while fuzzing, not when replaying
    /// tests/fuzz/crashes/) skips inputs that hit a known, reported finding, so that a run
    /// can look for new ones instead of finding the same one again within seconds.
    bool skip_known = [] {
        const char* v = std::getenv("THERASIM_FUZZ_SKIP_KNOWN");
        return v != nullptr && std::string(v) == "1";
    }();
};

/// Counts YAML documents without building nodes.
class DocumentCounter final : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

/// Known finding tests/fuzz/crashes/yaml_cpp_loadall_comma_hang.yaml (yaml-cpp 0.7 issue
/// jbeder/yaml-cpp#1040, fixed upstream by PR #1319 after 0.8.0): for some invalid inputs (a
/// lone ',') yaml-cpp's parser reports an endless stream of empty documents, so YAML::LoadAll,
/// which sim::load_scenario_text calls, never returns and allocates without bound. An input
/// of N bytes holds at most N documents; more means it is this bug.
bool hits_endless_documents(const std::string& text) {
    try {
        std::istringstream in(text);
        YAML::Parser parser(in);
        DocumentCounter counter;
        for (std::size_t docs = 0; parser.HandleNextDocument(counter);)
            if (++docs > text.size() + 1) return true;
    } catch (const YAML::Exception&) {
        // A syntax error: the loader refuses it too.
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Target target;  // built once: the schema does not depend on the input
    const std::string text(reinterpret_cast<const char*>(data), size);
    if (target.skip_known && hits_endless_documents(text)) return -1;  // -1: not added to the corpus
    try {
        const sim::Scenario sc = sim::load_scenario_text(target.schema, text, NAME_FOR_ERRORS, {}, BASE_DIR);
        sim::preflight(*target.model, sc);
        // A scenario that loads must also print as YAML (validate --print) without failing.
        (void)sc.resolved_yaml(target.schema);
    } catch (const sim::InputError&) {
        // A clean refusal with file, line and key: what bad input should get.
    }
    // Any other exception escapes and libFuzzer reports it as a crash (uncaught exception).
    return 0;
}
