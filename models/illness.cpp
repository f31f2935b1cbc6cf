// Change: relapse, admission and symptoms. Relapse risk falls with adherence (Leucht et al.
// 2012) and rises in high expressed-emotion families (Butzlaff & Hooley 1998); relapses can
// lead to admission, involuntary for some, which damages the relationship.

#include "models/components.hpp"
#include "models/simd.hpp"

namespace models {

namespace {

void admit(Ctx& x, std::size_t i, sim::Draws& g) {
    const auto& a = x.cfg.admission;
    auto& p = x.p;
    const double u = g.uniform();
    double odds = x.k.odds_involuntary * x.team.coercion[static_cast<std::size_t>(p.team[i])];
    if (!p.engaged[i]) odds *= a.or_involuntary_disengaged;
    if (p.n_involuntary[i] > 0) odds *= a.or_involuntary_history;
    odds *= std::pow(a.or_involuntary_per_star, x.felt(i) - x.cfg.mechanism.star_reference);
    const bool involuntary = u < odds / (1.0 + odds);
    const double mean = x.k.los_scale_voluntary * (involuntary ? a.rel_los_involuntary : 1.0);
    const double los = g.gamma(a.los_shape, mean / a.los_shape);
    p.inpatient[i] = 1;
    p.involuntary[i] = involuntary;
    p.days_to_discharge[i] = static_cast<float>(std::max(1.0, los));
    if (!p.engaged[i]) p.events[i] |= event::REENGAGE;
    p.engaged[i] = 1;  // admission brings the patient back into contact
    if (involuntary) {
        ++p.n_involuntary[i];
        ++p.n_admissions_involuntary[i];
        p.events[i] |= event::ADMIT_INVOLUNTARY;
        // Coercion damages the relationship at once and leaves a fading scar.
        x.d.coercion_scar[i] = clampf(x.d.coercion_scar[i] + a.coercion_damage, 0, 4);
        x.d.collaboration[i] = clampf(x.d.collaboration[i] - a.coercion_damage, 0, 4);
        x.d.non_support[i] = clampf(x.d.non_support[i] + a.coercion_damage, 0, 4);
        update_views(x, i);
    } else {
        ++p.n_admissions_voluntary[i];
        p.events[i] |= event::ADMIT_VOLUNTARY;
    }
}

THERASIM_INLINE void illness_body(Ctx& x, sim::World& w, const sim::Block& b) {
    auto& p = x.p;
    const auto& sy = x.cfg.symptoms;
    const auto& k = x.k;
    const std::size_t o = b.begin, n = b.size();
    const double step_days = w.step_days;
    const std::uint32_t* relapse_words = w.shared_block_stream(streams::PATIENT_STEP, b).words_column(3 - streams::STEP_RELAPSE);
    // Which patients have anything to decide: inpatients, patients in relapse out of hospital
    // (in_relapse) and those whose uniform is below every possible relapse risk of their family
    // kind (none, low EE, high EE); for the rest (most weeks) no hazard is computed.
    std::array<std::uint8_t, sim::BLOCK_SIZE> open, in_relapse;
    {
        const std::int32_t* family = p.family + o;
        const std::uint8_t no_family = 0;
        const std::uint8_t* high_ee = x.f.n ? x.f.high_ee : &no_family;  // row 0 is read for patients without one
        const std::uint8_t *inpatient = p.inpatient + o, *relapsed = p.relapsed + o;
        const double bound0 = x.relapse_p_bound[0], bound1 = x.relapse_p_bound[1], bound2 = x.relapse_p_bound[2];
        // The family's EE, gathered one patient at a time (bytes have no vector gather).
        std::array<std::uint8_t, sim::BLOCK_SIZE> high;
        for (std::size_t j = 0; j < n; ++j) high[j] = high_ee[family[j] < 0 ? 0 : family[j]];
THERASIM_IVDEP
        for (std::size_t j = 0; j < n; ++j) {
            const std::int32_t fam = family[j];
            const double with_family = high[j] != 0 ? bound2 : bound1;
            const double bound = fam < 0 ? bound0 : with_family;
            in_relapse[j] = static_cast<std::uint8_t>((relapsed[j] != 0) & (inpatient[j] == 0));
            open[j] = static_cast<std::uint8_t>((inpatient[j] != 0) | ((relapsed[j] == 0) & (u01(relapse_words[j]) < bound)));
        }
    }
    // Patients in relapse out of hospital are admitted, or remit, or stay in relapse: block 0 of
    // their admission streams in one vectorised pass, and both decisions as columns over their
    // list (row: their rows in the block), then the admissions one patient at a time.
    {
        std::array<std::uint32_t, sim::BLOCK_SIZE> row, id;
        std::size_t m = 0;
        for_each_flag(in_relapse.data(), n, 1, [&](std::size_t j) { row[m++] = static_cast<std::uint32_t>(j); });
        for (std::size_t q = 0; q < m; ++q) id[q] = static_cast<std::uint32_t>(o + row[q]);
        std::array<std::array<std::uint32_t, sim::BLOCK_SIZE>, 4> words;
        w.rng.blocks_of(id.data(), m, streams::ADMISSION, w.step, words[0].data(), words[1].data(), words[2].data(), words[3].data());
        std::array<std::uint8_t, sim::BLOCK_SIZE> engaged, admitted, remitted;
        for (std::size_t q = 0; q < m; ++q) engaged[q] = p.engaged[id[q]];  // bytes: a loop of their own
        const float* adherence = p.adherence + o;
        const double p_admit_engaged = k.p_admit, rel_disengaged = x.cfg.admission.rel_disengaged, p_remit = k.p_remit;
        const double reference = 0.5 + x.cfg.adherence.initial_mean;
THERASIM_IVDEP
        for (std::size_t q = 0; q < m; ++q) {
            const std::uint32_t j = row[q];
            // The admission's uniform is the first word of the stream (Draws::uniform).
            const double p_admit = std::min(1.0, p_admit_engaged * (engaged[q] ? 1.0 : rel_disengaged));
            const bool admit_now = u01(words[3][q]) < p_admit;
            // Remission is faster with better adherence (1 at the reference adherence of 0.58).
            const double remit_scale = (0.5 + static_cast<double>(adherence[j])) / reference;
            admitted[q] = admit_now;
            remitted[q] = static_cast<std::uint8_t>(!admit_now & (u01(relapse_words[j]) < std::min(1.0, p_remit * remit_scale)));
        }
        for_each_flag(remitted.data(), m, 1, [&](std::size_t q) { p.relapsed[id[q]] = 0; });
        for_each_flag(admitted.data(), m, 1, [&](std::size_t q) {
            sim::Draws g(sim::Rng::counter(id[q], streams::ADMISSION, w.step), w.rng.key(),
                         sim::Words{words[0][q], words[1][q], words[2][q], words[3][q]});
            (void)g();  // the admission's uniform, drawn above
            admit(x, id[q], g);
        });
    }
    for_each_flag(open.data(), n, 1, [&](std::size_t j) {
        const std::size_t i = o + j;
        const double u_relapse = u01(relapse_words[j]);
        const double adh = p.adherence[i];
        // Remission is faster with better adherence (1 at the reference adherence of 0.58).
        const double remit_scale = (0.5 + adh) / (0.5 + x.cfg.adherence.initial_mean);
        if (p.inpatient[i]) {
            const double stay = std::min<double>(step_days, std::max(0.0f, p.days_to_discharge[i]));
            p.step_bed_days[i] = static_cast<float>(stay);
            p.bed_days[i] += static_cast<float>(stay);
            p.cost[i] += static_cast<float>(stay * x.cfg.costs.bed_day);
            p.days_to_discharge[i] -= static_cast<float>(step_days);
            if (p.days_to_discharge[i] <= 0) {
                p.inpatient[i] = 0;
                p.involuntary[i] = 0;
                p.relapsed[i] = 0;  // discharged when stable
                p.ti_discharged[i] = static_cast<std::int32_t>(w.step);
                p.events[i] |= event::DISCHARGE;
            } else if (p.relapsed[i] && u_relapse < std::min(1.0, k.p_remit * x.cfg.relapse.rel_remission_inpatient * remit_scale)) {
                p.relapsed[i] = 0;
            }
        } else {
            // Hazard over the step, log-linear in adherence between the off- and on-treatment hazards.
            // Per family kind (none, low EE, high EE), so that each kind's average one-year risk is the input.
            const std::int32_t fam = p.family[i];
            const std::size_t kind = fam < 0 ? 0 : x.f.high_ee[fam] ? 2 : 1;
            float h = x.relapse_h_off_step[kind] * std::exp(x.relapse_log_ratio[kind] * p.adherence[i]);
            h *= static_cast<float>(x.cfg.relapse.rel_diagnosis[p.diagnosis[i]]);
            if (u_relapse < -std::expm1(-h)) {
                p.relapsed[i] = 1;
                ++p.n_relapses[i];
                p.events[i] |= event::RELAPSE;
            }
        }
    });
    // Symptoms move towards a target: the stable level, raised in relapse and by missed
    // treatment, lowered by a good relationship on the direct (therapy-in-itself) path.
    std::array<float, sim::BLOCK_SIZE> noise, felt;
    std::array<std::uint8_t, sim::BLOCK_SIZE> accepted;
    // The noise is the last purpose of patient.qol (after the life domains' noise, wellbeing_step).
    const sim::BlockStream& draws = w.shared_block_stream(streams::QOL, b);
    sim::normalf_first_try(draws.words_column(3 - streams::QOL_DOMAIN_WORDS), n, noise.data(), accepted.data());
    for_each_flag(accepted.data(), n, 0, [&](std::size_t j) { noise[j] = draws.draws(o + j, streams::QOL_DOMAIN_WORDS).normalf(); });
    x.felt_column(o, n, felt.data());  // after admissions, which change the relationship
    const float *base = p.symptoms_base + o, *adherence = p.adherence + o;
    const std::uint8_t* relapsed = p.relapsed + o;
    float* symptoms = p.symptoms + o;
    const auto relapse_increase = static_cast<float>(sy.relapse_increase), nonadherence_increase = static_cast<float>(sy.nonadherence_increase);
    const auto direct = static_cast<float>(k.paths.direct * x.cfg.mechanism.symptom_effect), ref = static_cast<float>(x.cfg.mechanism.star_reference);
    const auto r = static_cast<float>(k.r_symptoms), sd = static_cast<float>(k.sd_symptoms);
THERASIM_IVDEP
    for (std::size_t j = 0; j < n; ++j) {
        const float raised = relapsed[j] != 0 ? relapse_increase : 0.0f;
        const float target = base[j] + raised + nonadherence_increase * (1.0f - adherence[j]) - direct * (felt[j] - ref);
        symptoms[j] = clamp(symptoms[j] + r * (target - symptoms[j]) + sd * noise[j], 18.0f, 126.0f);
    }
}

}  // namespace

THERASIM_KERNEL(illness_step, illness_body)

}  // namespace models
