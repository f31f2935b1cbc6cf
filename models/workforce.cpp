// Care coordinators: traits, turnover and communication-skills training. A leaver's post is
// filled at once by a new hire who takes over the caseload; each patient of the post then
// starts a new relationship (relationship.cpp notices the new hire number).

#include "models/components.hpp"

namespace models {

void draw_clinician(const Config& cfg, const sim::Rng& rng, ClinicianView& c, std::size_t post, std::uint32_t step) {
    const auto& cl = cfg.clinicians;
    auto g = rng.draws(static_cast<std::uint32_t>(post), streams::CLINICIAN_TRAITS, step);
    c.skill[post] = clampf(cl.skill_mean + cl.skill_sd * g.normal(), 0, 1);
    c.responsiveness[post] = clampf(cl.responsiveness_mean + cl.responsiveness_sd * g.normal(), 0, 1);
    c.style_partnership[post] = clampf(cl.style_mean + cl.style_sd * g.normal(), 0, 1);
    c.flexibility[post] = clampf(cl.flexibility_mean + cl.flexibility_sd * g.normal(), 0, 1);
    const double u = g.uniform() * (cl.approach_mix[0] + cl.approach_mix[1] + cl.approach_mix[2]);
    c.approach[post] = u < cl.approach_mix[0] ? 0 : u < cl.approach_mix[0] + cl.approach_mix[1] ? 1 : 2;
    c.supervised[post] = g.uniform() < cl.supervision_coverage;
    c.dialog_trained[post] = 0;
    c.ti_trained[post] = -1;
    c.ti_train_due[post] = -1;
    c.fidelity[post] = 0;
    c.dialog_ratings_only[post] = 0;
    c.skills_trained[post] = 0;
}

namespace {

/// Whether the holder of @p post may be trained: in a randomised trial, only posts of the training arm.
bool may_train(const Ctx& x, std::size_t post) {
    return x.cfg.clinicians.skills_training_design != "cluster_randomised" || x.c.trial_arm[post] == 1;
}

void skills_training(Ctx& x, std::size_t post) {
    const double gain = x.cfg.clinicians.skills_training_gain;
    x.c.skill[post] = clampf(x.c.skill[post] + gain, 0, 1);
    x.c.responsiveness[post] = clampf(x.c.responsiveness[post] + gain, 0, 1);
    x.c.skills_trained[post] = 1;
}

}  // namespace

void schedule_skills_trial(Ctx& x, const sim::World& w) {
    const auto& cl = x.cfg.clinicians;
    if (!cl.skills_training_enabled || cl.skills_training_design != "cluster_randomised") return;
    for (std::size_t post = 0; post < x.c.n; ++post)
        x.c.trial_arm[post] =
            w.rng.uniform(static_cast<std::uint32_t>(post), streams::SKILLS_RANDOMISATION, 0) < cl.skills_training_share_randomised ? 1 : 0;
}

void workforce_step(Ctx& x, sim::World& w) {
    auto& c = x.c;
    const auto& cl = x.cfg.clinicians;
    const int skills_step = std::max(1, steps_in_years(cl.skills_training_start_year, w.step_days));
    const bool skills_now = cl.skills_training_enabled && static_cast<int>(w.step) == skills_step;
    const bool skills_running = cl.skills_training_enabled && static_cast<int>(w.step) >= skills_step;
    double departures = 0;
    for (std::size_t post = 0; post < c.n; ++post) {
        const double u = w.rng.uniform(static_cast<std::uint32_t>(post), streams::CLINICIAN_TURNOVER, w.step);
        const double u_skills = w.rng.uniform(static_cast<std::uint32_t>(post), streams::SKILLS_TRAINING, w.step);
        if (u < x.k.p_turnover) {
            ++departures;
            ++c.hire[post];
            c.ti_hired[post] = static_cast<std::int32_t>(w.step);
            draw_clinician(x.cfg, w.rng, c, post, w.step);
            // New hires join a skills programme that has started; DIALOG training follows in dialog.cpp.
            if (skills_running && u_skills < cl.skills_training_coverage && may_train(x, post)) skills_training(x, post);
            const auto trust = static_cast<std::size_t>(x.team.trust[static_cast<std::size_t>(c.team[post])]);
            const std::int32_t start = x.trust.ti_dialog_start[trust];
            if (start >= 0 && static_cast<std::int32_t>(w.step) >= start)
                c.ti_train_due[post] = static_cast<std::int32_t>(w.step) + std::max(1, x.k.new_staff_delay_steps);
        } else if (skills_now && u_skills < cl.skills_training_coverage && may_train(x, post)) {
            skills_training(x, post);
        }
    }
    w.set_national("clinician_departures", departures);
}

}  // namespace models
