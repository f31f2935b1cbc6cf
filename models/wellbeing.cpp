// Needs, quality of life and treatment satisfaction. New needs lower a life domain; needs are
// met by routine care and, faster, by action agreed in DIALOG sessions, which patients direct
// at the domains they rate lowest. Domain ratings follow their set points, symptoms and (on
// the direct path) the relationship. At a DIALOG session the lowest-rated domains are discussed
// and improve (the therapeutic meeting route). Satisfaction follows the felt relationship,
// adherence and needs, each item with the patient's own offset.

#include "models/components.hpp"

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
    std::array<std::size_t, N_DOMAINS> order{};
    for (std::size_t k = 0; k < N_DOMAINS; ++k) order[k] = k;
    const auto n = static_cast<std::size_t>(x.cfg.dialog.domains_discussed);
    // Lowest ratings first; ties keep the domains' order.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p.qol_domain[a][i] < p.qol_domain[b][i]; });
    for (std::size_t r = 0; r < N_DOMAINS; ++r) {
        const std::size_t k = order[r];
        const double g = r < n ? gain : gain * x.cfg.dialog.spillover;
        p.qol_set[k][i] = clampf(p.qol_set[k][i] + g * (7.0 - p.qol_set[k][i]), 1, 7);
        p.qol_domain[k][i] = clampf(p.qol_domain[k][i] + g * (7.0 - p.qol_domain[k][i]), 1, 7);
    }
}

}  // namespace

void wellbeing_step(Ctx& x, sim::World& w, const sim::Block& b) {
    auto& p = x.p;
    const auto& wb = x.cfg.wellbeing;
    const auto& k = x.k;
    const auto& di = x.cfg.dialog;
    const double ref = x.cfg.mechanism.star_reference;
    const sim::BlockStream need_draws = w.block_stream(streams::NEEDS, b);
    const sim::BlockStream domain_draws = w.block_stream(streams::QOL, b);
    const auto half_width = static_cast<float>(k.sd_qol * std::sqrt(3.0));
    const auto r_qol = static_cast<float>(k.r_qol);
    std::array<float, sim::BLOCK_SIZE> shift_of;  // each patient's shift of every life domain this step
    for (std::size_t i = b.begin; i < b.end; ++i) {
        const double cap = x.team.capacity[static_cast<std::size_t>(p.team[i])];
        auto g = need_draws.draws(i);
        // Fixed positions in the stream for the routine draws; DIALOG actions draw after them.
        const double u_new = g.uniform();
        const std::uint32_t domain = g.below(static_cast<std::uint32_t>(N_DOMAINS));
        const double u_routine = g.uniform();
        const double shock_noise = g.normalf();
        const double need_rate = x.team.need_rate[static_cast<std::size_t>(p.team[i])];
        if (u_new < std::min(1.0, k.p_new_need * need_rate * (p.relapsed[i] ? wb.rel_need_relapse : 1.0)) && p.unmet_needs[i] < 22) {
            ++p.unmet_needs[i];
            p.qol_set[domain][i] = clampf(p.qol_set[domain][i] - wb.need_qol_effect, 1, 7);
        }
        if (p.contact[i] && p.unmet_needs[i] > 0) {
            // At most one need is met at a routine meeting: P(any of n) = 1 - (1 - p)^n, which is
            // at most -log(1 - p) n: a uniform above that (with a margin for rounding) needs no expm1.
            const double log_keep = x.log_keep_need[static_cast<std::size_t>(p.team[i])] * p.unmet_needs[i];
            if (u_routine < -log_keep * (1.0 + 1e-9) && u_routine < -std::expm1(log_keep)) meet_need(x, i);
        }
        if (p.dialog_session[i] && !x.c.dialog_ratings_only[static_cast<std::size_t>(p.clinician[i])]) {
            // Each unmet need the patient names is acted on with a probability set by the
            // clinician's response approach and the team's capacity.
            const auto post = static_cast<std::size_t>(p.clinician[i]);
            const std::size_t approach = di.variant == "dialog_plus" ? 3 : x.c.approach[post];
            const double p_act = std::min(1.0, di.action_probability * di.approach_effect[approach] * cap);
            for (std::int32_t n = p.unmet_needs[i]; n > 0; --n)
                if (g.uniform() < p_act) meet_need(x, i);
            // The therapeutic meeting: the lowest-rated domains are discussed and improve, by the
            // approach, the sessions path's weight and (moderation) the felt relationship.
            const double moderation = 1.0 + k.paths.moderation * di.alliance_moderation * (x.felt(i) - ref);
            const double gain = k.paths.sessions * di.session_gain * di.approach_effect[approach] * std::max(-1.0, moderation);
            if (gain != 0.0) discuss_domains(x, i, std::clamp(gain, -1.0, 1.0));
        }

        // Life domains follow their set points, a shared shock (life events, mood), symptoms
        // above the stable level and, on the direct path, the relationship.
        p.qol_shock[i] = static_cast<float>(p.qol_shock[i] * (1.0 - k.r_qol_shock) + k.sd_qol_shock * shock_noise);
        shift_of[i - b.begin] = static_cast<float>(p.qol_shock[i] - wb.qol_symptom_effect * (p.symptoms[i] - p.symptoms_base[i]) / 10.0 +
                                                   k.paths.direct * x.cfg.mechanism.qol_effect * (x.felt(i) - ref));

        // Treatment satisfaction.
        const auto t = satisfaction_targets(x, i);
        p.sat_medication[i] = clampf(p.sat_medication[i] + k.r_sat * (t[0] - p.sat_medication[i]), 1, 7);
        p.sat_practical_help[i] = clampf(p.sat_practical_help[i] + k.r_sat * (t[1] - p.sat_practical_help[i]), 1, 7);
        p.sat_meetings[i] = clampf(p.sat_meetings[i] + k.r_sat * (t[2] - p.sat_meetings[i]), 1, 7);
        p.satisfaction[i] = (p.sat_medication[i] + p.sat_practical_help[i] + p.sat_meetings[i]) / 3.0f;
    }
    // The life domains, one column at a time over the block (loops the compiler vectorises);
    // each patient's operations are the same and in the same order as one patient at a time.
    // Domain-specific weekly noise: 8 uniform variates with SD sd_qol, 16 bits each, from one block.
    const std::size_t n = b.size();
    std::array<float, sim::BLOCK_SIZE> sum{};
    for (std::size_t d = 0; d < N_DOMAINS; ++d) {
        const std::uint32_t* words = domain_draws.words_column(static_cast<unsigned>(d / 2));
        const unsigned shift_bits = 16 * (d % 2);
        float* v = p.qol_domain[d] + b.begin;
        const float* set = p.qol_set[d] + b.begin;
        for (std::size_t j = 0; j < n; ++j) {
            // 16 bits: exact as a signed integer, which converts to float in one instruction
            const auto bits = static_cast<std::int32_t>((words[j] >> shift_bits) & 0xFFFFu);
            const float noise = half_width * ((static_cast<float>(bits) + 0.5f) * (1.0f / 32768.0f) - 1.0f);
            v[j] = std::clamp(v[j] + r_qol * (set[j] + shift_of[j] - v[j]) + noise, 1.0f, 7.0f);
            sum[j] += v[j];
        }
    }
    for (std::size_t j = 0; j < n; ++j) p.qol[b.begin + j] = sum[j] / static_cast<float>(N_DOMAINS);
}

}  // namespace models
