#!/usr/bin/env bash
# The main job: installs what is missing, builds, runs the national DIALOG rollout and its
# no-DIALOG comparison with the same seed, and prints their yearly outcomes and difference.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
build=${THERASIM_BUILD_DIR:-build}
mkdir -p out
"$build/therasim" run scenarios/england_dialog_rollout.yaml -o out/england_dialog_rollout.h5 --overwrite --quiet "$@"
"$build/therasim" run scenarios/england_no_dialog.yaml -o out/england_no_dialog.h5 --overwrite --quiet "$@"
echo
echo "Effect of the DIALOG rollout (A: rollout, B: no rollout, same seed and population):"
"$build/therasim" compare out/england_dialog_rollout.h5 out/england_no_dialog.h5
echo
echo "Results: out/england_dialog_rollout.h5 and out/england_no_dialog.h5 (layout: docs/output.md)"
