"""A patient's story, week by week, for worksheets and class discussion.

``therasim story RUN.h5 --patient N [--compare OTHER.h5]`` prints one traced patient's weeks
(``/trajectories``: the run must trace patients, ``output.trajectories``): whether they were in
contact with the service, how much of their treatment they took, how they rated the relationship
(STAR-P) and how it felt to them (the felt relationship, which meets the engagement and
adherence thresholds), their symptoms, unmet needs and quality of life, and what happened that week (a relapse,
an admission, under the Mental Health Act or not, a DIALOG session, disengaging, intentional
non-adherence starting). With ``--compare`` the same patient in a second run of the same scenario
and seed (a true counterfactual, e.g. without DIALOG) is printed beside, week by week.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import io

#: (attribute, value before, value after, what happened): a change of a traced 0/1 attribute
#: from one step to the next, in the order they are told.
CHANGES = [
    ("engaged", 1, 0, "disengages from the service"),
    ("engaged", 0, 1, "re-engages"),
    ("relapsed", 0, 1, "relapse starts"),
    ("relapsed", 1, 0, "relapse ends"),
    ("inpatient", 0, 1, "admitted"),
    ("inpatient", 1, 0, "discharged"),
    ("intentional", 0, 1, "decides against medication (intentional non-adherence)"),
    ("intentional", 1, 0, "back to taking medication as usual"),
    ("arm", 0, 1, "care coordinator starts using DIALOG"),
    ("arm", 1, 0, "care coordinator no longer uses DIALOG"),
]

#: The state columns of a story: (attribute, heading, format).
STATE = [
    ("engaged", "contact", lambda v: "yes" if v >= 0.5 else "no"),
    ("adherence", "adher.", lambda v: f"{v:.2f}"),
    ("star_p", "STAR-P", lambda v: f"{v:.2f}"),
    ("felt", "felt", lambda v: f"{v:.2f}"),
    ("symptoms", "BPRS", lambda v: f"{v:.0f}"),
    ("unmet_needs", "needs", lambda v: f"{v:.0f}"),
    ("qol", "QoL", lambda v: f"{v:.2f}"),
]


class StoryError(io.ResultsError):
    """The file traces no patients, or not the one asked for."""


def patient_weeks(path, patient):
    """One traced patient's state at every step and what happened in each step.

    Args:
        path: results file with ``/trajectories``.
        patient: the patient's row (one of ``/trajectories/row``).

    Returns:
        DataFrame indexed by ``week`` (weeks since the start, 0 = baseline) with the traced
        attributes, ``felt`` (the felt relationship, star_latent + perception_weight x (STAR-P -
        star_latent), when both are traced) and ``events`` (a list of strings per week).

    Raises:
        StoryError: the file has no trajectories, or the patient is not in the sample (the
            message lists the sampled patients).
    """
    t = io.trajectories(path)
    if t.empty:
        raise StoryError(f"{path}: no patient trajectories; run the scenario with "
                         "--set output.trajectories=N (N patients are traced)")
    rows = sorted(set(int(r) for r in t["patient"]))
    if patient not in rows:
        shown = ", ".join(str(r) for r in rows[:20]) + (", ..." if len(rows) > 20 else "")
        raise StoryError(f"{path}: patient {patient} is not among the {len(rows)} traced patients "
                         f"({shown})")
    p = t[t["patient"] == patient].sort_values("step").reset_index(drop=True)
    p["week"] = np.round(p["day"] / 7.0).astype(int)
    if {"star_latent", "star_p"} <= set(p.columns):
        # The felt relationship, which meets the engagement and adherence thresholds (docs/model.md,
        # section 4), from the run's own perception weight.
        w = float(io.scenario_value(io.scenario(path), "relationship.perception_weight", 0.25))
        p["felt"] = p["star_latent"] + w * (p["star_p"] - p["star_latent"])
    events = [[] for _ in range(len(p))]
    for i in range(1, len(p)):
        before, now = p.iloc[i - 1], p.iloc[i]
        for attr, a, b, text in CHANGES:
            if attr in p and round(before[attr]) == a and round(now[attr]) == b:
                if attr == "inpatient" and "involuntary" in p and now["involuntary"] >= 0.5:
                    text = "admitted under the Mental Health Act"
                events[i].append(text)
        if "n_dialog_sessions" in p and now["n_dialog_sessions"] > before["n_dialog_sessions"]:
            events[i].append("DIALOG session")
    # The baseline: the state the story starts from.
    start = p.iloc[0]
    for attr, on, text in (("engaged", 0, "not in contact with the service"), ("relapsed", 1, "in a relapse"),
                           ("inpatient", 1, "in hospital"), ("intentional", 1, "intentionally not taking medication"),
                           ("arm", 1, "care coordinator uses DIALOG")):
        if attr in p and round(start[attr]) == on:
            events[0].append(text)
    p["events"] = events
    return p.set_index("week")


def story_lines(path, patient, compare=None, events_only=False):
    """The story as lines of text (a table, one row per week).

    Args:
        path: results file of run A.
        patient: the patient's row.
        compare: optional results file of run B of the same scenario and seed.
        events_only: only the baseline, weeks with an event in either run, and the last week.
    """
    a = patient_weeks(path, patient)
    b = patient_weeks(compare, patient) if compare else None
    if b is not None and len(b) != len(a):
        raise StoryError(f"{compare}: {len(b)} steps, but {path} has {len(a)}: not the same scenario")
    states = [s for s in STATE if s[0] in a]
    lines = []
    with io.open_results(path) as f:
        prov = io.provenance(f)
    lines.append(f"Patient {patient} of {prov['scenario_name']} ({path}), seed {prov['seed']}, replicate 0")
    if b is not None:
        with io.open_results(compare) as f:
            pb = io.provenance(f)
        lines.append(f"  B: the same patient in {pb['scenario_name']} ({compare}), seed {pb['seed']}")
        if pb["seed"] != prov["seed"]:
            lines.append("  (different seeds: B is another patient's life, not the same patient without A's change)")
    head = f"{'week':>4}  " + "  ".join(f"{h:>7}" for _, h, _ in states)
    if b is not None:
        head = f"{'week':>4}  {'':1} " + "  ".join(f"{h:>7}" for _, h, _ in states)
    lines += ["", head + "  what happened", "-" * (len(head) + 15)]
    last = a.index[-1]
    for week in a.index:
        ra = a.loc[week]
        rb = b.loc[week] if b is not None else None
        happened = bool(ra["events"]) or (rb is not None and bool(rb["events"]))
        if events_only and not happened and week not in (0, last):
            continue
        cells = "  ".join(f"{fmt(ra[attr]):>7}" for attr, _, fmt in states)
        what = "; ".join(ra["events"] if week else ["baseline", *ra["events"]])
        if b is None:
            lines.append(f"{week:>4}  {cells}  {what}")
        else:
            lines.append(f"{week:>4}  A {cells}  {what}")
            cb = "  ".join(f"{fmt(rb[attr]):>7}" for attr, _, fmt in states)
            lines.append(f"{'':>4}  B {cb}  {'; '.join(rb['events'] if week else ['baseline', *rb['events']])}")
    totals = []
    for name, df in (("A", a), ("B", b)):
        if df is None:
            continue
        def count(text):
            return sum(e.count(text) for e in df["events"])
        n = {t: count(t) for t in ("relapse starts", "admitted", "DIALOG session", "disengages from the service")}
        mha = count("admitted under the Mental Health Act")
        totals.append(f"{name if b is not None else 'In all'}: {n['relapse starts']} relapse(s), "
                      f"{n['admitted'] + mha} admission(s) ({mha} under the Mental Health Act), "
                      f"{n['DIALOG session']} DIALOG session(s), {n['disengages from the service']} disengagement(s); "
                      f"mean adherence {df['adherence'].mean():.2f}, STAR-P {df['star_p'].iloc[0]:.2f} -> "
                      f"{df['star_p'].iloc[-1]:.2f}, quality of life {df['qol'].iloc[0]:.2f} -> {df['qol'].iloc[-1]:.2f}")
    return lines + [""] + totals


def add_cli(sub):
    s = sub.add_parser("story", help="one traced patient's weeks: state and events, for worksheets",
                       description="Print a traced patient's story week by week (contact, adherence, "
                                   "STAR-P, the felt relationship, symptoms, unmet needs, quality of life "
                                   "and what happened), "
                                   "from the run's /trajectories; with --compare, the same patient in a "
                                   "second run of the same scenario and seed beside it.")
    s.add_argument("file", help="results file of a run that traced patients (output.trajectories)")
    s.add_argument("--patient", type=int, required=True, help="the patient's row (one of the traced rows)")
    s.add_argument("--compare", metavar="OTHER.h5", help="the same patient in another run (same seed)")
    s.add_argument("--events-only", action="store_true",
                   help="only the baseline, weeks in which something happened, and the last week")
    s.set_defaults(func=lambda args: _story(args))


def _story(args):
    for line in story_lines(args.file, args.patient, args.compare, args.events_only):
        print(line)
    return 0
