#!/usr/bin/env bash
# Regenerate docs/validation.md: every target of calibration-targets.yaml with its published
# value and interval, the simulated mean and 95% range across replicates, inside or not.
#
#   tools/validate.sh [--set path=value ...]
#
# Without --set it reports the current defaults; with the calibrated values (as printed by
# tools/calibrate.sh) it reports the defaults and the calibrated values side by side.
# Runs 200 simulated DIALOG 2007 trials, 200 DIALOG+ 2015 trials and ten 1-year national runs
# of 20,000 patients per parameter set (about a minute each).
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
export PYTHONPATH="$ROOT/analysis${PYTHONPATH:+:$PYTHONPATH}"
sets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --set) sets+=(--set "$2"); shift 2 ;;
    --set=*) sets+=(--set "${1#--set=}"); shift ;;
    *) echo "usage: tools/validate.sh [--set path=value ...]" >&2; exit 2 ;;
  esac
done
exec /usr/bin/python3 -m therasim_analysis.calibration --therasim "$THERASIM" validate \
  --out "$ROOT/docs/validation.md" "${sets[@]}"
