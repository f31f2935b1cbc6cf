#!/bin/sh
# Regenerate the figures of docs/teaching.md (docs/figures/teaching/*.png) and print every
# number the lesson quotes.
#
# Runs scenarios/teaching_small.yaml with and without DIALOG (same seed, so the two runs share
# every random number), once and with 50 replicates, draws the figures with therasim_analysis
# and prints the events of the patients the lesson follows, the team's yearly totals (therasim
# compare), the effects over 50 teams and the "things to vary" of section 7 (each run with and
# without DIALOG), so the text of docs/teaching.md can be checked against them. If the model
# changes, run this again and reread the lesson: the patients' stories are those of this seed
# and this version of the model.
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
VARIATIONS

echo "== therasim compare dialog.h5 no_dialog.h5 (section 3 quotes year 2)"
"$THERASIM" compare "$TMP/dialog.h5" "$TMP/no_dialog.h5"

mkdir -p "$OUT"
PYTHONPATH=$ROOT/analysis MPLBACKEND=Agg "$PYTHON" - "$TMP" "$OUT" <<'EOF'
import os
import sys

import h5py
import numpy as np

from therasim_analysis import compare, plots

tmp, out = sys.argv[1], sys.argv[2]
dialog, none = os.path.join(tmp, "dialog.h5"), os.path.join(tmp, "no_dialog.h5")
dialog_50, none_50 = os.path.join(tmp, "dialog_50.h5"), os.path.join(tmp, "no_dialog_50.h5")
names = ("with DIALOG", "without DIALOG")
FOLLOWED = [0, 3, 7, 14]        # one run: involuntary admission, disengaging, relapse at home, voluntary admission
PAIRED = [0, 4, 10]             # both runs: where DIALOG did and did not change what happened
PNG = ("png",)                  # the lesson embeds PNGs

print("\n== figures")
written = []
written += plots.cascade(dialog, os.path.join(out, "cascade"), formats=PNG)
written += plots.patient_trajectories(dialog, os.path.join(out, "trajectories"), patients=FOLLOWED, formats=PNG)
written += plots.paired_trajectories(dialog, none, os.path.join(out, "paired"), PAIRED, names=names, dpi=96,
                                     formats=PNG)
written += plots.rollout_curve(dialog, none, "mean_star_p", os.path.join(out, "relationship"), names=names,
                               formats=PNG)
written += plots.rollout_curve(dialog, none, "adherent", os.path.join(out, "adherent"), names=names, formats=PNG)
written += plots.rollout_curve(dialog_50, none_50, "mean_star_p", os.path.join(out, "relationship_50"),
                               names=names, formats=PNG)
for path in written:
    size = os.path.getsize(path)
    print(f"{os.path.relpath(path)}  {size / 1024:.0f} KB" + ("  (over 150 KB)" if size > 150 * 1024 else ""))


def series(path, name):
    """[replicate, step] of a national series, and the week of each step."""
    with h5py.File(path, "r") as f:
        return f[f"series/national/{name}"][...].astype(float), f["time/day"][:] / 7


def weeks(x, up=True):
    """Weeks in which x rises (up) or falls."""
    return [t for t in range(1, len(x)) if (x[t] > x[t - 1]) == up and x[t] != x[t - 1]]


# Sections 4 and 5: the patients the lesson follows (replicate 0).
cols = ("n_relapses", "n_admissions_voluntary", "n_admissions_involuntary", "n_disengagements",
        "n_dialog_sessions")
print("\n== sections 4 and 5: the patients (replicate 0; weeks count from 0)")
print("patient  run             relapses  voluntary  involuntary  disengaged  DIALOG  STAR-P start -> end")
for p in sorted(set(FOLLOWED + PAIRED)):
    for label, path in zip(names, (dialog, none)):
        with h5py.File(path, "r") as f:
            counts = [int(f[f"agents/patient/final/{c}"][p]) for c in cols]
            who = {k: f[f"agents/patient/final/{k}"][p] for k in ("age", "male", "illness_years", "family")}
            star0 = f["agents/dyad/baseline/star_p"][p]
            star1 = f["agents/dyad/final/star_p"][p]
            tr = f["trajectories"]
            k = list(tr["row"][:]).index(p)
            inp, eng, rel = tr["inpatient"][:, k], tr["engaged"][:, k], tr["relapsed"][:, k]
            star, adh, sym = tr["star_p"][:, k], tr["adherence"][:, k], tr["symptoms"][:, k]
        print(f"{p:7d}  {label:14s}  " + "  ".join(f"{c:>9d}" for c in counts[:4])
              + f"  {counts[4]:>6d}  {star0:.2f} -> {star1:.2f}")
        print(f"{'':25s}{'man' if who['male'] else 'woman'} of {who['age']:.0f}, ill for {who['illness_years']:.1f} "
              f"years, " + ("no family" if who["family"] < 0 else "with a family"))
        print(f"{'':25s}relapse weeks {weeks(rel)}, admitted {weeks(inp)}, discharged {weeks(inp, False)}, "
              f"disengaged {weeks(eng, False)}, re-engaged {weeks(eng)}")
        for w in weeks(inp):
            print(f"{'':25s}admitted in week {w}: STAR-P {star[w - 1]:.2f} -> {star[w]:.2f}")
        print(f"{'':25s}ranges: STAR-P {star.min():.2f}-{star.max():.2f}, adherence {adh.min():.2f}-{adh.max():.2f}, "
              f"symptoms {sym.min():.0f}-{sym.max():.0f} BPRS")

# Figures 2 and 3: the team's mean STAR-P and patients with good adherence.
print("\n== section 3: one team (Figures 2 and 3)")
(sa, wk), (sb, _) = series(dialog, "mean_star_p"), series(none, "mean_star_p")
d = sa[0] - sb[0]
year2 = wk >= 52
print(f"mean STAR-P: the runs first differ in week {int(wk[np.argmax(d != 0)])}; A - B in year 2 from "
      f"{d[year2].min():.3f} to {d[year2].max():.3f}; at the end {sa[0, -1]:.3f} (A) against {sb[0, -1]:.3f} (B)")
(aa, _), (ab, _) = series(dialog, "adherent"), series(none, "adherent")
print(f"patients with good adherence, A - B by week: {(aa[0] - ab[0]).min():+.0f} to {(aa[0] - ab[0]).max():+.0f}")

# Figure 6 and section 7: 50 teams.
print("\n== section 7: 50 teams (Figure 6; mean [2.5%, 97.5%] of the paired differences A - B over 2 years)")
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

# Section 7: the table of things to vary (team totals over 2 years, means over replicates).
print("\n== section 7: things to vary (team totals over 2 years, means over replicates; with DIALOG vs without)")
TOTALS = ("admissions_involuntary", "disengagements", "relapses", "dialog_sessions")
VARIATIONS = [("default", dialog, none), ("default, 50 teams", dialog_50, none_50)] + [
    (v, os.path.join(tmp, f"var_{v}.h5"), os.path.join(tmp, f"var_{v}_none.h5"))
    for v in ("seed7", "no_damage", "dialog_plus", "basis", "therapy", "turnover", "threshold")]
for label, a, b in VARIATIONS:
    cells = []
    for name in TOTALS:
        (va, _), (vb, _) = series(a, name), series(b, name)
        cells.append(f"{name} {va.sum(axis=1).mean():.4g} vs {vb.sum(axis=1).mean():.4g}")
    (va, _), (vb, _) = series(a, "mean_star_p"), series(b, "mean_star_p")
    cells.append(f"STAR-P at the end {va[:, -1].mean():.2f} vs {vb[:, -1].mean():.2f}")
    print(f"{label}: " + "; ".join(cells))
    if label.startswith("default, 50") or label in ("basis", "therapy"):
        e = compare.paired_effects(a, b, outcomes=["mean_star_p", "mean_symptoms", "mean_qol"],
                                   dimensions=("national",))
        e = e[e["period"] == e["period"].iloc[-1]].set_index("outcome")["effect_mean"]
        print(f"{'':4s}effects A - B at the end: STAR-P {e['mean_star_p']:+.3f}, symptoms "
              f"{e['mean_symptoms']:+.3f} BPRS, quality of life {e['mean_qol']:+.3f}")
    if label == "no_damage":
        with h5py.File(b, "r") as f:
            tr = f["trajectories"]
            k = list(tr["row"][:]).index(4)
            print(f"{'':4s}patient 4 without DIALOG: disengaged in weeks {weeks(tr['engaged'][:, k], False)}, "
                  f"admitted in weeks {weeks(tr['inpatient'][:, k])}, involuntary admissions "
                  f"{int(f['agents/patient/final/n_admissions_involuntary'][4])}")
    if label == "turnover":
        (dep, wk), (using, _) = series(a, "clinician_departures"), series(a, "clinicians_dialog_trained")
        with h5py.File(a, "r") as f:
            moved = int((f["agents/patient/final/n_dyads"][:] > 1).sum())
        print(f"{'':4s}coordinators leave in weeks {[int(wk[t]) for t in np.flatnonzero(dep[0] > 0)]}; {moved} "
              f"patients had more than one coordinator; coordinators using DIALOG: "
              + ", ".join(f"{using[0, t]:.0f} from week {int(wk[t])}" for t in range(1, len(wk))
                          if using[0, t] != using[0, t - 1]))
EOF
