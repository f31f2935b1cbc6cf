// Meetings, engagement and adherence: the first two steps of the cascade. Disengagement
// becomes likely below a minimal relationship threshold; adherence needs a stronger
// relationship than engagement (seed paper, "Theoretical concepts and models"). Adherence has
// two classes: intentional non-adherence (a decision, with a low target) and the rest (occasional
// misses); the felt relationship, family support and insight decide the class, with hysteresis.

#include "models/components.hpp"
#include "models/simd.hpp"

#include <stdexcept>

namespace models {

void refresh_post_arm(Ctx& x) {
    x.post_arm.resize(x.c.n);
    x.post_trained.resize(x.c.n);
    for (std::size_t post = 0; post < x.c.n; ++post) {
        x.post_trained[post] = x.c.dialog_trained[post] != 0;
        x.post_arm[post] = x.c.dialog_trained[post] && !x.c.dialog_ratings_only[post];
    }
}

namespace {

THERASIM_INLINE void contact_body(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& p = x.p;
    const std::size_t o = b.begin, n = b.size();
    const std::uint32_t* words = w.shared_block_stream(streams::PATIENT_STEP, b).words_column(3 - streams::STEP_CONTACT);
    const std::int32_t* post = p.clinician + o;
    if (x.post_arm.size() != x.c.n) throw std::logic_error("contact_step: Ctx::post_arm is not refreshed (refresh_post_arm)");
    const std::int32_t* post_arm = x.post_arm.data();
    const double* p_meet = x.p_meet.data();
    const std::uint8_t *inpatient = p.inpatient + o, *engaged = p.engaged + o;
    std::uint8_t *contact = p.contact + o, *arm = p.arm + o;
    std::int32_t* n_contacts = p.n_contacts + o;
    float* cost = p.cost + o;
    const auto contact_cost = static_cast<float>(x.cfg.costs.contact);
    std::uint8_t *events = p.events + o, *session = p.dialog_session + o;
    float* bed_days = p.step_bed_days + o;
THERASIM_IVDEP
    for (std::size_t j = 0; j < n; ++j) {
        const auto k = static_cast<std::size_t>(post[j]);
        arm[j] = static_cast<std::uint8_t>(post_arm[k]);
        // at most one meeting per step, for patients in contact and out of hospital
        events[j] = 0;
        session[j] = 0;
        bed_days[j] = 0.0f;
        const bool met = (inpatient[j] == 0) & (engaged[j] != 0) & (u01(words[j]) < p_meet[k]);
        contact[j] = met;
        n_contacts[j] += met;
        cost[j] = met ? cost[j] + contact_cost : cost[j];
    }
}

THERASIM_INLINE void engagement_body(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& p = x.p;
    const auto& e = x.cfg.engagement;
    const std::size_t o = b.begin, n = b.size();
    const double years = w.time() * w.step_days / DAYS_PER_YEAR;  // negative during the burn-in
    const std::uint32_t* words = w.shared_block_stream(streams::PATIENT_STEP, b).words_column(3 - streams::STEP_ENGAGEMENT);
    // First, as columns: each engaged patient's relative risk, and whether the uniform can decide
    // anything. The logistic is at most 1, so with weekly steps the risk is at most p_week_max x rr
    // (exactly, in floating point too): a uniform at or above it needs no logistic. Patients out
    // of contact may re-engage.
    std::array<float, sim::BLOCK_SIZE> support;
    std::array<double, sim::BLOCK_SIZE> rr;
    std::array<std::uint8_t, sim::BLOCK_SIZE> open;
    x.support_column(o, n, support.data());
    const float *age = p.age + o, *illness_years = p.illness_years + o;
    const std::uint8_t *male = p.male + o, *inpatient = p.inpatient + o, *engaged = p.engaged + o;
    const std::int32_t* discharged = p.ti_discharged + o;
    const long long recent = static_cast<long long>(w.time()) - x.k.after_discharge_steps;
    const double rel_young = e.rel_young, rel_male = e.rel_male, rel_early = e.rel_early, rel_after = e.rel_after_discharge;
    const double early = e.early_years, protection = e.family_protection, p_max = e.p_week_max;
    const bool weekly = x.k.weeks == 1.0;
THERASIM_IVDEP
    for (std::size_t j = 0; j < n; ++j) {
        double r = 1.0;
        r = age[j] + years < 30.0 ? r * rel_young : r;
        r = male[j] ? r * rel_male : r;
        r = illness_years[j] + years < early ? r * rel_early : r;
        r = static_cast<long long>(discharged[j]) >= recent ? r * rel_after : r;
        r *= 1.0 - protection * support[j];
        rr[j] = r;
        const bool bounded = weekly & (r >= 0.0) & (u01(words[j]) >= std::min(1.0, p_max * r));
        open[j] = static_cast<std::uint8_t>((inpatient[j] == 0) & ((engaged[j] == 0) | !bounded));
    }
    const auto threshold = static_cast<float>(e.threshold), inv_width = static_cast<float>(1.0 / e.width);
    for_each_flag(open.data(), n, 1, [&](std::size_t j) {
        const std::size_t i = o + j;
        const double u = u01(words[j]);
        if (p.engaged[i]) {
            const double p_week = std::min(1.0, p_max * logisticf((threshold - x.felt(i)) * inv_width) * rr[j]);
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
    });
}

}  // namespace

THERASIM_KERNEL(contact_step, contact_body)
THERASIM_KERNEL(engagement_step, engagement_body)

float adherence_score(const Ctx& x, std::size_t i) {
    return adherence_score_of(x.cfg.adherence, x.felt(i), x.support(i), x.p.insight[i]);
}

void update_adherence_class(Ctx& x, std::size_t i) {
    const float z = adherence_score(x, i), h = static_cast<float>(x.cfg.adherence.hysteresis);
    if (x.p.intentional[i] ? z > h : z < -h) x.p.intentional[i] = !x.p.intentional[i];
}

float adherence_target(const Ctx& x, std::size_t i) {
    return adherence_target_of(x.cfg.adherence, x.p.inpatient[i], x.p.engaged[i], x.p.intentional[i]);
}

namespace {

THERASIM_INLINE void adherence_body(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& p = x.p;
    const auto& a = x.cfg.adherence;
    const std::size_t o = b.begin, n = b.size();
    const sim::BlockStream& draws = w.shared_block_stream(streams::PATIENT_STEP, b);
    std::array<float, sim::BLOCK_SIZE> noise, support, felt;
    std::array<std::uint8_t, sim::BLOCK_SIZE> accepted;
    sim::normalf_first_try(draws.words_column(3 - streams::STEP_ADHERENCE), n, noise.data(), accepted.data());
    for_each_flag(accepted.data(), n, 0, [&](std::size_t j) { noise[j] = draws.draws(o + j, streams::STEP_ADHERENCE).normalf(); });
    x.support_column(o, n, support.data());
    x.felt_column(o, n, felt.data());
    const std::uint8_t* engaged = p.engaged + o;
    const std::uint8_t* inpatient = p.inpatient + o;
    std::uint8_t* intentional = p.intentional + o;
    const float* insight = p.insight + o;
    float* adherence = p.adherence + o;
    // The class (update_adherence_class) of patients in contact and out of hospital.
    const auto parameters = a;  // a local copy: the loop's byte stores could otherwise alias it
    const auto h = static_cast<float>(a.hysteresis);
THERASIM_IVDEP
    for (std::size_t j = 0; j < n; ++j) {
        const float z = adherence_score_of(parameters, felt[j], support[j], insight[j]);
        const bool in_class = intentional[j] != 0;
        const bool flip = (engaged[j] != 0) & (inpatient[j] == 0) & ((in_class & (z > h)) | (!in_class & (z < -h)));
        intentional[j] = static_cast<std::uint8_t>(in_class ^ flip);
    }
    if (a.held_at >= 0) {
        std::fill_n(adherence, n, static_cast<float>(a.held_at));
    } else {
        const auto r = static_cast<float>(x.k.r_adherence), sd = static_cast<float>(x.k.sd_adherence);
THERASIM_IVDEP
        for (std::size_t j = 0; j < n; ++j) {
            const float target = adherence_target_of(parameters, inpatient[j], engaged[j], intentional[j]);
            adherence[j] = clamp(adherence[j] + r * (target - adherence[j]) + sd * noise[j], 0.0f, 1.0f);
        }
    }
    clinician_view_columns<Views::totals>(x, o, n);  // the per-factor views: refresh_view_factors
}

}  // namespace

THERASIM_KERNEL(adherence_step, adherence_body)

}  // namespace models
