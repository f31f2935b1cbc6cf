// Families: carer burden grows with the patient's symptoms, relapses and admissions and feeds
// back into expressed emotion (EE), which raises relapse risk. A family intervention lowers
// the family's EE trait.

#include "models/components.hpp"

namespace models {

void family_step(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& fa = x.cfg.family;
    auto& f = x.f;
    const auto& p = x.p;
    const bool offer = fa.intervention_enabled &&
                       static_cast<int>(w.step) == std::max(1, steps_in_years(fa.intervention_start_year, w.step_days));
    for (std::size_t j = b.begin; j < b.end; ++j) {
        if (offer && w.rng.uniform(static_cast<std::uint32_t>(j), streams::FAMILY_INTERVENTION, 0) < fa.intervention_coverage) {
            f.intervention[j] = 1;
            f.ee_trait[j] = clampf(f.ee_trait[j] - fa.intervention_ee_reduction, 0, 1);
        }
        const auto i = static_cast<std::size_t>(f.patient[j]);
        const double excess = std::max(0.0f, p.symptoms[i] - p.symptoms_base[i]) / 40.0;
        const double burden_target = std::clamp(
            fa.burden_base + fa.burden_symptoms * excess + fa.burden_inpatient * p.inpatient[i] + fa.burden_relapse * p.relapsed[i], 0.0, 1.0);
        f.burden[j] = clampf(f.burden[j] + x.k.r_burden * (burden_target - f.burden[j]), 0, 1);
        const double ee_target = std::clamp(f.ee_trait[j] + fa.ee_burden * (f.burden[j] - fa.burden_base), 0.0, 1.0);
        f.ee[j] = clampf(f.ee[j] + x.k.r_ee * (ee_target - f.ee[j]), 0, 1);
        f.high_ee[j] = f.ee[j] >= fa.high_ee_threshold;
    }
}

}  // namespace models
