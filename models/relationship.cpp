// The patient-clinician relationship as dyad state. Four shared latent factors (collaboration,
// clinician input, non-supportive input, emotional difficulties) move at each meeting towards
// a target set by the dyad's chemistry, continuity, the match of decision styles, the
// clinician's skill and responsiveness, the patient's symptoms, coercion and structured
// communication (DIALOG). Patient (STAR-P) and clinician (STAR-C) views add view-specific
// offsets, so the two agree only weakly (McCabe et al. 2012: rs = 0.13). Behaviour follows the
// felt relationship (Ctx::felt): the latent total plus a small share of the patient's offset.

#include "models/components.hpp"
#include "models/simd.hpp"
#include "sim/parallel.hpp"

#include <algorithm>

namespace models {

namespace {

struct Targets {
    float collaboration, input, non_support, difficulties;
};

/// Continuity of a dyad together for @p weeks: 1 - e^(-weeks / @p continuity_weeks)
/// (portable_exp: the same bits on every machine).
THERASIM_INLINE float continuity_of(double weeks, double continuity_weeks) {
    return static_cast<float>(1.0 - portable_exp(-weeks / continuity_weeks));
}

/// The targets of a dyad's four latent factors, from the relationship parameters @p r and the
/// dyad's state: continuity @p cont, the patient's preferred and the clinician's style, the
/// clinician's flexibility, responsiveness and skill, the patient's symptoms, the coercion scar,
/// the DIALOG dose, skills training's gain, the dyad's chemistry and the patient's adherence.
/// One definition for targets() and the relationship's column loop; in single precision
/// (components.hpp), the parameters rounded to float.
THERASIM_INLINE Targets targets_of(const auto& r, float cont, float pref, float style, float flexibility, float resp, float skill,
                                   float symptoms, float scar, float dose, float trained, float chemistry, float adherence) {
    const auto match_gain = static_cast<float>(r.match_gain), skill_gain = static_cast<float>(r.skill_gain);
    const auto dialog_gain = static_cast<float>(r.dialog_gain);
    // A flexible clinician moves their style towards the patient's preference (seed paper).
    const float style_eff = style + flexibility * (pref - style);
    const float match = 1.0f - std::fabs(pref - style_eff);
    const float match_term = match_gain * (match - 0.8f) / 0.2f;  // 0 at an average match, +gain at a perfect one
    // Suspiciousness and distress strain collaboration; engaging with the patient's concerns halves it.
    const float strain = static_cast<float>(r.symptom_strain) * std::max(0.0f, (symptoms - 40.0f) / 20.0f) * (1.0f - 0.5f * resp);
    Targets t;
    t.collaboration = static_cast<float>(r.collaboration_base) + chemistry + static_cast<float>(r.continuity_gain) * cont + match_term -
                      strain - scar + 0.5f * dialog_gain * dose + trained;
    t.input = static_cast<float>(r.input_base) + skill_gain * (skill - 0.5f) + static_cast<float>(r.responsiveness_gain) * (resp - 0.5f) +
              dialog_gain * dose + trained;
    t.non_support = static_cast<float>(r.non_support_base) - 0.5f * skill_gain * (skill - 0.5f) + 0.5f * std::max(0.0f, -match_term) + scar;
    t.difficulties = static_cast<float>(r.difficulties_base) + strain + static_cast<float>(r.nonadherence_difficulties) * (1.0f - adherence);
    return t;
}

Targets targets(const Ctx& x, std::size_t i) {
    const auto& r = x.cfg.relationship;
    const auto post = static_cast<std::size_t>(x.p.clinician[i]);
    const float cont = continuity_of(x.d.weeks_together[i], r.continuity_weeks);
    // What communication-skills training teaches beyond skill and responsiveness (TEMPO).
    const float trained = x.c.skills_trained[post] ? static_cast<float>(x.cfg.clinicians.skills_training_star_gain) : 0.0f;
    return targets_of(r, cont, x.p.pref_partnership[i], x.c.style_partnership[post], x.c.flexibility[post], x.c.responsiveness[post],
                      x.c.skill[post], x.p.symptoms[i], x.d.coercion_scar[i],
                      static_cast<float>(x.k.paths.dialog_relationship) * x.p.dialog_boost[i], trained, x.d.chemistry[i], x.p.adherence[i]);
}

}  // namespace

void update_views(Ctx& x, std::size_t i) {
    update_patient_view(x, i);
    update_clinician_view(x, i);
}

void refresh_view_factors(Ctx& x) {
    const std::size_t n = x.p.n;
    sim::parallel::for_each_block((n + sim::BLOCK_SIZE - 1) / sim::BLOCK_SIZE, [&](std::size_t b) {
        const std::size_t first = b * sim::BLOCK_SIZE, rows = std::min(n, first + sim::BLOCK_SIZE) - first;
        patient_view_columns<Views::with_factors>(x, first, rows);
        clinician_view_columns<Views::with_factors>(x, first, rows);
    });
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

namespace {

THERASIM_INLINE void relationship_body(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& r = x.cfg.relationship;
    auto& d = x.d;
    const auto& p = x.p;
    const auto& c = x.c;
    const std::size_t o = b.begin, n = b.size();
    // A post with a new holder: its patients start new dyads (rare; one patient at a time).
    std::array<std::uint8_t, sim::BLOCK_SIZE> fresh;
    {
        const std::int32_t *holder = d.clinician_hire + o, *post = p.clinician + o, *hire = c.hire;
THERASIM_IVDEP
        for (std::size_t j = 0; j < n; ++j) fresh[j] = holder[j] != hire[static_cast<std::size_t>(post[j])];
    }
    for_each_flag(fresh.data(), n, 1, [&](std::size_t j) { start_dyad(x, w.rng, o + j, w.step, false); });
    const auto weeks = static_cast<float>(x.k.weeks);
    const auto scar_decay = static_cast<float>(x.k.scar_decay);
    float *together = d.weeks_together + o, *scar = d.coercion_scar + o;
THERASIM_IVDEP
    for (std::size_t j = 0; j < n; ++j) {
        together[j] += weeks;
        const float faded = scar[j] * scar_decay;
        scar[j] = scar[j] > 0.0f ? (faded < 1e-4f ? 0.0f : faded) : scar[j];
    }
    // The patients at a meeting this step (about half): their relationship moves, so the rest of
    // the rule works on them alone, as a list of block rows.
    const std::uint8_t *contact = p.contact + o, *engaged = p.engaged + o;
    std::array<std::uint32_t, sim::BLOCK_SIZE> row, id;
    std::size_t m = 0;
    for_each_flag(contact, n, 1, [&](std::size_t j) { row[m++] = static_cast<std::uint32_t>(j); });
    for (std::size_t k = 0; k < m; ++k) id[k] = static_cast<std::uint32_t>(o) + row[k];
    // Each latent factor moves towards its target (targets()) with noise: four normals from
    // block 0 of the dyad's stream (a draw whose first try is rejected takes more words, so such
    // a patient's four are drawn again one at a time, from the block 0 already computed).
    std::array<std::array<std::uint32_t, sim::BLOCK_SIZE>, 4> words;
    w.rng.blocks_of(id.data(), m, streams::RELATIONSHIP, w.step, words[0].data(), words[1].data(), words[2].data(), words[3].data());
    std::array<std::array<float, sim::BLOCK_SIZE>, 4> normal;
    std::array<std::array<std::uint8_t, sim::BLOCK_SIZE>, 4> accepted;
    for (unsigned f = 0; f < 4; ++f) sim::normalf_first_try(words[3 - f].data(), m, normal[f].data(), accepted[f].data());
    std::array<std::uint8_t, sim::BLOCK_SIZE> redraw;
    for (std::size_t k = 0; k < m; ++k) redraw[k] = !(accepted[0][k] & accepted[1][k] & accepted[2][k] & accepted[3][k]);
    for_each_flag(redraw.data(), m, 1, [&](std::size_t k) {
        sim::Draws g(sim::Rng::counter(id[k], streams::RELATIONSHIP, w.step), w.rng.key(),
                     sim::Words{words[0][k], words[1][k], words[2][k], words[3][k]});
        for (unsigned f = 0; f < 4; ++f) normal[f][k] = g.normalf();
    });
    // Continuity and skills training.
    const std::int32_t* post = p.clinician + o;
    const auto trained_gain = static_cast<float>(x.cfg.clinicians.skills_training_star_gain);
    const double continuity_weeks = r.continuity_weeks;
    std::array<float, sim::BLOCK_SIZE> continuity, trained;
THERASIM_IVDEP
    for (std::size_t k = 0; k < m; ++k) continuity[k] = continuity_of(together[row[k]], continuity_weeks);
    // What communication-skills training teaches beyond skill and responsiveness (TEMPO): a
    // gather of bytes, which no instruction set here has, so a loop of its own.
    const std::uint8_t* skills_trained = c.skills_trained;
    for (std::size_t k = 0; k < m; ++k) trained[k] = skills_trained[static_cast<std::size_t>(post[row[k]])] ? trained_gain : 0.0f;
    // targets(x, i) of the patients at a meeting, and the move of each factor towards its target.
    const float *pref = p.pref_partnership + o, *symptoms = p.symptoms + o, *boost = p.dialog_boost + o,
                *adherence = p.adherence + o, *chemistry = d.chemistry + o;
    float* factor[4] = {d.collaboration + o, d.clinician_input + o, d.non_support + o, d.difficulties + o};
    std::array<std::array<float, sim::BLOCK_SIZE>, 4> moved;  // the factors after the meeting
    {
        const auto lr = static_cast<float>(r.learning_rate), sd = static_cast<float>(r.noise_sd);
        const auto dialog_path = static_cast<float>(x.k.paths.dialog_relationship);
        const auto parameters = r;  // a local copy: the loop's stores cannot touch it
        const float *style_of = c.style_partnership, *flexibility = c.flexibility, *responsiveness = c.responsiveness, *skill_of = c.skill;
        const float *collaboration = factor[0], *input = factor[1], *non_support = factor[2], *difficulties = factor[3];
THERASIM_IVDEP
        for (std::size_t k = 0; k < m; ++k) {
            const std::size_t j = row[k];
            const auto q = static_cast<std::size_t>(post[j]);
            const Targets t = targets_of(parameters, continuity[k], pref[j], style_of[q], flexibility[q], responsiveness[q], skill_of[q],
                                         symptoms[j], scar[j], dialog_path * boost[j], trained[k], chemistry[j], adherence[j]);
            moved[0][k] = clamp(collaboration[j] + lr * (t.collaboration - collaboration[j]) + sd * normal[0][k], 0.0f, 4.0f);
            moved[1][k] = clamp(input[j] + lr * (t.input - input[j]) + sd * normal[1][k], 0.0f, 4.0f);
            moved[2][k] = clamp(non_support[j] + lr * (t.non_support - non_support[j]) + sd * normal[2][k], 0.0f, 4.0f);
            moved[3][k] = clamp(difficulties[j] + lr * (t.difficulties - difficulties[j]) + sd * normal[3][k], 0.0f, 4.0f);
        }
    }
    for (std::size_t k = 0; k < m; ++k)  // stored one patient at a time (AVX2 has no scatter)
        for (unsigned f = 0; f < 4; ++f) factor[f][row[k]] = moved[f][k];
    // Out of contact, collaboration built by continuity fades towards the dyad's chemistry.
    {
        const auto drift = static_cast<float>(x.k.r_drift), collaboration_base = static_cast<float>(r.collaboration_base);
        float* v = factor[0];
THERASIM_IVDEP
        for (std::size_t j = 0; j < n; ++j) {
            const float drifted = clamp(v[j] + drift * (collaboration_base + chemistry[j] - v[j]), 0.0f, 4.0f);
            v[j] = (contact[j] | engaged[j]) ? v[j] : drifted;
        }
    }
    // The patient's view follows the latent state; recomputing it where the state did not change
    // gives the same values. The clinician's view also follows adherence and is refreshed in
    // adherence_step. The per-factor views only at step 0 and at the end (refresh_view_factors).
    patient_view_columns<Views::totals>(x, o, n);
}

}  // namespace

THERASIM_KERNEL(relationship_step, relationship_body)

}  // namespace models
