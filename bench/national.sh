#!/usr/bin/env bash
# Benchmark: the national rollout scenario at 1 thread and at all threads. Prints throughput
# (patient-steps per second, stepping only), wall time of the whole command and peak memory.
# Usage: bench/national.sh [SCENARIO] [extra therasim run options...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${THERASIM_BUILD_DIR:-build}
[ -x "$build/therasim" ] || tools/build.sh
scenario=${1:-scenarios/england_dialog_rollout.yaml}
shift || true
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
all=$(nproc)
printf '%-8s %-22s %-12s %-10s %-14s\n' threads "patient-steps/s" "stepping s" "wall s" "peak MiB"
for threads in 1 "$all"; do
  start=$(date +%s.%N)
  log=$("$build/therasim" run "$scenario" -o "$out/bench.h5" --overwrite --threads "$threads" "$@" 2>&1 >/dev/null)
  end=$(date +%s.%N)
  line=$(grep "steps of" <<<"$log")
  rate=$(sed -E 's/.*\(([0-9.]+) M .*/\1/' <<<"$line")
  stepping=$(sed -E 's/.*stepping ([0-9.]+) s .*/\1/' <<<"$line")
  peak=$(sed -E 's/.*peak memory ([0-9]+) MiB.*/\1/' <<<"$line")
  printf '%-8s %-22s %-12s %-10.2f %-14s\n' "$threads" "${rate}e6" "$stepping" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" "$peak"
  rm -f "$out/bench.h5"
done
