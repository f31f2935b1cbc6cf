// Needs, quality of life and treatment satisfaction. New needs lower a life domain; needs are
// met by routine care and, faster, by action agreed in DIALOG sessions, which patients direct
// at the domains they rate lowest. Domain ratings follow their set points, symptoms and (on
// the direct path) the relationship. At a DIALOG session the lowest-rated domains are discussed
// and improve (the therapeutic meeting route). Satisfaction follows the felt relationship,
// adherence and needs, each item with the patient's own offset.

#include "models/components.hpp"
#include "models/simd.hpp"

#include <algorithm>

namespace models {

namespace {

/// Meets one unmet need of patient @p i: the lowest-rated domain's set point rises.
void meet_need(Ctx& x, std::size_t i) {
    auto& p = x.p;
    std::size_t low = 0;
    for (std::size_t k = 1; k < N_DOMAINS; ++k)
        if (p.qol_domain[k][i] < p.qol_domain[low][i]) low = k;
    p.qol_set[low][i] = clampf(p.qol_set[low][i] + x.cfg.wellbeing.need_qol_effect, 1, 7);
    --p.unmet_needs[i];
    ++p.needs_met[i];
}

/// A delivered DIALOG session on the sessions path: the patient's lowest-rated domains (up to
/// dialog.domains_discussed) are discussed and actions agreed; each discussed domain's set point
/// and rating gain @p gain of their room for improvement, the other domains gain spillover x gain.
void discuss_domains(Ctx& x, std::size_t i, double gain) {
    auto& p = x.p;
    const auto n = static_cast<std::size_t>(x.cfg.dialog.domains_discussed);
    // Each domain's place among the ratings, lowest first, ties in the domains' order (a stable
    // sort's): counted with comparisons only, no branches.
    std::array<float, N_DOMAINS> rating;
    for (std::size_t k = 0; k < N_DOMAINS; ++k) rating[k] = p.qol_domain[k][i];
    std::array<std::size_t, N_DOMAINS> place{};
    for (std::size_t k = 0; k < N_DOMAINS; ++k)
        for (std::size_t m = 0; m < N_DOMAINS; ++m) {
            // domain m comes before domain k: as ints, so that the test has no branches
            const int lower = rating[m] < rating[k], tie = rating[m] == rating[k], earlier = m < k;
            place[k] += static_cast<std::size_t>(lower | (earlier & tie));
        }
    const double spillover = gain * x.cfg.dialog.spillover;
    for (std::size_t k = 0; k < N_DOMAINS; ++k) {
        const double g = place[k] < n ? gain : spillover;
        p.qol_set[k][i] = clampf(p.qol_set[k][i] + g * (7.0 - p.qol_set[k][i]), 1, 7);
        p.qol_domain[k][i] = clampf(rating[k] + g * (7.0 - rating[k]), 1, 7);
    }
}

THERASIM_INLINE void wellbeing_body(Ctx& x, sim::World& w, const sim::Block& b) {
    auto& p = x.p;
    const auto& wb = x.cfg.wellbeing;
    const auto& k = x.k;
    const auto& di = x.cfg.dialog;
    const double ref = x.cfg.mechanism.star_reference;
    const std::size_t o = b.begin, n = b.size();
    const sim::BlockStream need_draws = w.block_stream(streams::NEEDS, b);
    // Fixed positions in the needs stream for the routine draws (the order Draws gives them:
    // word 3 first): a new need's chance and its domain, a need met at a routine meeting, and
    // the normal of the shared shock, which may take more words. DIALOG actions draw after them.
    const std::uint32_t *w_new = need_draws.words_column(3), *w_domain = need_draws.words_column(2),
                        *w_routine = need_draws.words_column(1);
    std::array<float, sim::BLOCK_SIZE> shock_noise, felt;
    std::array<std::uint8_t, sim::BLOCK_SIZE> accepted, new_need, routine, open;
    sim::normalf_first_try(need_draws.words_column(0), n, shock_noise.data(), accepted.data());
    for_each_flag(accepted.data(), n, 0, [&](std::size_t j) {
        auto g = need_draws.draws(o + j);
        g(), g(), g();
        shock_noise[j] = g.normalf();
    });
    // Who has a new need, who may have one met at a routine meeting, who has a DIALOG session:
    // as columns, then the rare events one patient at a time.
    {
        const std::int32_t *team = p.team + o, *unmet = p.unmet_needs + o;
        const std::uint8_t *relapsed = p.relapsed + o, *contact = p.contact + o, *session = p.dialog_session + o;
        const float* need_rate = x.team.need_rate;
        const double* log_keep_need = x.log_keep_need.data();
        const double p_new = k.p_new_need, rel_relapse = wb.rel_need_relapse;
THERASIM_IVDEP
        for (std::size_t j = 0; j < n; ++j) {
            const auto t = static_cast<std::size_t>(team[j]);
            const bool fresh = (u01(w_new[j]) < std::min(1.0, p_new * need_rate[t] * (relapsed[j] ? rel_relapse : 1.0))) & (unmet[j] < 22);
            const std::int32_t unmet_after = unmet[j] + fresh;
            // At most one need is met at a routine meeting: P(any of n) = 1 - (1 - p)^n, which is
            // at most -log(1 - p) n: a uniform above that (with a margin for rounding) needs no expm1.
            const bool maybe = (contact[j] != 0) & (unmet_after > 0) &
                               (u01(w_routine[j]) < -(log_keep_need[t] * unmet_after) * (1.0 + 1e-9));
            new_need[j] = fresh;
            routine[j] = maybe;
            open[j] = static_cast<std::uint8_t>(fresh | maybe | (session[j] != 0));
        }
    }
    for_each_flag(open.data(), n, 1, [&](std::size_t j) {
        const std::size_t i = o + j;
        if (new_need[j]) {
            ++p.unmet_needs[i];
            const std::uint32_t domain = static_cast<std::uint32_t>((static_cast<std::uint64_t>(w_domain[j]) * N_DOMAINS) >> 32);
            p.qol_set[domain][i] = clampf(p.qol_set[domain][i] - wb.need_qol_effect, 1, 7);
        }
        if (routine[j]) {
            const double log_keep = x.log_keep_need[static_cast<std::size_t>(p.team[i])] * p.unmet_needs[i];
            if (u01(w_routine[j]) < -std::expm1(log_keep)) meet_need(x, i);
        }
        if (p.dialog_session[i] && !x.c.dialog_ratings_only[static_cast<std::size_t>(p.clinician[i])]) {
            auto g = need_draws.draws(i);
            g(), g(), g(), (void)g.normalf();  // the routine draws
            // Each unmet need the patient names is acted on with a probability set by the
            // clinician's response approach and the team's capacity.
            const auto post = static_cast<std::size_t>(p.clinician[i]);
            const double cap = x.team.capacity[static_cast<std::size_t>(p.team[i])];
            const std::size_t approach = x.approach_of(post);
            const double p_act = std::min(1.0, di.action_probability * di.approach_effect[approach] * cap);
            for (std::int32_t m = p.unmet_needs[i]; m > 0; --m)
                if (g.uniform() < p_act) meet_need(x, i);
            // The therapeutic meeting: the lowest-rated domains are discussed and improve, by the
            // approach, the sessions path's weight and (moderation) the felt relationship.
            const double moderation = 1.0 + k.paths.moderation * di.alliance_moderation * (x.felt(i) - ref);
            const double gain = k.paths.sessions * di.session_gain * di.approach_effect[approach] * std::max(-1.0, moderation);
            if (gain != 0.0) discuss_domains(x, i, std::clamp(gain, -1.0, 1.0));
        }
    });

    // Life domains follow their set points, a shared shock (life events, mood), symptoms above
    // the stable level and, on the direct path, the relationship. Treatment satisfaction follows
    // its targets (satisfaction_targets_of).
    x.felt_column(o, n, felt.data());
    std::array<float, sim::BLOCK_SIZE> shift_of;  // each patient's shift of every life domain this step
    {
        float* shock = p.qol_shock + o;
        const float *symptoms = p.symptoms + o, *base = p.symptoms_base + o, *adherence = p.adherence + o,
                    *boost = p.dialog_boost + o;
        const float *own_medication = p.sat_offset[0] + o, *own_help = p.sat_offset[1] + o, *own_meetings = p.sat_offset[2] + o;
        const std::int32_t* unmet = p.unmet_needs + o;
        float *medication = p.sat_medication + o, *help = p.sat_practical_help + o, *meetings = p.sat_meetings + o,
              *satisfaction = p.satisfaction + o;
        const auto keep = static_cast<float>(1.0 - k.r_qol_shock), sd_shock = static_cast<float>(k.sd_qol_shock);
        const auto symptom_effect = static_cast<float>(wb.qol_symptom_effect / 10.0);  // per 10 points of symptoms
        const auto direct = static_cast<float>(k.paths.direct * x.cfg.mechanism.qol_effect), reference = static_cast<float>(ref);
        const auto r_sat = static_cast<float>(k.r_sat), adherence_mean = static_cast<float>(x.cfg.adherence.initial_mean);
        const auto parameters = wb;  // a local copy: the loop's stores cannot touch it
THERASIM_IVDEP
        for (std::size_t j = 0; j < n; ++j) {
            shock[j] = shock[j] * keep + sd_shock * shock_noise[j];
            shift_of[j] = shock[j] - symptom_effect * (symptoms[j] - base[j]) + direct * (felt[j] - reference);
            const auto t = satisfaction_targets_of(parameters, reference, adherence_mean, felt[j], adherence[j], static_cast<float>(unmet[j]),
                                                   boost[j], own_medication[j], own_help[j], own_meetings[j]);
            medication[j] = clamp(medication[j] + r_sat * (t[0] - medication[j]), 1.0f, 7.0f);
            help[j] = clamp(help[j] + r_sat * (t[1] - help[j]), 1.0f, 7.0f);
            meetings[j] = clamp(meetings[j] + r_sat * (t[2] - meetings[j]), 1.0f, 7.0f);
            satisfaction[j] = (medication[j] + help[j] + meetings[j]) / 3.0f;
        }
    }
    // The life domains, one column at a time over the block (loops the compiler vectorises);
    // each patient's operations are the same and in the same order as one patient at a time.
    // Domain-specific weekly noise: 8 uniform variates with SD sd_qol, 12 bits each, from the
    // first three words of the patient.qol block (the fourth is the symptoms' noise, illness_step):
    // domains 0-5 take the low 24 bits of a word, two to a word; domains 6 and 7 the top bytes of
    // the three words, with half of the second's each.
    static_assert(N_DOMAINS == 8 && streams::QOL_DOMAIN_WORDS == 3, "the domains' noise takes 8 x 12 bits of 3 words");
    const sim::BlockStream& domain_draws = w.shared_block_stream(streams::QOL, b);
    const std::uint32_t *first_word = domain_draws.words_column(3), *second_word = domain_draws.words_column(2),
                        *third_word = domain_draws.words_column(1);
    const auto half_width = static_cast<float>(k.sd_qol * std::sqrt(3.0));
    const auto r_qol = static_cast<float>(k.r_qol);
    std::array<float, sim::BLOCK_SIZE> sum{};
    // Domain d's rating moves towards its set point with the noise of its 12 bits, field(j).
    auto relax = [&](std::size_t d, auto&& field) {
        float* v = p.qol_domain[d] + b.begin;
        const float* set = p.qol_set[d] + b.begin;
        for (std::size_t j = 0; j < n; ++j) {
            // 12 bits: exact as a signed integer, which converts to float in one instruction
            const auto bits = static_cast<std::int32_t>(field(j));
            const float noise = half_width * ((static_cast<float>(bits) + 0.5f) * (1.0f / 2048.0f) - 1.0f);
            v[j] = clamp(v[j] + r_qol * (set[j] + shift_of[j] - v[j]) + noise, 1.0f, 7.0f);
            sum[j] += v[j];
        }
    };
    const std::array<const std::uint32_t*, 3> word_of = {first_word, second_word, third_word};
    for (std::size_t d = 0; d < 6; ++d) {
        const std::uint32_t* words = word_of[d / 2];
        const unsigned shift_bits = 12 * (d % 2);
        relax(d, [&](std::size_t j) { return (words[j] >> shift_bits) & 0xFFFu; });
    }
    relax(6, [&](std::size_t j) { return first_word[j] >> 24 | ((second_word[j] >> 24) & 0xFu) << 8; });
    relax(7, [&](std::size_t j) { return third_word[j] >> 24 | (second_word[j] >> 28) << 8; });
    for (std::size_t j = 0; j < n; ++j) p.qol[b.begin + j] = sum[j] / static_cast<float>(N_DOMAINS);
}

}  // namespace

THERASIM_KERNEL(wellbeing_step, wellbeing_body)

}  // namespace models
