#!/usr/bin/env bash
# Calibrate therasim against published figures (docs/validation.md lists every target).
#
#   tools/calibrate.sh [--replicates N] [--maxfev N]
#
# 1. Fits dialog.session_gain, dialog.action_probability and wellbeing.sat_dialog to the
#    DIALOG 2007 trial (quality of life d = 0.20, satisfaction d = 0.27, unmet needs small) with
#    scipy.optimize (Nelder-Mead, bounded); every evaluation runs the same N simulated trials
#    with the scenario's seed (common random numbers), so the objective is smooth in the
#    parameters.
# 2. With those values, scales relationship.bias_patient_sd and bias_clinician_sd together so
#    that Spearman STAR-P vs STAR-C after 1 year is 0.13 (McCabe et al. 2012).
# 3. Fits clinicians.skills_training.star_gain by bisection so that 200 simulated TEMPO-like
#    trials give the published STAR changes after communication training (McCabe et al. 2016).
# Prints the fitted values and the targets before and after. It does not change any default:
# pass the printed --set lines to tools/validate.sh, and change models/parameters.cpp by hand.
#
# Binary: $THERASIM, else build/therasim (built by tools/build.sh if missing). Python: Debian's
# /usr/bin/python3 with numpy, scipy, pandas, h5py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THERASIM="${THERASIM:-$ROOT/build/therasim}"
if [[ ! -x "$THERASIM" ]]; then
  "$ROOT/tools/build.sh"  # the project's build (Release); a bare configure would not optimise
  THERASIM="$ROOT/build/therasim"
fi
PY=/usr/bin/python3
export PYTHONPATH="$ROOT/analysis${PYTHONPATH:+:$PYTHONPATH}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "== 1. DIALOG 2007 trial fit"
"$PY" -m therasim_analysis.calibration --therasim "$THERASIM" fit-trial "$@" | tee "$out"
trial_sets="$(sed -n 's/^sets: //p' "$out")"
echo
echo "== 2. STAR agreement fit (with the trial fit's values)"
# shellcheck disable=SC2086
"$PY" -m therasim_analysis.calibration --therasim "$THERASIM" fit-star $trial_sets | tee "$out"
star_sets="$(sed -n 's/^sets: //p' "$out")"
echo
echo
echo "== 3. Communication-training fit (TEMPO's STAR changes)"
# shellcheck disable=SC2086
"$PY" -m therasim_analysis.calibration --therasim "$THERASIM" fit-tempo $trial_sets $star_sets | tee "$out"
tempo_sets="$(sed -n 's/^sets: //p' "$out" | sed 's/  (.*//')"
echo
echo "== Calibrated values; regenerate the validation report with:"
echo "tools/validate.sh $trial_sets $star_sets $tempo_sets"
