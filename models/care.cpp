// Meetings, engagement and adherence: the first two steps of the cascade. Disengagement
// becomes likely below a minimal relationship threshold; adherence needs a stronger
// relationship than engagement (seed paper, "Theoretical concepts and models"). Adherence has
// two classes: intentional non-adherence (a decision, with a low target) and the rest (occasional
// misses); the felt relationship, family support and insight decide the class, with hysteresis.

#include "models/components.hpp"

namespace models {

void contact_step(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& p = x.p;
    const sim::BlockStream& draws = w.shared_block_stream(streams::PATIENT_STEP, b);
    for (std::size_t i = b.begin; i < b.end; ++i) {
        const auto post = static_cast<std::size_t>(p.clinician[i]);
        p.events[i] = 0;
        p.contact[i] = 0;
        p.dialog_session[i] = 0;
        p.step_bed_days[i] = 0;
        p.arm[i] = x.c.dialog_trained[post] && !x.c.dialog_ratings_only[post];
        const double u = draws.uniform(i, streams::STEP_CONTACT);
        if (p.inpatient[i] || !p.engaged[i]) continue;
        if (u < x.p_meet[post]) {  // at most one meeting per step
            p.contact[i] = 1;
            ++p.n_contacts[i];
            p.cost[i] += static_cast<float>(x.cfg.costs.contact);
        }
    }
}

void engagement_step(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& p = x.p;
    const auto& e = x.cfg.engagement;
    const double years = w.time() * w.step_days / DAYS_PER_YEAR;  // negative during the burn-in
    const sim::BlockStream& draws = w.shared_block_stream(streams::PATIENT_STEP, b);
    const auto threshold = static_cast<float>(e.threshold), inv_width = static_cast<float>(1.0 / e.width);
    for (std::size_t i = b.begin; i < b.end; ++i) {
        const double u = draws.uniform(i, streams::STEP_ENGAGEMENT);
        if (p.inpatient[i]) continue;
        if (p.engaged[i]) {
            const float star = x.felt(i);
            double rr = 1.0;
            if (p.age[i] + years < 30.0) rr *= e.rel_young;
            if (p.male[i]) rr *= e.rel_male;
            if (p.illness_years[i] + years < e.early_years) rr *= e.rel_early;
            if (static_cast<long long>(w.time()) - p.ti_discharged[i] <= x.k.after_discharge_steps) rr *= e.rel_after_discharge;
            rr *= 1.0 - e.family_protection * x.support(i);
            // The logistic is at most 1, so with weekly steps the risk is at most p_week_max * rr
            // (exactly, in floating point too): a uniform at or above it needs no logistic.
            if (x.k.weeks == 1.0 && rr >= 0.0 && u >= std::min(1.0, e.p_week_max * rr)) continue;
            const double p_week = std::min(1.0, e.p_week_max * logisticf((threshold - star) * inv_width) * rr);
            if (u < over_weeks(p_week, x.k.weeks)) {
                p.engaged[i] = 0;
                ++p.n_disengagements[i];
                p.events[i] |= event::DISENGAGE;
            }
        } else {
            const double cap = x.team.capacity[static_cast<std::size_t>(p.team[i])];
            if (u < over_weeks(std::min(1.0, e.p_reengage_week * cap), x.k.weeks)) {
                p.engaged[i] = 1;
                p.events[i] |= event::REENGAGE;
            }
        }
    }
}

double adherence_score(const Ctx& x, std::size_t i) {
    const auto& a = x.cfg.adherence;
    const double family = a.family_effect * x.support(i);  // 0 without a family
    return a.slope * (x.felt(i) - a.threshold) + family + x.p.insight[i];
}

void update_adherence_class(Ctx& x, std::size_t i) {
    const double z = adherence_score(x, i), h = x.cfg.adherence.hysteresis;
    if (x.p.intentional[i] ? z > h : z < -h) x.p.intentional[i] = !x.p.intentional[i];
}

double adherence_target(const Ctx& x, std::size_t i) {
    const auto& a = x.cfg.adherence;
    if (x.p.inpatient[i]) return a.inpatient_level;
    if (!x.p.engaged[i]) return a.disengaged_level;
    return x.p.intentional[i] ? a.floor : a.ceiling;
}

void adherence_step(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& p = x.p;
    const sim::BlockStream& draws = w.shared_block_stream(streams::PATIENT_STEP, b);
    const double held = x.cfg.adherence.held_at;
    for (std::size_t i = b.begin; i < b.end; ++i) {
        auto g = draws.draws(i, streams::STEP_ADHERENCE);
        const double noise = g.normalf();
        if (p.engaged[i] && !p.inpatient[i]) update_adherence_class(x, i);
        if (held >= 0) {
            p.adherence[i] = static_cast<float>(held);
        } else {
            const double target = adherence_target(x, i);
            p.adherence[i] = clampf(p.adherence[i] + x.k.r_adherence * (target - p.adherence[i]) + x.k.sd_adherence * noise, 0, 1);
        }
        update_clinician_view(x, i);
    }
}

}  // namespace models
