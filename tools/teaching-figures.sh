#!/bin/sh
# Regenerate the figures of docs/teaching.md (docs/figures/teaching/*.png).
#
# Runs scenarios/teaching_small.yaml with and without DIALOG (same seed, so the two runs share
# every random number), once and with 50 replicates, draws the figures with therasim_analysis
# and prints the events of the patients the lesson follows, so the text of docs/teaching.md can
# be checked against them. If the model changes, run this again and reread the lesson: the
# patients' stories are those of this seed and this version of the model.
#
# Usage: tools/teaching-figures.sh            (from anywhere; writes into the repository)
# Environment: THERASIM (default build/therasim), PYTHON (default /usr/bin/python3),
#              THREADS (default 2).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
THERASIM=${THERASIM:-$ROOT/build/therasim}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-2}
OUT=$ROOT/docs/figures/teaching
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

mkdir -p "$OUT"
PYTHONPATH=$ROOT/analysis MPLBACKEND=Agg "$PYTHON" - "$TMP" "$OUT" <<'EOF'
import os
import sys

import h5py

from therasim_analysis import plots, report

tmp, out = sys.argv[1], sys.argv[2]
dialog, none = os.path.join(tmp, "dialog.h5"), os.path.join(tmp, "no_dialog.h5")
names = ("with DIALOG", "without DIALOG")
FOLLOWED = [0, 3, 7, 14]        # one run: involuntary admission, disengaging, relapse at home, voluntary admission
PAIRED = [0, 4, 10]             # both runs: where DIALOG did and did not change what happened

written = []
with report._png_only():        # PNG only (the lesson embeds PNGs)
    written += plots.cascade(dialog, os.path.join(out, "cascade"))
    written += plots.patient_trajectories(dialog, os.path.join(out, "trajectories"), patients=FOLLOWED)
    written += report.paired_trajectories(dialog, none, os.path.join(out, "paired"), PAIRED, names=names, dpi=96)
    written += plots.rollout_curve(dialog, none, "mean_star_p", os.path.join(out, "relationship"), names=names)
    written += plots.rollout_curve(dialog, none, "adherent", os.path.join(out, "adherent"), names=names)
    written += plots.rollout_curve(os.path.join(tmp, "dialog_50.h5"), os.path.join(tmp, "no_dialog_50.h5"),
                                   "mean_star_p", os.path.join(out, "relationship_50"), names=names)
for path in written:
    size = os.path.getsize(path)
    print(f"{os.path.relpath(path)}  {size / 1024:.0f} KB" + ("  (over 150 KB)" if size > 150 * 1024 else ""))

# The events of the patients the lesson follows (replicate 0): check docs/teaching.md against them.
cols = ("n_relapses", "n_admissions_voluntary", "n_admissions_involuntary", "n_disengagements",
        "n_dialog_sessions")
print("\npatient  run             relapses  voluntary  involuntary  disengaged  DIALOG  STAR-P start -> end")
for p in sorted(set(FOLLOWED + PAIRED)):
    for label, path in zip(names, (dialog, none)):
        with h5py.File(path, "r") as f:
            fin = f["agents/patient/final"]
            star0 = f["agents/dyad/baseline/star_p"][p]
            star1 = f["agents/dyad/final/star_p"][p]
            tr = f["trajectories"]
            k = list(tr["row"][:]).index(p)
            inp, eng, rel = tr["inpatient"][:, k], tr["engaged"][:, k], tr["relapsed"][:, k]
            weeks = lambda x, up=True: [t for t in range(1, len(x)) if (x[t] > x[t - 1]) == up and x[t] != x[t - 1]]
            print(f"{p:7d}  {label:14s}  " + "  ".join(f"{int(fin[c][p]):>9d}" for c in cols[:4])
                  + f"  {int(fin[cols[4]][p]):>6d}  {star0:.2f} -> {star1:.2f}"
                  + f"   relapse weeks {weeks(rel)}, admitted weeks {weeks(inp)}, disengaged weeks {weeks(eng, False)}")
EOF
