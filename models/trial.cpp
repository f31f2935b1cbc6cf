// Simulated trials analysed as the trials were (Priebe et al. 2007; 2015): outcomes at the end
// of follow-up compared between randomised arms, adjusted for baseline (ANCOVA), standardised by
// the baseline standard deviation, with confidence intervals that account for clustering of
// patients by clinician (cluster-robust CR1 standard errors, t with clusters - 1 df).

#include "models/components.hpp"

#include <boost/math/distributions/students_t.hpp>

#include <array>
#include <cmath>
#include <map>

namespace models {

namespace {

struct Outcome {
    const char* name;
    const char* unit;
    const char* label;
};
constexpr std::array<Outcome, Ctx::N_TRIAL_OUTCOMES> OUTCOMES = {{
    {"qol", "rating (1-7)", "quality of life (mean of the 8 life domains)"},
    {"satisfaction", "rating (1-7)", "treatment satisfaction (3 items)"},
    {"unmet_needs", "needs", "unmet needs (negative: fewer in the intervention arm)"},
    {"symptoms", "BPRS", "symptoms (negative: fewer in the intervention arm)"},
    {"star_p", "STAR (0-4)", "the patient's rating of the relationship (STAR-P, mean item score)"},
    {"star_c", "STAR (0-4)", "the clinician's rating of the relationship (STAR-C, mean item score)"},
}};
constexpr std::array<const char*, 2> SUBGROUPS = {"", "problematic_"};

}  // namespace

Fit ancova(const std::vector<double>& y, const std::vector<double>& arm, const std::vector<double>& base,
           const std::vector<std::int32_t>& cluster) {
    const std::size_t n = y.size();
    if (n < 8) return {};
    double xtx[3][3] = {};
    double xty[3] = {};
    for (std::size_t i = 0; i < n; ++i) {
        const double xi[3] = {1.0, arm[i], base[i]};
        for (int a = 0; a < 3; ++a) {
            xty[a] += xi[a] * y[i];
            for (int b = 0; b < 3; ++b) xtx[a][b] += xi[a] * xi[b];
        }
    }
    // Inverse of the symmetric 3x3 matrix by cofactors.
    const double (&m)[3][3] = xtx;
    const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                       m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if (std::fabs(det) < 1e-12) return {};
    double inv[3][3];
    inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
    inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
    inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
    inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
    inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
    inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
    inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
    inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
    inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
    double beta[3] = {};
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) beta[a] += inv[a][b] * xty[b];
    // Meat of the sandwich: sum over clusters of (X_g' e_g)(X_g' e_g)'.
    std::map<std::int32_t, std::array<double, 3>> score;
    for (std::size_t i = 0; i < n; ++i) {
        const double e = y[i] - beta[0] - beta[1] * arm[i] - beta[2] * base[i];
        auto& s = score[cluster[i]];
        s[0] += e;
        s[1] += arm[i] * e;
        s[2] += base[i] * e;
    }
    const double g = static_cast<double>(score.size());
    if (g < 3) return {};
    double meat[3][3] = {};
    for (const auto& [id, s] : score)
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) meat[a][b] += s[a] * s[b];
    // Var(beta_arm) = row 1 of inv * meat * inv, with the CR1 small-sample factor.
    double var = 0;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) var += inv[1][a] * meat[a][b] * inv[b][1];
    const double nn = static_cast<double>(n);
    var *= g / (g - 1.0) * (nn - 1.0) / (nn - 3.0);
    return {beta[1], std::sqrt(var), g - 1.0};
}

namespace {

double sd(const std::vector<double>& v) {
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / (static_cast<double>(v.size()) - 1.0));
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const double n = static_cast<double>(a.size());
    double ma = 0, mb = 0;
    for (std::size_t k = 0; k < a.size(); ++k) ma += a[k] / n, mb += b[k] / n;
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
        sab += (a[k] - ma) * (b[k] - mb);
        saa += (a[k] - ma) * (a[k] - ma);
        sbb += (b[k] - mb) * (b[k] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : NAN;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t k = v.size() / 2;
    return v.size() % 2 ? v[k] : 0.5 * (v[k - 1] + v[k]);
}

}  // namespace

void declare_trial_metrics(sim::Schema& s) {
    s.metric("trial_patients_analysed", "patients", "Patients analysed (recruited minus attrition)");
    s.metric("trial_clusters", "clinicians", "Clinicians (clusters) with analysed patients");
    s.metric("trial_sessions_per_patient", "sessions", "DIALOG sessions delivered per analysed patient of the DIALOG arm");
    for (const char* sub : SUBGROUPS)
        for (const auto& o : OUTCOMES) {
            const std::string base = std::string("trial_") + sub + o.name;
            const std::string who = *sub ? " (problematic baseline: unmet needs or symptoms above the median)" : "";
            s.metric(base + "_d", "SD", std::string("Standardised effect on ") + o.label + who);
            s.metric(base + "_d_lo", "SD", std::string("Lower 95% limit of the effect on ") + o.label + who);
            s.metric(base + "_d_hi", "SD", std::string("Upper 95% limit of the effect on ") + o.label + who);
            s.metric(base + "_p", "p", std::string("Two-sided p-value of the effect on ") + o.label + who);
            s.metric(base + "_significant", "0/1", std::string("1 if p < 0.05 (mean over replicates: power) for ") + o.label + who);
        }
    for (const auto& o : OUTCOMES) {
        const std::string base = std::string("trial_") + o.name + "_diff";
        s.metric(base, o.unit, std::string("Baseline-adjusted difference between arms in ") + o.label + ", in its own units");
        s.metric(base + "_lo", o.unit, std::string("Lower 95% limit of the difference in ") + o.label);
        s.metric(base + "_hi", o.unit, std::string("Upper 95% limit of the difference in ") + o.label);
    }
    s.metric("trial_centres", "centres", "Centres (regions) with a centre-level analysis (3 or more regions)");
    s.metric("trial_centres_qol_positive", "centres", "Centres whose quality-of-life effect is in the intervention's favour");
    s.metric("trial_centres_needs_significant", "centres", "Centres with a significant reduction of unmet needs (p < 0.05)");
    s.metric("trial_centres_needs_qol_r", "r", "Correlation across centres of the quality-of-life effect with the centre's mean baseline unmet needs");
    for (const int m : ASSESSMENT_MONTHS)
        for (const auto& o : OUTCOMES) {
            const std::string base = std::string("trial_") + o.name + "_d_m" + std::to_string(m);
            const std::string when = " at " + std::to_string(m) + " months (NaN beyond the horizon)";
            s.metric(base, "SD", std::string("Standardised effect on ") + o.label + when);
            s.metric(base + "_lo", "SD", std::string("Lower 95% limit of the effect on ") + o.label + when);
            s.metric(base + "_hi", "SD", std::string("Upper 95% limit of the effect on ") + o.label + when);
            s.metric(base + "_significant", "0/1", std::string("1 if p < 0.05 for ") + o.label + when);
        }
}

void start_trial_assessments(Ctx& x, const sim::World& w) {
    x.assessments.clear();
    if (!x.cfg.trial.analyse) return;
    for (const int m : ASSESSMENT_MONTHS) {
        const auto step = static_cast<std::uint32_t>(std::lround(m * (DAYS_PER_YEAR / 12.0) / w.step_days));
        if (step < 1 || step > w.n_steps) continue;
        Ctx::Assessment a;
        a.months = m;
        a.step = step;
        x.assessments.push_back(std::move(a));
    }
}

namespace {
/// The value of outcome @p o of patient @p i now.
float outcome_now(const Ctx& x, std::size_t o, std::size_t i) {
    switch (o) {
        case 0: return x.p.qol[i];
        case 1: return x.p.satisfaction[i];
        case 2: return static_cast<float>(x.p.unmet_needs[i]);
        case 3: return x.p.symptoms[i];
        case 4: return x.d.star_p[i];
        default: return x.d.star_c[i];
    }
}
/// The value of outcome @p o of patient @p i at step 0.
float outcome_start(const Ctx& x, std::size_t o, std::size_t i) {
    switch (o) {
        case 0: return x.p.qol_start[i];
        case 1: return x.p.satisfaction_start[i];
        case 2: return static_cast<float>(x.p.unmet_needs_start[i]);
        case 3: return x.p.symptoms_start[i];
        case 4: return x.d.star_p_start[i];
        default: return x.d.star_c_start[i];
    }
}
}  // namespace

void trial_assessment_step(Ctx& x, sim::World& w) {
    for (auto& a : x.assessments) {
        if (a.step != w.step) continue;
        for (std::size_t o = 0; o < OUTCOMES.size(); ++o) {
            a.outcomes[o].resize(x.p.n);
            for (std::size_t i = 0; i < x.p.n; ++i) a.outcomes[o][i] = outcome_now(x, o, i);
        }
        a.done = true;
    }
}

namespace {

/// Centre-level effects (van den Brink et al. 2011), with regions as the trial's centres: how
/// many centres show a quality-of-life effect in the intervention's direction, in how many the
/// reduction of unmet needs is significant, and the correlation across centres of the
/// quality-of-life effect with the centre's mean baseline unmet needs. @p fit(o, region) is the
/// effect on outcome o (0 quality of life, 2 unmet needs) among the centre's analysed patients.
template <class Fit>
void analyse_centres(const Ctx& x, sim::World& w, const std::vector<std::size_t>& rows, Fit fit) {
    const auto n_regions = static_cast<std::int32_t>(x.n_regions);
    if (n_regions < 3) return;
    std::vector<double> needs0, qol_d;
    int positive = 0, needs_significant = 0;
    for (std::int32_t r = 0; r < n_regions; ++r) {
        const auto qol = fit(0, r), needs = fit(2, r);
        if (std::isnan(qol.d) || std::isnan(needs.d)) continue;
        double sum = 0, n = 0;
        for (std::size_t i : rows)
            if (x.p.region[i] == r) sum += x.p.unmet_needs_start[i], n += 1;
        needs0.push_back(sum / n);
        qol_d.push_back(qol.d);
        positive += qol.d > 0;
        needs_significant += needs.d < 0 && needs.p < 0.05;
    }
    w.set_metric("trial_centres", static_cast<double>(qol_d.size()));
    if (qol_d.size() < 3) return;
    w.set_metric("trial_centres_qol_positive", positive);
    w.set_metric("trial_centres_needs_significant", needs_significant);
    w.set_metric("trial_centres_needs_qol_r", pearson(needs0, qol_d));
}

}  // namespace

void analyse_trial(Ctx& x, sim::World& w) {
    const auto& p = x.p;
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < p.n; ++i) {
        const auto post = static_cast<std::size_t>(p.clinician[i]);
        if (x.c.trial_arm[post] < 0) continue;
        if (w.rng.uniform(static_cast<std::uint32_t>(i), streams::TRIAL_ATTRITION, 0) < x.cfg.trial.attrition) continue;
        rows.push_back(i);
    }
    std::vector<double> needs0, sym0;
    std::map<std::int32_t, int> clusters;
    double sessions = 0, n_dialog = 0;
    for (std::size_t i : rows) {
        needs0.push_back(p.unmet_needs_start[i]);
        sym0.push_back(p.symptoms_start[i]);
        clusters[p.clinician[i]] += 1;
        if (x.c.trial_arm[static_cast<std::size_t>(p.clinician[i])] == 1) {
            sessions += p.n_dialog_sessions[i];
            n_dialog += 1;
        }
    }
    w.set_metric("trial_patients_analysed", static_cast<double>(rows.size()));
    w.set_metric("trial_clusters", static_cast<double>(clusters.size()));
    w.set_metric("trial_sessions_per_patient", n_dialog > 0 ? sessions / n_dialog : NAN);
    if (rows.size() < 8) return;
    const double needs_median = median(needs0), sym_median = median(sym0);

    // One outcome's effect among @p who with outcomes @p now(o, i), baseline-adjusted, in the
    // outcome's units and standardised by the baseline SD, with its 95% limits and p-value.
    struct Effect {
        double diff = NAN, diff_lo = NAN, diff_hi = NAN, d = NAN, d_lo = NAN, d_hi = NAN, p = NAN;
    };
    auto effect = [&](std::size_t o, auto who, auto now) {
        std::vector<double> y, base, arm;
        std::vector<std::int32_t> cluster;
        for (std::size_t i : rows) {
            if (!who(i)) continue;
            y.push_back(now(o, i));
            base.push_back(outcome_start(x, o, i));
            arm.push_back(x.c.trial_arm[static_cast<std::size_t>(p.clinician[i])]);
            cluster.push_back(p.clinician[i]);
        }
        Effect e;
        const Fit f = y.size() >= 8 ? ancova(y, arm, base, cluster) : Fit{};
        const double scale = y.size() >= 2 ? sd(base) : NAN;
        if (std::isnan(f.effect) || !(scale > 0) || !(f.se > 0)) return e;
        const boost::math::students_t t(f.df);
        const double crit = boost::math::quantile(t, 0.975);
        e.diff = f.effect;
        e.diff_lo = f.effect - crit * f.se;
        e.diff_hi = f.effect + crit * f.se;
        e.d = e.diff / scale;
        e.d_lo = e.diff_lo / scale;
        e.d_hi = e.diff_hi / scale;
        e.p = 2.0 * boost::math::cdf(boost::math::complement(t, std::fabs(f.effect / f.se)));
        return e;
    };
    // Writes key + d_suffix, _lo/_hi (after d_suffix), and _p / _significant and the difference
    // in the outcome's own units (key + _diff, _diff_lo, _diff_hi) if asked.
    auto analyse = [&](std::size_t o, const std::string& key, const std::string& d_suffix, bool with_p, bool with_diff, auto who,
                       auto now) {
        const Effect e = effect(o, who, now);
        if (std::isnan(e.d)) return;
        if (with_diff) {
            w.set_metric(key + "_diff", e.diff);
            w.set_metric(key + "_diff_lo", e.diff_lo);
            w.set_metric(key + "_diff_hi", e.diff_hi);
        }
        w.set_metric(key + d_suffix, e.d);
        w.set_metric(key + d_suffix + "_lo", e.d_lo);
        w.set_metric(key + d_suffix + "_hi", e.d_hi);
        if (with_p) w.set_metric(key + "_p", e.p);
        w.set_metric(key + (with_p ? "" : d_suffix) + "_significant", e.p < 0.05 ? 1.0 : 0.0);
    };
    auto everyone = [](std::size_t) { return true; };
    auto problematic = [&](std::size_t i) { return p.unmet_needs_start[i] > needs_median || p.symptoms_start[i] > sym_median; };
    auto at_end = [&](std::size_t o, std::size_t i) { return static_cast<double>(outcome_now(x, o, i)); };
    for (std::size_t o = 0; o < OUTCOMES.size(); ++o) {
        analyse(o, std::string("trial_") + OUTCOMES[o].name, "_d", true, true, everyone, at_end);
        analyse(o, std::string("trial_problematic_") + OUTCOMES[o].name, "_d", true, false, problematic, at_end);
        for (const auto& a : x.assessments) {
            if (!a.done) continue;
            auto at = [&a](std::size_t oo, std::size_t i) { return static_cast<double>(a.outcomes[oo][i]); };
            analyse(o, std::string("trial_") + OUTCOMES[o].name, "_d_m" + std::to_string(a.months), false, false, everyone, at);
        }
    }
    analyse_centres(x, w, rows, [&](std::size_t o, std::int32_t region) {
        return effect(o, [&](std::size_t i) { return p.region[i] == region; }, at_end);
    });
}

}  // namespace models
