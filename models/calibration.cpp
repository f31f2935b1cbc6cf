// The calibration status line of run's summary: how the calibrated defaults meet the targets
// of docs/validation.md (recorded in the generated models/calibration_status.hpp), for the
// run's hypothesis, and whether that record applies to this run.

#include "models/calibration_status.hpp"
#include "models/therasim_model.hpp"

#include <cstdio>
#include <string>

namespace models {

namespace {

std::string fixed3(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", v);
    return b;
}

}  // namespace

std::string TherasimModel::calibration_status(const sim::Schema& schema, const sim::Params& params) const {
    std::string changed, stale;
    for (const auto& f : calibration::FITTED_DEFAULTS) {
        const std::string path(f.path);
        const sim::ParamSpec* spec = schema.find_param(path);
        if (!spec || spec->default_yaml != f.value) {
            stale += (stale.empty() ? "" : ", ") + path;
            continue;
        }
        if (params.real(path) != std::stod(spec->default_yaml)) changed += (changed.empty() ? "" : ", ") + path;
    }
    const std::string& hypothesis = params.str("mechanism.hypothesis");
    std::string line = "calibration: ";
    if (!stale.empty())
        return line + "docs/validation.md is out of date (fitted defaults changed since: " + stale +
               "); regenerate it with tools/validate.sh";
    for (const auto& h : calibration::HYPOTHESES) {
        if (h.name != hypothesis) continue;
        line += std::to_string(h.inside) + " of " + std::to_string(h.scored) + " published targets inside with the defaults under " +
                hypothesis + "; simulated DIALOG 2007 trial quality of life d = " + fixed3(h.trial_qol_d) + " (published " +
                fixed3(calibration::TRIAL_QOL_D_PUBLISHED) + ") (docs/validation.md)";
        if (!changed.empty()) line += "; this run changes fitted parameters (" + changed + "): the figures are those of the defaults";
        return line;
    }
    return line + "hypothesis " + hypothesis + " is not in docs/validation.md; regenerate it with tools/validate.sh";
}

}  // namespace models
