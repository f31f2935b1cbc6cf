// The model's outputs: time series of MODEL.md's "outputs that matter", grouped by arm
// (DIALOG exposure of the patient's care coordinator), region and baseline severity.

#include "models/components.hpp"

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

void observe_patients(Ctx& x, sim::World& w, const sim::Block& b) {
    const auto& p = x.p;
    const auto& d = x.d;
    sim::Tally t = w.tally(b);
    const double good = x.cfg.adherence.good_threshold, improved = x.cfg.wellbeing.improved_threshold;
    const double minute_cost = x.cfg.dialog.extra_minutes * x.cfg.dialog.cost_per_clinician_minute;
    for (std::size_t i = b.begin; i < b.end; ++i) {
        const std::size_t g = x.group(i);
        const std::uint8_t ev = p.events[i];
        t.add(g, PATIENTS, 1);
        t.add(g, ENGAGED, p.engaged[i]);
        t.add(g, DISENGAGED, 1 - p.engaged[i]);
        t.add(g, ADHERENT, p.adherence[i] >= good);
        t.add(g, INPATIENT, p.inpatient[i]);
        t.add(g, RELAPSED, p.relapsed[i]);
        t.add(g, MEAN_ADHERENCE, p.adherence[i]);
        t.add(g, MEAN_SYMPTOMS, p.symptoms[i]);
        t.add(g, MEAN_QOL, p.qol[i]);
        t.add(g, SHARE_QOL_IMPROVED, p.qol[i] - p.qol_start[i] >= improved);
        t.add(g, MEAN_SATISFACTION, p.satisfaction[i]);
        t.add(g, MEAN_UNMET_NEEDS, p.unmet_needs[i]);
        t.add(g, MEAN_STAR_P, d.star_p[i]);
        t.add(g, MEAN_STAR_C, d.star_c[i]);
        if (p.family[i] >= 0) {
            t.add(g, WITH_FAMILY, 1);
            t.add(g, SHARE_HIGH_EE, x.f.high_ee[static_cast<std::size_t>(p.family[i])]);
        }
        // Most patients have no event in a week: skip the event series for them.
        if (w.step == 0 || (ev == 0 && !p.contact[i] && !p.inpatient[i] && p.step_bed_days[i] == 0.0f)) continue;
        t.add(g, RELAPSES, (ev & event::RELAPSE) != 0);
        t.add(g, ADMISSIONS_VOLUNTARY, (ev & event::ADMIT_VOLUNTARY) != 0);
        t.add(g, ADMISSIONS_INVOLUNTARY, (ev & event::ADMIT_INVOLUNTARY) != 0);
        t.add(g, BED_DAYS, p.step_bed_days[i]);
        t.add(g, DISENGAGEMENTS, (ev & event::DISENGAGE) != 0);
        t.add(g, REENGAGEMENTS, (ev & event::REENGAGE) != 0);
        t.add(g, CONTACTS, p.contact[i]);
        t.add(g, DIALOG_PLANNED, (ev & event::DIALOG_PLANNED) != 0);
        t.add(g, DIALOG_SESSIONS, p.dialog_session[i]);
        t.add(g, COST_BED_DAYS, p.step_bed_days[i] * x.cfg.costs.bed_day);
        t.add(g, COST_CONTACTS, p.contact[i] * x.cfg.costs.contact);
        t.add(g, COST_DIALOG_TIME, p.dialog_session[i] * minute_cost);
    }
}

void accumulate_run_means(Ctx& x, sim::World&, const sim::Block& b) {
    const auto& p = x.p;
    for (std::size_t i = b.begin; i < b.end; ++i) {
        p.steps_engaged[i] += p.engaged[i];
        p.adherence_sum[i] += p.adherence[i];
    }
}

}  // namespace models
