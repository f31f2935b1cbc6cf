// The patient-clinician relationship as dyad state. Four shared latent factors (collaboration,
// clinician input, non-supportive input, emotional difficulties) move at each meeting towards
// a target set by the dyad's chemistry, continuity, the match of decision styles, the
// clinician's skill and responsiveness, the patient's symptoms, coercion and structured
// communication (DIALOG). Patient (STAR-P) and clinician (STAR-C) views add view-specific
// offsets, so the two agree only weakly (McCabe et al. 2012: rs = 0.13). Behaviour follows the
// felt relationship (Ctx::felt): the latent total plus a small share of the patient's offset.

#include "models/components.hpp"

#include <algorithm>

namespace models {

namespace {

struct Targets {
    double collaboration, input, non_support, difficulties;
};

Targets targets(const Ctx& x, std::size_t i) {
    const auto& r = x.cfg.relationship;
    const auto post = static_cast<std::size_t>(x.p.clinician[i]);
    const double cont = 1.0 - std::exp(-x.d.weeks_together[i] / r.continuity_weeks);
    const double pref = x.p.pref_partnership[i], style = x.c.style_partnership[post];
    // A flexible clinician moves their style towards the patient's preference (seed paper).
    const double style_eff = style + x.c.flexibility[post] * (pref - style);
    const double match = 1.0 - std::fabs(pref - style_eff);
    const double match_term = r.match_gain * (match - 0.8) / 0.2;  // 0 at an average match, +gain at a perfect one
    const double resp = x.c.responsiveness[post];
    // Suspiciousness and distress strain collaboration; engaging with the patient's concerns halves it.
    const double strain = r.symptom_strain * std::max(0.0, (x.p.symptoms[i] - 40.0) / 20.0) * (1.0 - 0.5 * resp);
    const double scar = x.d.coercion_scar[i];
    const double dose = x.k.paths.dialog_relationship * x.p.dialog_boost[i];
    // What communication-skills training teaches beyond skill and responsiveness (TEMPO).
    const double trained = x.c.skills_trained[post] ? x.cfg.clinicians.skills_training_star_gain : 0.0;
    Targets t;
    t.collaboration = r.collaboration_base + x.d.chemistry[i] + r.continuity_gain * cont + match_term - strain - scar +
                      0.5 * r.dialog_gain * dose + trained;
    t.input = r.input_base + r.skill_gain * (x.c.skill[post] - 0.5) + r.responsiveness_gain * (resp - 0.5) + r.dialog_gain * dose +
              trained;
    t.non_support = r.non_support_base - 0.5 * r.skill_gain * (x.c.skill[post] - 0.5) + 0.5 * std::max(0.0, -match_term) + scar;
    t.difficulties = r.difficulties_base + strain + r.nonadherence_difficulties * (1.0 - x.p.adherence[i]);
    return t;
}

}  // namespace

void update_views(Ctx& x, std::size_t i) {
    update_patient_view(x, i);
    update_clinician_view(x, i);
}

void start_dyad(Ctx& x, const sim::Rng& rng, std::size_t i, std::uint32_t step, bool initial) {
    const auto& r = x.cfg.relationship;
    auto& d = x.d;
    const auto post = static_cast<std::size_t>(x.p.clinician[i]);
    auto g = rng.draws(static_cast<std::uint32_t>(i), streams::DYAD_PAIRING, step);
    const double n_chemistry = g.normal(), n_bias_p = g.normal(), n_bias_c = g.normal(), n_collab = g.normal();
    const double u_age = g.uniform();
    d.clinician[i] = static_cast<std::int32_t>(post);
    d.clinician_hire[i] = x.c.hire[post];
    d.chemistry[i] = static_cast<float>(r.chemistry_sd * n_chemistry);
    d.bias_patient[i] = static_cast<float>(r.bias_patient_sd * n_bias_p);
    d.bias_clinician[i] = static_cast<float>(r.bias_clinician_sd * n_bias_c);
    d.coercion_scar[i] = 0.0f;
    // Dyads existing at the start have lasted an exponential time; new ones start afresh.
    const double weeks = initial ? -r.initial_weeks_mean * std::log(u_age) : 0.0;
    d.weeks_together[i] = static_cast<float>(weeks);
    d.ti_start[i] = initial ? -static_cast<std::int32_t>(std::lround(weeks / x.k.weeks)) : static_cast<std::int32_t>(step);
    if (!initial) ++x.p.n_dyads[i];
    const Targets t = targets(x, i);
    d.collaboration[i] = clampf(t.collaboration + r.noise_sd * n_collab, 0, 4);
    d.clinician_input[i] = clampf(t.input, 0, 4);
    d.non_support[i] = clampf(t.non_support, 0, 4);
    d.difficulties[i] = clampf(t.difficulties, 0, 4);
    update_views(x, i);
}

void relationship_step(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& r = x.cfg.relationship;
    auto& d = x.d;
    const double lr = r.learning_rate, weeks = x.k.weeks;
    const auto scar_decay = static_cast<float>(x.k.scar_decay);
    const sim::BlockStream noise = w.block_stream(streams::RELATIONSHIP, b);
    for (std::size_t i = b.begin; i < b.end; ++i) {
        const auto post = static_cast<std::size_t>(x.p.clinician[i]);
        if (d.clinician_hire[i] != x.c.hire[post]) start_dyad(x, w.rng, i, w.step, false);  // the post has a new holder
        d.weeks_together[i] += static_cast<float>(weeks);
        bool changed = false;
        if (d.coercion_scar[i] > 0.0f) {
            d.coercion_scar[i] = d.coercion_scar[i] * scar_decay;
            if (d.coercion_scar[i] < 1e-4f) d.coercion_scar[i] = 0.0f;
        }
        if (x.p.contact[i]) {
            changed = true;
            const Targets t = targets(x, i);
            auto g = noise.draws(i);
            const double sd = r.noise_sd;
            d.collaboration[i] = clampf(d.collaboration[i] + lr * (t.collaboration - d.collaboration[i]) + sd * g.normalf(), 0, 4);
            d.clinician_input[i] = clampf(d.clinician_input[i] + lr * (t.input - d.clinician_input[i]) + sd * g.normalf(), 0, 4);
            d.non_support[i] = clampf(d.non_support[i] + lr * (t.non_support - d.non_support[i]) + sd * g.normalf(), 0, 4);
            d.difficulties[i] = clampf(d.difficulties[i] + lr * (t.difficulties - d.difficulties[i]) + sd * g.normalf(), 0, 4);
        } else if (!x.p.engaged[i]) {
            // Out of contact, collaboration built by continuity fades towards the dyad's chemistry.
            const double floor = r.collaboration_base + d.chemistry[i];
            d.collaboration[i] = clampf(d.collaboration[i] + x.k.r_drift * (floor - d.collaboration[i]), 0, 4);
            changed = true;
        }
        // The patient's view changes only with the latent state; the clinician's view also
        // follows adherence and is refreshed in adherence_step.
        if (changed) update_patient_view(x, i);
    }
}

}  // namespace models
