#!/bin/sh
# Draw every figure of docs/teaching.md and print every number and patient story the lesson
# quotes, into the folder the user names.
#
# Runs scenarios/teaching_small.yaml with and without DIALOG (same seed, so the two runs share
# every random number), once and with 50 replicates, and the "things to vary" of section 7 (each
# with and without DIALOG); draws the figures with therasim_analysis (cascade, cascade_50,
# relationship, qol, relationship_50, trajectories, paired, paired_seed7: PNG, weeks on every
# axis); and prints the team's yearly totals (therasim compare), the week-by-week stories of the
# patients the lesson follows (therasim story ... --events-only, with --compare for the paired
# ones), the effects over 50 teams, the totals of every change of section 7 and which patients'
# events each change made differ. The text of docs/teaching.md is checked against this output:
# if the model changes, run it again and reread the lesson (the stories are those of this seed
# and this version of the model).
#
# Usage: tools/teaching-figures.sh [OUTDIR]   (from anywhere; default OUTDIR: ./teaching-figures;
#        tools/teaching-figures.sh docs/figures/teaching regenerates the lesson's own figures)
# Environment: THERASIM (default build/therasim), PYTHON (default /usr/bin/python3),
#              THREADS (default 2).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
THERASIM=${THERASIM:-$ROOT/build/therasim}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-2}
OUT=${1:-teaching-figures}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SCENARIO=$ROOT/scenarios/teaching_small.yaml

if [ ! -x "$THERASIM" ]; then
    echo "teaching-figures: no therasim binary at $THERASIM (build it, or set THERASIM=PATH)" >&2
    exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/therasim-teaching.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

run() {
    "$THERASIM" run "$SCENARIO" --threads "$THREADS" --quiet "$@"
}
run -o "$TMP/dialog.h5"
run -o "$TMP/no_dialog.h5" --set dialog.enabled=false
run -o "$TMP/dialog_50.h5" --replicates 50
run -o "$TMP/no_dialog_50.h5" --replicates 50 --set dialog.enabled=false

# Section 7: each change, with and without DIALOG (name, replicates, options).
while read -r name reps extra; do
    # shellcheck disable=SC2086  # $extra is words: --set key=value or --seed N
    run -o "$TMP/var_$name.h5" --replicates "$reps" $extra
    # shellcheck disable=SC2086
    run -o "$TMP/var_${name}_none.h5" --replicates "$reps" $extra --set dialog.enabled=false
done <<'VARIATIONS'
seed7       1  --seed 7
no_damage   1  --set admission.coercion_damage=0
dialog_plus 1  --set dialog.variant=dialog_plus
basis       50 --set mechanism.hypothesis=basis
therapy     50 --set mechanism.hypothesis=therapy_in_itself
turnover    1  --set clinicians.turnover_per_year=0.5
threshold   1  --set engagement.threshold=2.6
perception  1  --set relationship.perception_weight=1
VARIATIONS

echo "== therasim compare dialog.h5 no_dialog.h5 (section 3 quotes year 2)"
"$THERASIM" compare "$TMP/dialog.h5" "$TMP/no_dialog.h5"

mkdir -p "$OUT"
PYTHONPATH=$ROOT/analysis MPLBACKEND=Agg "$PYTHON" - "$TMP" "$OUT" <<'EOF'
import os
import sys

import h5py
import numpy as np

from therasim_analysis import compare, plots, story

tmp, out = sys.argv[1], sys.argv[2]
dialog, none = os.path.join(tmp, "dialog.h5"), os.path.join(tmp, "no_dialog.h5")
dialog_50, none_50 = os.path.join(tmp, "dialog_50.h5"), os.path.join(tmp, "no_dialog_50.h5")
seed7, seed7_none = os.path.join(tmp, "var_seed7.h5"), os.path.join(tmp, "var_seed7_none.h5")
names = ("with DIALOG", "without DIALOG")
FOLLOWED = [1, 18, 7, 10]       # section 4, one run: detention, a low rating, insight, on the edge
PAIRED = [1, 24]                # section 5, both runs: the same events; an admission voluntary with DIALOG, detained without
SEED7 = 8                       # section 5, seed 7: the same events, a better life with DIALOG
PNG = ("png",)                  # the lesson embeds PNGs

print("\n== figures")
written = []
written += plots.relationship_cascade(dialog, none, os.path.join(out, "cascade"), names=names, dpi=80, formats=PNG)
written += plots.rollout_curve(dialog, none, "mean_star_p", os.path.join(out, "relationship"), names=names,
                               formats=PNG)
written += plots.rollout_curve(dialog, none, "mean_qol", os.path.join(out, "qol"), names=names, formats=PNG)
written += plots.patient_trajectories(dialog, os.path.join(out, "trajectories"), patients=FOLLOWED, formats=PNG)
written += plots.paired_trajectories(dialog, none, os.path.join(out, "paired"), PAIRED, names=names, dpi=96,
                                     attributes=("star_p", "engaged", "adherence", "qol"), formats=PNG)
written += plots.paired_trajectories(seed7, seed7_none, os.path.join(out, "paired_seed7"), [SEED7], names=names,
                                     dpi=96, attributes=("star_p", "unmet_needs", "qol", "symptoms"), formats=PNG)
written += plots.relationship_cascade(dialog_50, none_50, os.path.join(out, "cascade_50"), names=names,
                                      dpi=80, formats=PNG)
written += plots.rollout_curve(dialog_50, none_50, "mean_star_p", os.path.join(out, "relationship_50"),
                               names=names, formats=PNG)
for path in written:
    size = os.path.getsize(path)
    print(f"{os.path.relpath(path)}  {size / 1024:.0f} KB" + ("  (over 150 KB)" if size > 150 * 1024 else ""))


def series(path, name):
    """[replicate, step] of a national series, and the week of each step."""
    with h5py.File(path, "r") as f:
        return f[f"series/national/{name}"][...].astype(float), f["time/day"][:] / 7


COUNTS = ("n_relapses", "n_admissions_voluntary", "n_admissions_involuntary", "n_disengagements")


def counts(path):
    """{patient: (relapses, voluntary, involuntary admissions, disengagements)} of replicate 0."""
    with h5py.File(path, "r") as f:
        g = f["agents/patient/final"]
        return {p: tuple(int(g[c][p]) for c in COUNTS) for p in range(len(g[COUNTS[0]]))}


def differing(a, b):
    """Patients whose events (relapses, admissions, disengagements) differ between two runs."""
    ca, cb = counts(a), counts(b)
    return [p for p in ca if ca[p] != cb[p]]


def tell(path, patient, other=None, label="dialog.h5", other_label="no_dialog.h5"):
    """A patient's story as `therasim story` prints it (the same function)."""
    cmd = f"therasim story {label} --patient {patient}" + (f" --compare {other_label}" if other else "")
    print(f"\n$ {cmd} --events-only")
    for line in story.story_lines(path, patient, other, events_only=True):
        print(line)


# Sections 4 and 5: who the patients are, and their stories.
print("\n== sections 4 and 5: the patients (replicate 0; weeks count from 0)")
thresholds = plots.cascade_thresholds(dialog)
print("thresholds of the run: " + ", ".join(f"{k} {v:g}" for k, v in thresholds.items()))
for path, patients in ((dialog, sorted(set(FOLLOWED + PAIRED))), (seed7, [SEED7])):
    weeks_felt = {}
    with h5py.File(path, "r") as f:
        g = f["agents/patient/final"]
        tr = f["trajectories"]
        rows = list(tr["row"][:])
        for p in patients:
            k = rows.index(p)
            lat, sp = tr["star_latent"][:, k], tr["star_p"][:, k]
            felt = lat + thresholds["relationship.perception_weight"] * (sp - lat)
            print(f"patient {p} ({os.path.basename(path)}): {'man' if g['male'][p] else 'woman'} of {g['age'][p]:.0f}, "
                  f"ill for {g['illness_years'][p]:.1f} years, " + ("no family" if g["family"][p] < 0 else "with a family")
                  + f"; STAR-P {sp.min():.2f}-{sp.max():.2f}, felt {felt.min():.2f}-{felt.max():.2f}, "
                  f"adherence {tr['adherence'][:, k].min():.2f}-{tr['adherence'][:, k].max():.2f} "
                  f"(mean {tr['adherence'][:, k].mean():.2f})")
for p in FOLLOWED:
    tell(dialog, p)
for p in PAIRED:
    tell(dialog, p, none)
tell(seed7, SEED7, seed7_none, "s7.h5", "s7_none.h5")
print(f"\npatients whose events differ with and without DIALOG (seed 4242): {differing(dialog, none) or 'none'}")

# Figures 2 and 3: the team's mean STAR-P and quality of life.
print("\n== section 3: one team (Figures 1-3)")
(sa, wk), (sb, _) = series(dialog, "mean_star_p"), series(none, "mean_star_p")
d = sa[0] - sb[0]
year2 = wk >= 52
print(f"mean STAR-P: the runs first differ in week {int(wk[np.argmax(d != 0)])}; A - B in year 2 from "
      f"{d[year2].min():.3f} to {d[year2].max():.3f}; at the end {sa[0, -1]:.3f} (A) against {sb[0, -1]:.3f} (B)")
(qa, _), (qb, _) = series(dialog, "mean_qol"), series(none, "mean_qol")
print(f"mean quality of life: {qa[0, 0]:.2f} at the start; at the end {qa[0, -1]:.2f} (A) against {qb[0, -1]:.2f} (B); "
      f"largest A - B {(qa[0] - qb[0]).max():+.2f} in week {int(wk[np.argmax(qa[0] - qb[0])])}; "
      f"A's highest {qa[0].max():.2f} in week {int(wk[np.argmax(qa[0])])}, B's {qb[0].max():.2f} in week "
      f"{int(wk[np.argmax(qb[0])])}")
for name in ("engaged", "adherent", "relapses", "admissions_voluntary", "admissions_involuntary"):
    (va, _), (vb, _) = series(dialog, name), series(none, name)
    print(f"{name}: A - B by week {(va[0] - vb[0]).min():+.0f} to {(va[0] - vb[0]).max():+.0f}; "
          + (f"{va[0].sum():.0f} vs {vb[0].sum():.0f} in 2 years" if name not in ("engaged", "adherent") else
             f"{va[0].min():.0f} to {va[0].max():.0f} patients of 30"))

# Figure 6 and section 7: 50 teams.
print("\n== section 7: 50 teams (Figures 7 and 8; mean [2.5%, 97.5%] of the paired differences A - B over 2 years)")
(sa, _), (sb, _) = series(dialog_50, "mean_star_p"), series(none_50, "mean_star_p")
print(f"mean STAR-P at the end without DIALOG: 95% of teams within "
      f"{np.quantile(sb[:, -1], 0.975) - np.quantile(sb[:, -1], 0.025):.2f} points "
      f"({np.quantile(sb[:, -1], 0.025):.2f} to {np.quantile(sb[:, -1], 0.975):.2f})")
eff = compare.paired_effects(dialog_50, none_50, dimensions=("national",))
eff = eff[eff["period"] == eff["period"].iloc[-1]].set_index("outcome")
for name in ("mean_star_p", "mean_unmet_needs", "mean_qol", "mean_satisfaction", "mean_symptoms",
             "disengagements", "admissions_involuntary", "relapses"):
    r = eff.loc[name]
    print(f"  {name:24s} {r.effect_mean:+.3f} [{r.effect_q025:+.3f}, {r.effect_q975:+.3f}] {r.unit}")
with h5py.File(dialog_50, "r") as fa, h5py.File(none_50, "r") as fb:
    changed = 0
    for r in range(fa["series/national/relapses"].shape[0]):
        if any((fa[f"series/national/{n}"][r] != fb[f"series/national/{n}"][r]).any()
               for n in ("relapses", "admissions_voluntary", "admissions_involuntary", "disengagements")):
            changed += 1
print(f"teams in which DIALOG changed any relapse, admission or disengagement: {changed} of {sa.shape[0]}")

# Section 7: the table of things to vary (team totals over 2 years, means over replicates).
print("\n== section 7: things to vary (team totals over 2 years, means over replicates; with DIALOG vs without)")
TOTALS = ("admissions_involuntary", "disengagements", "relapses", "dialog_sessions")
VARIATIONS = [("default", dialog, none), ("default, 50 teams", dialog_50, none_50)] + [
    (v, os.path.join(tmp, f"var_{v}.h5"), os.path.join(tmp, f"var_{v}_none.h5"))
    for v in ("seed7", "no_damage", "dialog_plus", "basis", "therapy", "turnover", "threshold", "perception")]
for label, a, b in VARIATIONS:
    cells = []
    for name in TOTALS:
        (va, _), (vb, _) = series(a, name), series(b, name)
        cells.append(f"{name} {va.sum(axis=1).mean():.4g} vs {vb.sum(axis=1).mean():.4g}")
    for name, what in (("mean_star_p", "STAR-P"), ("mean_qol", "quality of life")):
        (va, _), (vb, _) = series(a, name), series(b, name)
        cells.append(f"{what} at the end {va[:, -1].mean():.2f} vs {vb[:, -1].mean():.2f}")
    print(f"{label}: " + "; ".join(cells))
    if label.startswith("default, 50") or label in ("basis", "therapy"):
        e = compare.paired_effects(a, b, outcomes=["mean_star_p", "mean_symptoms", "mean_qol"],
                                   dimensions=("national",))
        e = e[e["period"] == e["period"].iloc[-1]].set_index("outcome")["effect_mean"]
        print(f"{'':4s}effects A - B at the end: STAR-P {e['mean_star_p']:+.3f}, symptoms "
              f"{e['mean_symptoms']:+.3f} BPRS, quality of life {e['mean_qol']:+.3f}")
    else:
        print(f"{'':4s}patients whose events differ with and without DIALOG: {differing(a, b) or 'none'}")
    if label == "turnover":
        (dep, wk), (using, _) = series(a, "clinician_departures"), series(a, "clinicians_dialog_trained")
        with h5py.File(a, "r") as f:
            moved = int((f["agents/patient/final/n_dyads"][:] > 1).sum())
        print(f"{'':4s}coordinators leave in weeks {[int(wk[t]) for t in np.flatnonzero(dep[0] > 0)]}; {moved} "
              f"patients had more than one coordinator; coordinators using DIALOG: "
              + ", ".join(f"{using[0, t]:.0f} from week {int(wk[t])}" for t in range(1, len(wk))
                          if using[0, t] != using[0, t - 1]))
        tell(a, 24, b, "turnover.h5", "turnover_none.h5")
EOF
