// The model's outputs: time series of MODEL.md's "outputs that matter", grouped by arm
// (DIALOG exposure of the patient's care coordinator), region and baseline severity.

#include "models/components.hpp"
#include "models/simd.hpp"

namespace models {

using sim::Stat;

namespace {
// Series indices, in declaration order (declare_outputs declares them in this order).
enum S : int {
    PATIENTS, ENGAGED, DISENGAGED, ADHERENT, INPATIENT, RELAPSED, WITH_FAMILY,
    MEAN_ADHERENCE, MEAN_SYMPTOMS, MEAN_QOL, SHARE_QOL_IMPROVED, MEAN_SATISFACTION, MEAN_UNMET_NEEDS, MEAN_STAR_P,
    MEAN_STAR_C, SHARE_HIGH_EE,
    RELAPSES, ADMISSIONS_VOLUNTARY, ADMISSIONS_INVOLUNTARY, BED_DAYS, DISENGAGEMENTS, REENGAGEMENTS, CONTACTS,
    DIALOG_PLANNED, DIALOG_SESSIONS, COST_BED_DAYS, COST_CONTACTS, COST_DIALOG_TIME,
    N_PATIENT_SERIES
};
}  // namespace

void declare_outputs(sim::Schema& s) {
    // Levels: states at the end of a step.
    s.series("patients", "patients", "Patients");
    s.series("engaged", "patients", "Patients engaged with services").in_summary().better_if_higher();
    s.series("disengaged", "patients", "Patients disengaged from services");
    s.series("adherent", "patients", "Patients with good adherence").in_summary().better_if_higher();
    s.series("inpatient", "patients", "Patients admitted");
    s.series("relapsed", "patients", "Patients in relapse");
    s.series("patients_with_family", "patients", "Patients with an involved family");
    s.series("mean_adherence", "fraction", "Mean adherence", Stat::mean, "patients").better_if_higher();
    s.series("mean_symptoms", "BPRS", "Mean symptoms", Stat::mean, "patients").in_summary().better_if_lower();
    s.series("mean_qol", "rating (1-7)", "Mean quality of life", Stat::mean, "patients").in_summary().better_if_higher();
    s.series("share_qol_improved", "share", "Share with quality of life improved since the start", Stat::mean, "patients").in_summary().better_if_higher();
    s.series("mean_satisfaction", "rating (1-7)", "Mean treatment satisfaction", Stat::mean, "patients").in_summary().better_if_higher();
    s.series("mean_unmet_needs", "needs", "Mean unmet needs", Stat::mean, "patients").in_summary().better_if_lower();
    s.series("mean_star_p", "STAR (0-4)", "Mean relationship, patient view (STAR-P)", Stat::mean, "patients").in_summary().better_if_higher();
    s.series("mean_star_c", "STAR (0-4)", "Mean relationship, clinician view (STAR-C)", Stat::mean, "patients");
    s.series("share_high_ee", "share", "Share of families with high expressed emotion", Stat::mean, "patients_with_family");
    // Flows: events and amounts during a step.
    s.series("relapses", "relapses", "Relapses").flow().in_summary().better_if_lower();
    s.series("admissions_voluntary", "admissions", "Voluntary admissions").flow().in_summary().better_if_lower();
    s.series("admissions_involuntary", "admissions", "Involuntary admissions").flow().in_summary().better_if_lower();
    s.series("bed_days", "days", "Inpatient bed-days").flow().in_summary().better_if_lower();
    s.series("disengagements", "patients", "Patients disengaging").flow().in_summary().better_if_lower();
    s.series("reengagements", "patients", "Patients re-engaged").flow().better_if_higher();
    s.series("contacts", "meetings", "Care coordinator meetings").flow();
    s.series("dialog_sessions_planned", "sessions", "DIALOG sessions due at a meeting").flow();
    s.series("dialog_sessions", "sessions", "DIALOG sessions delivered").flow().in_summary();
    s.series("cost_bed_days", "GBP", "Cost of bed-days").flow().in_summary();
    s.series("cost_contacts", "GBP", "Cost of care coordinator meetings").flow();
    s.series("cost_dialog_time", "GBP", "Cost of extra clinician time in DIALOG sessions").flow().in_summary();
    // National only, from the serial phases.
    s.series("clinicians_dialog_trained", "clinicians", "Care coordinators using DIALOG").national_only().in_summary();
    s.series("clinician_departures", "clinicians", "Care coordinators leaving their post").national_only().flow();
    s.series("cost_training", "GBP", "Cost of DIALOG training").national_only().flow().in_summary();
    s.series("cost_devices", "GBP", "Cost of DIALOG devices").national_only().flow();

    s.dimension("arm", "DIALOG exposure: is the patient's care coordinator trained in DIALOG", {"usual_care", "dialog"});
    s.dimension("region", "Region (structure.regions)");
    s.dimension("severity", "Baseline severity subgroup (BPRS bands, symptoms.cut_moderate and symptoms.cut_high)",
                {SEVERITY.begin(), SEVERITY.end()});
    if (s.series_index("cost_dialog_time") != COST_DIALOG_TIME || s.series().size() < N_PATIENT_SERIES)
        throw std::logic_error("series declarations out of order with outputs.cpp");
}

namespace {

THERASIM_INLINE void observe_body(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& p = x.p;
    const auto& d = x.d;
    const std::size_t o = b.begin, n = b.size();
    const bool events = w.step != 0;  // step 0 is the baseline: states only
    // Counts (of 0/1 values, and unmet needs) do not depend on the order they are added in: each
    // patient's are packed four to a 64-bit word, 16 bits each, as columns, and summed per group
    // (a block's counts stay below 2^16: at most BLOCK_SIZE x 22 unmet needs). Sums of values
    // are added in patient order, as a tally of one patient at a time would.
    static_assert(sim::BLOCK_SIZE * 22 < (1u << 16), "a block's counts must fit 16 bits");
    constexpr std::size_t N_WORDS = 4;
    std::array<std::uint32_t, sim::BLOCK_SIZE> group;
    std::array<std::array<std::uint64_t, sim::BLOCK_SIZE>, N_WORDS> word;
    {
        const std::uint8_t *arm = p.arm + o, *severity = p.severity + o, *engaged = p.engaged + o, *inpatient = p.inpatient + o,
                           *relapsed = p.relapsed + o, *contact = p.contact + o, *session = p.dialog_session + o, *ev = p.events + o;
        const std::int32_t *region = p.region + o, *family = p.family + o, *unmet = p.unmet_needs + o;
        const float *adherence = p.adherence + o, *qol = p.qol + o, *qol_start = p.qol_start + o;
        const auto n_regions = static_cast<std::uint32_t>(x.n_regions), n_severity = static_cast<std::uint32_t>(SEVERITY.size());
        const double good = x.cfg.adherence.good_threshold, improved = x.cfg.wellbeing.improved_threshold;
        const std::uint32_t flows = events ? ~0u : 0u;
        auto pair = [](std::uint32_t low, std::uint32_t high) { return low | high << 16; };
        auto four = [](std::uint32_t low, std::uint32_t high) { return low | static_cast<std::uint64_t>(high) << 32; };
THERASIM_IVDEP
        for (std::size_t j = 0; j < n; ++j) {
            group[j] = (arm[j] * n_regions + static_cast<std::uint32_t>(region[j])) * n_severity + severity[j];  // Ctx::group
            const std::uint32_t e = ev[j];
            word[0][j] = four(pair(engaged[j], adherence[j] >= good), pair(inpatient[j], relapsed[j]));
            // unmet needs, and (added below) high expressed emotion
            word[1][j] = four(pair(family[j] >= 0, qol[j] - qol_start[j] >= improved), static_cast<std::uint32_t>(unmet[j]));
            word[2][j] = four(flows & pair((e & event::RELAPSE) != 0, (e & event::ADMIT_VOLUNTARY) != 0),
                              flows & pair((e & event::ADMIT_INVOLUNTARY) != 0, (e & event::DISENGAGE) != 0));
            word[3][j] = four(flows & pair((e & event::REENGAGE) != 0, contact[j]), flows & pair((e & event::DIALOG_PLANNED) != 0, session[j]));
        }
        // high expressed emotion: the family's, where there is one
        if (x.f.n != 0) {
            const std::uint8_t* high_ee = x.f.high_ee;
            for (std::size_t j = 0; j < n; ++j) {
                const std::int32_t fam = family[j];
                const std::uint64_t ee = high_ee[fam < 0 ? 0 : static_cast<std::size_t>(fam)] != 0 && fam >= 0;
                word[1][j] |= ee << 48;
            }
        }
    }
    // The block's patients in order of their group, each group's in patient order (a stable
    // counting sort): each group's sums then add in registers, one patient after another.
    const std::size_t n_groups = w.n_groups();
    std::vector<std::uint32_t> first(n_groups + 1, 0);
    for (std::size_t j = 0; j < n; ++j) ++first[group[j] + 1];
    for (std::size_t g = 0; g < n_groups; ++g) first[g + 1] += first[g];
    std::array<std::uint16_t, sim::BLOCK_SIZE> by_group;
    {
        std::vector<std::uint32_t> next(first.begin(), first.end() - 1);
        for (std::size_t j = 0; j < n; ++j) by_group[next[group[j]]++] = static_cast<std::uint16_t>(j);
    }
    const double bed_day = x.cfg.costs.bed_day, contact_cost = x.cfg.costs.contact;
    const double minute_cost = x.cfg.dialog.extra_minutes * x.cfg.dialog.cost_per_clinician_minute;
    sim::Tally t = w.tally(b);
    for (std::size_t g = 0; g < n_groups; ++g) {
        if (first[g] == first[g + 1]) continue;  // no patient of this block: the tally is untouched
        std::array<std::uint64_t, N_WORDS> c{};
        double adherence = 0, symptoms = 0, qol = 0, satisfaction = 0, star_p = 0, star_c = 0;
        double bed = 0, bed_cost = 0, contact_costs = 0, dialog_cost = 0;
        for (std::size_t r = first[g]; r < first[g + 1]; ++r) {
            const std::size_t j = by_group[r], i = o + j;
            for (std::size_t k = 0; k < N_WORDS; ++k) c[k] += word[k][j];
            adherence += p.adherence[i];
            symptoms += p.symptoms[i];
            qol += p.qol[i];
            satisfaction += p.satisfaction[i];
            star_p += d.star_p[i];
            star_c += d.star_c[i];
            // Amounts: zero for most patients in a week (and adding 0 changes no sum), and not
            // reported at the baseline (step 0).
            bed += p.step_bed_days[i];
            bed_cost += p.step_bed_days[i] * bed_day;
            contact_costs += p.contact[i] * contact_cost;
            dialog_cost += p.dialog_session[i] * minute_cost;
        }
        // count f (0-3, low to high) of word k
        auto count = [&](std::size_t k, int f) { return static_cast<double>((c[k] >> (16 * f)) & 0xFFFFu); };
        const auto patients = static_cast<double>(first[g + 1] - first[g]);
        // A tally that starts at 0 and adds the block's values one by one ends at their sum.
        t.add(g, PATIENTS, patients);
        t.add(g, ENGAGED, count(0, 0));
        t.add(g, DISENGAGED, patients - count(0, 0));
        t.add(g, ADHERENT, count(0, 1));
        t.add(g, INPATIENT, count(0, 2));
        t.add(g, RELAPSED, count(0, 3));
        t.add(g, MEAN_ADHERENCE, adherence);
        t.add(g, MEAN_SYMPTOMS, symptoms);
        t.add(g, MEAN_QOL, qol);
        t.add(g, SHARE_QOL_IMPROVED, count(1, 1));
        t.add(g, MEAN_SATISFACTION, satisfaction);
        t.add(g, MEAN_UNMET_NEEDS, count(1, 2));
        t.add(g, MEAN_STAR_P, star_p);
        t.add(g, MEAN_STAR_C, star_c);
        t.add(g, WITH_FAMILY, count(1, 0));
        t.add(g, SHARE_HIGH_EE, count(1, 3));
        if (!events) continue;
        t.add(g, RELAPSES, count(2, 0));
        t.add(g, ADMISSIONS_VOLUNTARY, count(2, 1));
        t.add(g, ADMISSIONS_INVOLUNTARY, count(2, 2));
        t.add(g, BED_DAYS, bed);
        t.add(g, DISENGAGEMENTS, count(2, 3));
        t.add(g, REENGAGEMENTS, count(3, 0));
        t.add(g, CONTACTS, count(3, 1));
        t.add(g, DIALOG_PLANNED, count(3, 2));
        t.add(g, DIALOG_SESSIONS, count(3, 3));
        t.add(g, COST_BED_DAYS, bed_cost);
        t.add(g, COST_CONTACTS, contact_costs);
        t.add(g, COST_DIALOG_TIME, dialog_cost);
    }
}

}  // namespace

THERASIM_KERNEL(observe_patients, observe_body)

namespace {

THERASIM_INLINE void run_means_body(Ctx& x, sim::World&, const sim::Block& b) {
    const auto& p = x.p;
    const std::uint8_t* engaged = p.engaged + b.begin;
    const float* adherence = p.adherence + b.begin;
    auto* steps_engaged = p.steps_engaged + b.begin;
    float* adherence_sum = p.adherence_sum + b.begin;
THERASIM_IVDEP
    for (std::size_t j = 0; j < b.size(); ++j) {
        steps_engaged[j] += engaged[j];
        adherence_sum[j] += adherence[j];
    }
}

}  // namespace

THERASIM_KERNEL(accumulate_run_means, run_means_body)

}  // namespace models
