// DIALOG as an intervention: a stepped-wedge rollout to care coordinators by trust, uptake,
// fidelity and its drift, and sessions at routine meetings (every 2 months for DIALOG,
// monthly for DIALOG+), in which patients rate 8 life domains and 3 treatment aspects and ask
// for help; what follows is in wellbeing.cpp (needs acted on) and relationship.cpp (structured
// communication). A scenario without DIALOG draws none of these streams.

#include "models/components.hpp"
#include "models/simd.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace models {

void schedule_rollout(Ctx& x, const sim::World& w) {
    const auto& di = x.cfg.dialog;
    if (!di.enabled) return;
    if (di.design == "cluster_randomised") {
        // A trial: every trust starts at once, and each care coordinator post is randomised.
        for (std::size_t t = 0; t < x.trust.n; ++t) {
            x.trust.wave[t] = 0;
            x.trust.ti_dialog_start[t] = std::max(1, steps_in_years(di.start_year, w.step_days));
        }
        for (std::size_t post = 0; post < x.c.n; ++post)
            x.c.trial_arm[post] =
                w.rng.uniform(static_cast<std::uint32_t>(post), streams::DIALOG_RANDOMISATION, 0) < di.share_randomised ? 1 : 0;
        return;
    }
    const std::size_t n = x.trust.n;
    std::vector<double> key(n);
    for (std::size_t t = 0; t < n; ++t) key[t] = w.rng.uniform(static_cast<std::uint32_t>(t), streams::DIALOG_WAVES, 0);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return key[a] < key[b]; });
    const auto waves = static_cast<std::size_t>(di.n_waves);
    for (std::size_t rank = 0; rank < n; ++rank) {
        const std::size_t t = order[rank];
        const std::size_t wave = rank * waves / n;
        const double start = di.start_year + di.duration_years * static_cast<double>(wave) / static_cast<double>(waves);
        x.trust.wave[t] = static_cast<std::int32_t>(wave);
        x.trust.ti_dialog_start[t] = std::max(1, steps_in_years(start, w.step_days));
    }
}

namespace {

/// Offers DIALOG training to the holder of @p post; returns the cost incurred.
double train(Ctx& x, const sim::World& w, std::size_t post) {
    const auto& di = x.cfg.dialog;
    auto g = w.rng.draws(static_cast<std::uint32_t>(post), streams::DIALOG_UPTAKE, w.step);
    const double u = g.uniform();
    const double n = g.normal();
    x.c.ti_train_due[post] = -1;
    if (u >= di.uptake) return 0.0;
    if (x.c.trial_arm[post] == 0) {
        // The control arm of a trial: nothing, or (active control) ratings on a tablet only.
        if (di.control != "active") return 0.0;
        x.c.dialog_ratings_only[post] = 1;
    }
    x.c.dialog_trained[post] = 1;
    x.c.ti_trained[post] = static_cast<std::int32_t>(w.step);
    x.c.fidelity[post] = clampf(di.fidelity_initial + di.fidelity_sd * n, di.fidelity_floor, 1);
    return 1.0;
}

}  // namespace

void rollout_step(Ctx& x, sim::World& w) {
    const auto& di = x.cfg.dialog;
    if (!di.enabled || w.burning_in()) return;  // DIALOG starts at step 1 at the earliest
    const auto step = static_cast<std::int32_t>(w.step);
    double trained_now = 0, trained_total = 0;
    for (std::size_t t = 0; t < x.trust.n; ++t)
        if (x.trust.ti_dialog_start[t] == step)
            for (std::int32_t post : x.trust_posts[t]) trained_now += train(x, w, static_cast<std::size_t>(post));
    const double drift_unsupervised = decay(w.step_days, di.fidelity_half_life_years * DAYS_PER_YEAR);
    const double drift_supervised =
        di.supervision_drift > 0 ? decay(w.step_days, di.fidelity_half_life_years * DAYS_PER_YEAR / di.supervision_drift) : 1.0;
    for (std::size_t post = 0; post < x.c.n; ++post) {
        if (x.c.ti_train_due[post] == step) trained_now += train(x, w, post);
        if (!x.c.dialog_trained[post]) continue;
        ++trained_total;
        // Fidelity drifts down towards its floor; supervision slows the drift.
        const double keep = x.c.supervised[post] ? drift_supervised : drift_unsupervised;
        x.c.fidelity[post] = static_cast<float>(di.fidelity_floor + (x.c.fidelity[post] - di.fidelity_floor) * keep);
    }
    w.set_national("clinicians_dialog_trained", trained_total);
    w.set_national("cost_training", trained_now * di.cost_training);
    w.set_national("cost_devices", trained_now * di.cost_device);
}

namespace {

THERASIM_INLINE void dialog_sessions_body(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& di = x.cfg.dialog;
    auto& p = x.p;
    const std::size_t o = b.begin, n = b.size();
    const auto step = static_cast<std::int32_t>(w.step);
    const bool sessions_over = static_cast<int>(w.step) > steps_in_years(di.end_year, w.step_days);
    if (x.post_trained.size() != x.c.n) throw std::logic_error("dialog_sessions: Ctx::post_trained is not refreshed (refresh_post_arm)");
    // Boosts decay; who is due a session at this meeting (as columns); then the due patients.
    std::array<std::uint8_t, sim::BLOCK_SIZE> due;
    {
        float* boost = p.dialog_boost + o;
        std::int32_t* ti_due = p.ti_dialog_due + o;
        const std::int32_t *post = p.clinician + o, *trained = x.post_trained.data();
        const std::uint8_t* contact = p.contact + o;
        const auto boost_decay = static_cast<float>(x.k.boost_decay);
THERASIM_IVDEP
        for (std::size_t j = 0; j < n; ++j) {
            const float decayed = boost[j] * boost_decay;
            boost[j] = boost[j] > 0.0f ? (decayed < 1e-4f ? 0.0f : decayed) : boost[j];
            const bool is_trained = trained[static_cast<std::size_t>(post[j])] != 0;
            const bool meets = is_trained & (contact[j] != 0) & !sessions_over;
            // the first meeting with a trained clinician is due at once
            const std::int32_t due_step = meets & (ti_due[j] < 0) ? step : ti_due[j];
            ti_due[j] = is_trained ? due_step : -1;
            due[j] = meets & (step >= due_step);
        }
    }
    for_each_flag(due.data(), n, 1, [&](std::size_t j) {
        const std::size_t i = o + j;
        const auto post = static_cast<std::size_t>(p.clinician[i]);
        ++p.n_dialog_planned[i];
        p.events[i] |= event::DIALOG_PLANNED;
        // The schedule keeps its rhythm (due dates every interval), but a patient long out of
        // contact is not owed the sessions missed meanwhile.
        p.ti_dialog_due[i] = std::max(p.ti_dialog_due[i] + x.k.dialog_interval_steps, step + 1);
        if (w.rng.uniform(static_cast<std::uint32_t>(i), streams::DIALOG_SESSION, w.step) >= x.c.fidelity[post]) return;
        p.dialog_session[i] = 1;
        ++p.n_dialog_sessions[i];
        p.cost[i] += static_cast<float>(di.extra_minutes * di.cost_per_clinician_minute);
        if (x.c.dialog_ratings_only[post]) return;  // ratings without a structured response
        p.dialog_boost[i] += static_cast<float>(di.approach_effect[x.approach_of(post)]);
    });
}

}  // namespace

THERASIM_KERNEL(dialog_sessions, dialog_sessions_body)

}  // namespace models
