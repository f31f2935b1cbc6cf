// Families: carer burden grows with the patient's symptoms, relapses and admissions and feeds
// back into expressed emotion (EE), which raises relapse risk. A family intervention lowers
// the family's EE trait.

#include "models/components.hpp"
#include "models/simd.hpp"

namespace models {

namespace {

THERASIM_INLINE void family_body(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& fa = x.cfg.family;
    auto& f = x.f;
    const auto& p = x.p;
    const std::size_t o = b.begin, n = b.size();
    const bool offer = fa.intervention_enabled &&
                       static_cast<int>(w.step) == std::max(1, steps_in_years(fa.intervention_start_year, w.step_days));
    if (offer)
        for (std::size_t j = b.begin; j < b.end; ++j)
            if (w.rng.uniform(static_cast<std::uint32_t>(j), streams::FAMILY_INTERVENTION, 0) < fa.intervention_coverage) {
                f.intervention[j] = 1;
                f.ee_trait[j] = clampf(f.ee_trait[j] - fa.intervention_ee_reduction, 0, 1);
            }
    // The patient's state, gathered one family at a time (bytes have no vector gather).
    std::array<float, sim::BLOCK_SIZE> excess;
    std::array<std::uint8_t, sim::BLOCK_SIZE> inpatient, relapsed;
    for (std::size_t j = 0; j < n; ++j) {
        const auto i = static_cast<std::size_t>(f.patient[o + j]);
        excess[j] = std::max(0.0f, p.symptoms[i] - p.symptoms_base[i]);
        inpatient[j] = p.inpatient[i];
        relapsed[j] = p.relapsed[i];
    }
    float *burden = f.burden + o, *ee = f.ee + o;
    const float* trait = f.ee_trait + o;
    std::uint8_t* high_ee = f.high_ee + o;
    const auto burden_base = static_cast<float>(fa.burden_base), burden_symptoms = static_cast<float>(fa.burden_symptoms),
               burden_inpatient = static_cast<float>(fa.burden_inpatient), burden_relapse = static_cast<float>(fa.burden_relapse),
               ee_burden = static_cast<float>(fa.ee_burden), high = static_cast<float>(fa.high_ee_threshold);
    const auto r_burden = static_cast<float>(x.k.r_burden), r_ee = static_cast<float>(x.k.r_ee);
THERASIM_IVDEP
    for (std::size_t j = 0; j < n; ++j) {
        const float in_hospital = inpatient[j] != 0 ? burden_inpatient : 0.0f, in_relapse = relapsed[j] != 0 ? burden_relapse : 0.0f;
        const float burden_target = clamp(burden_base + burden_symptoms * (excess[j] / 40.0f) + in_hospital + in_relapse, 0.0f, 1.0f);
        burden[j] = clamp(burden[j] + r_burden * (burden_target - burden[j]), 0.0f, 1.0f);
        const float ee_target = clamp(trait[j] + ee_burden * (burden[j] - burden_base), 0.0f, 1.0f);
        ee[j] = clamp(ee[j] + r_ee * (ee_target - ee[j]), 0.0f, 1.0f);
        high_ee[j] = ee[j] >= high;
    }
}

}  // namespace

THERASIM_KERNEL(family_step, family_body)

}  // namespace models
