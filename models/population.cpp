// The service structure (regions, trusts, teams, care coordinator posts) and the population
// of patients and families at step 0. Every draw is keyed by the entity's row and step 0, so
// the population is the same in every scenario that shares the seed and these parameters.

#include "models/components.hpp"
#include "sim/errors.hpp"
#include "sim/parallel.hpp"

#include <boost/random/poisson_distribution.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

namespace models {

namespace {

/// Draws tried per patient before an inclusion criterion is judged impossible to meet.
constexpr std::uint32_t MAX_ELIGIBILITY_ATTEMPTS = 1000;

/// Splits @p total into parts proportional to @p weights (largest remainder, deterministic).
std::vector<long long> apportion(long long total, const std::vector<double>& weights) {
    const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
    std::vector<long long> out(weights.size(), 0);
    if (sum <= 0 || total <= 0) return out;
    std::vector<std::pair<double, std::size_t>> rem;
    long long given = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const double exact = static_cast<double>(total) * weights[i] / sum;
        out[i] = static_cast<long long>(std::floor(exact));
        given += out[i];
        rem.emplace_back(exact - std::floor(exact), i);
    }
    std::stable_sort(rem.begin(), rem.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t k = 0; given < total; ++k, ++given) ++out[rem[k % rem.size()].second];
    return out;
}

}  // namespace

Plan plan_structure(const Config& cfg) {
    const auto& st = cfg.structure;
    const long long n_pat = cfg.population.n_patients;
    Plan plan;
    plan.n_clinicians = st.n_clinicians > 0 ? st.n_clinicians
                                            : static_cast<long long>(std::ceil(static_cast<double>(n_pat) / st.caseload_mean));
    if (static_cast<double>(n_pat) > static_cast<double>(plan.n_clinicians) * st.caseload_max)
        throw PlanError(st.n_clinicians > 0 ? "structure.n_clinicians" : "structure.caseload_max",
                        std::to_string(n_pat) + " patients cannot be allocated to " + std::to_string(plan.n_clinicians) +
                            " care coordinators with at most " + std::to_string(static_cast<long long>(st.caseload_max)) +
                            " patients each; add posts or raise structure.caseload_max");
    const std::size_t nr = st.regions.size();
    long long total_trusts = 0;
    std::vector<double> shares;
    for (const auto& r : st.regions) {
        total_trusts += r.n_trusts;
        shares.push_back(r.share);
    }
    if (plan.n_clinicians < total_trusts)
        throw PlanError("structure.regions", "the regions have " + std::to_string(total_trusts) + " trusts but there are only " +
                                                 std::to_string(plan.n_clinicians) + " care coordinator posts (each trust needs one)");
    long long n_teams = std::max<long long>(total_trusts, std::llround(static_cast<double>(plan.n_clinicians) / st.team_size));
    n_teams = std::min(n_teams, plan.n_clinicians);

    // Teams per region: proportional to the patient share, at least one per trust.
    std::vector<long long> teams_r = apportion(n_teams, shares);
    for (std::size_t r = 0; r < nr; ++r) teams_r[r] = std::max<long long>(teams_r[r], st.regions[r].n_trusts);
    n_teams = std::accumulate(teams_r.begin(), teams_r.end(), 0LL);
    const std::vector<long long> patients_r = apportion(n_pat, shares);
    // Posts per region follow the patient share too, with at least one per team; a tiny
    // population may therefore get a few more posts than its caseload mean implies.
    std::vector<long long> clinicians_r = apportion(plan.n_clinicians, shares);
    for (std::size_t r = 0; r < nr; ++r) clinicians_r[r] = std::max(clinicians_r[r], teams_r[r]);
    const long long needed = std::accumulate(clinicians_r.begin(), clinicians_r.end(), 0LL);
    if (needed > plan.n_clinicians && st.n_clinicians > 0)
        throw PlanError("structure.n_clinicians", "the regions' teams need at least " + std::to_string(needed) +
                                                      " care coordinator posts (one per team), more than structure.n_clinicians");
    plan.n_clinicians = needed;

    std::int32_t trust0 = 0;
    for (std::size_t r = 0; r < nr; ++r) {
        const int nt = st.regions[r].n_trusts;
        for (int t = 0; t < nt; ++t) plan.trust_region.push_back(static_cast<std::int32_t>(r));
        std::vector<double> weights;
        for (long long j = 0; j < teams_r[r]; ++j) {
            const long long clin = clinicians_r[r] / teams_r[r] + (j < clinicians_r[r] % teams_r[r] ? 1 : 0);
            plan.team_trust.push_back(trust0 + static_cast<std::int32_t>(j % nt));
            plan.team_region.push_back(static_cast<std::int32_t>(r));
            plan.team_clinicians.push_back(static_cast<std::int32_t>(clin));
            weights.push_back(static_cast<double>(clin));
        }
        for (long long pats : apportion(patients_r[r], weights)) plan.team_patients.push_back(static_cast<std::int32_t>(pats));
        trust0 += nt;
    }
    for (std::size_t t = 0; t < plan.team_patients.size(); ++t) {
        const double load = std::ceil(static_cast<double>(plan.team_patients[t]) / plan.team_clinicians[t]);
        if (load > st.caseload_max)
            throw PlanError("structure.regions",
                            "teams in region '" + st.regions[static_cast<std::size_t>(plan.team_region[t])].name +
                                "' would need caseloads of " + std::to_string(static_cast<long long>(load)) +
                                ", above structure.caseload_max (" + std::to_string(static_cast<long long>(st.caseload_max)) +
                                "); its share of patients is too large for its share of teams");
    }
    return plan;
}

void create_population(sim::World& w, const Config& cfg) {
    const Plan plan = plan_structure(cfg);
    const sim::Rng& rng = w.rng;
    const std::size_t n_pat = static_cast<std::size_t>(cfg.population.n_patients);

    auto& trusts = w.agents("trust");
    trusts.resize(plan.trust_region.size());
    TrustView tr(trusts);
    for (std::size_t t = 0; t < tr.n; ++t) tr.region[t] = plan.trust_region[t];

    auto& teams = w.agents("team");
    teams.resize(plan.team_trust.size());
    TeamView tm(teams);
    auto& clinicians = w.agents("clinician");
    clinicians.resize(static_cast<std::size_t>(plan.n_clinicians));
    ClinicianView cv(clinicians);
    auto& patients = w.agents("patient");
    patients.resize(n_pat);
    w.agents("dyad").resize(n_pat);  // one current dyad per patient
    PatientView pv(patients);

    std::int32_t first_p = 0, first_c = 0;
    const double spread = cfg.structure.contact_interval_spread;
    for (std::size_t t = 0; t < tm.n; ++t) {
        const Region& reg = cfg.structure.regions[static_cast<std::size_t>(plan.team_region[t])];
        tm.trust[t] = plan.team_trust[t];
        tm.region[t] = plan.team_region[t];
        tm.n_clinicians[t] = plan.team_clinicians[t];
        tm.n_patients[t] = plan.team_patients[t];
        tm.first_patient[t] = first_p;
        tm.first_clinician[t] = first_c;
        // Team meeting norms vary around the national mean (lognormal, mean preserved).
        auto g = rng.draws(static_cast<std::uint32_t>(t), streams::STRUCTURE, 0);
        tm.contact_interval_weeks[t] =
            static_cast<float>(cfg.structure.contact_interval_weeks * std::exp(spread * g.normal() - spread * spread / 2));
        tm.capacity[t] = static_cast<float>(reg.capacity);
        tm.coercion[t] = static_cast<float>(reg.coercion);
        tm.need_rate[t] = static_cast<float>(reg.needs);

        const std::int32_t nc = plan.team_clinicians[t], np = plan.team_patients[t];
        for (std::int32_t k = 0; k < nc; ++k) {
            const auto post = static_cast<std::size_t>(first_c + k);
            cv.team[post] = static_cast<std::int32_t>(t);
            draw_clinician(cfg, rng, cv, post, 0);
            cv.ti_hired[post] = 0;
        }
        for (std::int32_t k = 0; k < np; ++k) {
            const auto i = static_cast<std::size_t>(first_p + k);
            pv.team[i] = static_cast<std::int32_t>(t);
            pv.region[i] = plan.team_region[t];
        }
        first_p += np;
        first_c += nc;
    }

    // Patient traits, in parallel: each row draws only from its own keyed stream.
    const auto& po = cfg.population;
    const auto& sy = cfg.symptoms;
    const auto& wb = cfg.wellbeing;
    std::vector<std::uint8_t> has_family(n_pat);
    std::atomic<bool> ineligible{false};
    sim::parallel::for_each_index(n_pat, [&](std::size_t i) {
      // Eligibility: a patient whose draw fails the inclusion criteria is drawn again from the
      // next substream (attempt k uses step k of the trait stream), as recruitment screens
      // patients until one qualifies.
      for (std::uint32_t attempt = 0;; ++attempt) {
        if (attempt == MAX_ELIGIBILITY_ATTEMPTS) {
            ineligible = true;
            return;
        }
        auto g = rng.draws(static_cast<std::uint32_t>(i), streams::PATIENT_TRAITS, attempt);
        const double age = std::clamp(po.age_mean + po.age_sd * g.normal(), 18.0, 90.0);
        pv.age[i] = static_cast<float>(age);
        pv.male[i] = g.uniform() < po.p_male;
        double u = g.uniform() * std::accumulate(po.diagnosis_mix.begin(), po.diagnosis_mix.end(), 0.0);
        std::uint8_t dx = 0;
        while (dx < 4 && u > po.diagnosis_mix[dx]) u -= po.diagnosis_mix[dx++];
        pv.diagnosis[i] = dx;
        pv.illness_years[i] = static_cast<float>(std::min(age - 16.0, -po.illness_years_mean * std::log(g.uniform())));
        pv.negative_experiences[i] = g.uniform() < po.p_negative_experiences;
        // Draws are taken unconditionally so that each trait keeps its place in the stream.
        const double u_history = g.uniform(), u_second = g.uniform();
        pv.n_involuntary[i] = u_history < po.p_coercion_history ? 1 + (u_second < 0.4) : 0;
        // Younger patients and those with negative experiences prefer partnership (Hamann et al. 2005).
        const double pref = logistic(0.3 * (po.age_mean - age) / 10.0 + 0.8 * pv.negative_experiences[i] + 0.8 * g.normal());
        pv.pref_partnership[i] = static_cast<float>(pref);
        const Region& reg = cfg.structure.regions[static_cast<std::size_t>(pv.region[i])];
        pv.symptoms_base[i] = clampf(sy.base_mean + reg.symptoms + sy.base_sd * g.normal(), 18, 126);
        const double u_relapse = g.uniform(), u_admit = g.uniform(), u_stay = g.uniform(), u_engaged = g.uniform();
        const bool relapsed = u_relapse < cfg.relapse.prevalence_at_start;
        const bool admitted = relapsed && u_admit < 1.0 / 3.0;
        const double stay = u_stay * cfg.admission.los_mean_days;
        pv.relapsed[i] = relapsed;
        pv.inpatient[i] = admitted;
        pv.days_to_discharge[i] = admitted ? static_cast<float>(stay) : 0.0f;
        pv.symptoms[i] = clampf(pv.symptoms_base[i] + (relapsed ? sy.relapse_increase : 0.0), 18, 126);
        pv.severity[i] = pv.symptoms[i] >= sy.cut_high ? 2 : pv.symptoms[i] >= sy.cut_moderate ? 1 : 0;
        pv.engaged[i] = admitted || u_engaged >= cfg.engagement.p_disengaged_at_start;
        pv.unmet_needs[i] = std::min(22, boost::random::poisson_distribution<int>(std::max(1e-9, wb.mean_unmet_needs * reg.needs))(g));
        // A patient with more unmet needs (Slade et al. 2005) and more symptoms rates life lower
        // and has more room to improve.
        const double own = wb.qol_mean + wb.qol_patient_sd * g.normal() - wb.qol_per_unmet_need * (pv.unmet_needs[i] - wb.mean_unmet_needs) -
                           wb.qol_symptom_effect * (pv.symptoms_base[i] - sy.base_mean) / 10.0;
        // Ratings start at their set points, lowered by symptoms above the stable level.
        const double symptom_shift = -wb.qol_symptom_effect * (pv.symptoms[i] - pv.symptoms_base[i]) / 10.0;
        for (std::size_t k = 0; k < N_DOMAINS; ++k) {
            pv.qol_set[k][i] = clampf(own + wb.qol_domain_sd * g.normal(), 1, 7);
            pv.qol_domain[k][i] = clampf(pv.qol_set[k][i] + symptom_shift, 1, 7);
        }
        has_family[i] = g.uniform() < po.p_family;
        pv.adherence[i] = static_cast<float>(std::clamp(cfg.adherence.initial_mean + 0.2 * g.normal(), 0.0, 1.0));
        pv.insight[i] = static_cast<float>(cfg.adherence.insight_sd * g.normal());
        // Drawn after the older traits so that those keep their places in the stream.
        for (auto* own_offset : pv.sat_offset) own_offset[i] = static_cast<float>(wb.sat_item_sd * g.normal());
        // The shared shock starts from its stationary distribution (AR(1) with the weekly rate).
        const double keep = 1.0 - std::min(1.0 - 1e-9, wb.qol_shock_rate);
        pv.qol_shock[i] = static_cast<float>(wb.qol_shock_sd / std::sqrt(1.0 - keep * keep) * g.normal());
        double rated = 0;
        for (std::size_t k = 0; k < N_DOMAINS; ++k) {
            pv.qol_domain[k][i] = clampf(pv.qol_domain[k][i] + pv.qol_shock[i], 1, 7);
            rated += pv.qol_domain[k][i];
        }
        pv.qol[i] = static_cast<float>(rated / N_DOMAINS);
        if (po.eligibility_max_qol >= 7.0 || pv.qol[i] < po.eligibility_max_qol) break;
      }
    });
    if (ineligible)
        throw sim::RunError("no eligible patient found in " + std::to_string(MAX_ELIGIBILITY_ATTEMPTS) +
                            " draws: population.eligibility.max_qol is too strict for the quality-of-life distribution");

    // Allocation of patients to the posts of their team: by style match, or in turn.
    for (std::size_t t = 0; t < tm.n; ++t) {
        const std::int32_t np = tm.n_patients[t], nc = tm.n_clinicians[t], p0 = tm.first_patient[t], c0 = tm.first_clinician[t];
        std::vector<std::int32_t> order(static_cast<std::size_t>(np)), posts(static_cast<std::size_t>(nc));
        std::iota(order.begin(), order.end(), p0);
        std::iota(posts.begin(), posts.end(), c0);
        if (cfg.structure.match_preferences) {
            std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return pv.pref_partnership[a] < pv.pref_partnership[b]; });
            std::stable_sort(posts.begin(), posts.end(), [&](auto a, auto b) { return cv.style_partnership[a] < cv.style_partnership[b]; });
            // Consecutive runs of patients (by preference) go to posts in order of style.
            for (std::int32_t k = 0; k < np; ++k)
                pv.clinician[order[static_cast<std::size_t>(k)]] = posts[static_cast<std::size_t>(static_cast<long long>(k) * nc / np)];
        } else {
            for (std::int32_t k = 0; k < np; ++k) pv.clinician[static_cast<std::size_t>(p0 + k)] = c0 + k % nc;
        }
    }
    for (std::size_t i = 0; i < n_pat; ++i) ++cv.caseload[static_cast<std::size_t>(pv.clinician[i])];

    // Families, in patient order.
    const std::size_t n_fam = static_cast<std::size_t>(std::count(has_family.begin(), has_family.end(), 1));
    auto& families = w.agents("family");
    families.resize(n_fam);
    FamilyView fv(families);
    const auto& fa = cfg.family;
    for (std::size_t i = 0, j = 0; i < n_pat; ++i) {
        if (!has_family[i]) continue;
        pv.family[i] = static_cast<std::int32_t>(j);
        fv.patient[j] = static_cast<std::int32_t>(i);
        auto g = rng.draws(static_cast<std::uint32_t>(j), streams::FAMILY_TRAITS, 0);
        fv.support[j] = clampf(fa.support_mean + 0.2 * g.normal(), 0, 1);
        const bool high = g.uniform() < fa.share_high_ee;
        const double thr = fa.high_ee_threshold;
        const double ee = high ? thr + (1 - thr) * g.uniform() * 0.999 : thr * g.uniform() * 0.999;
        fv.ee_trait[j] = static_cast<float>(ee);
        fv.ee[j] = static_cast<float>(ee);
        fv.high_ee[j] = ee >= thr;
        fv.burden[j] = static_cast<float>(fa.burden_base);
        ++j;
    }
}

}  // namespace models
