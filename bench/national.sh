#!/usr/bin/env bash
# Benchmark of the national scenario, in three parts (each can be skipped):
#
#  1. therasim at 1 thread and at all threads: throughput (patient-steps per second, stepping
#     only), wall time of the whole command and peak memory; the median of BENCH_REPEATS runs
#     (default 1) at each thread count.
#  2. The numpy peer (../shared/peers/numpy_peer.py, or $THERASIM_PEER): the same weekly model
#     written with numpy, at the national size (300,000 patients, 5 years, no DIALOG), run in
#     the same invocation as therasim's no-DIALOG national scenario at all threads; prints both
#     walls and their ratio (peer / therasim), and the ratio of their stepping alone (the same
#     261 steps: therasim's wall also holds a 52-week burn-in and the HDF5 write, which the peer
#     does not do). BENCH_PEER=0 skips it (it takes about 30 s).
#  3. Instructions per patient-step of stepping under callgrind (valgrind): a count, not a time,
#     so stable on a busy machine. Two runs of BENCH_CALLGRIND_N (default 20,000) patients at 1
#     thread, of 1 and 2 years: the difference of their instruction counts over the difference
#     of their patient-steps is the cost of one patient-step of stepping, without setup, burn-in
#     and writing. The results are written uncompressed: compression costs a little more for
#     two years' state than for one (it depends on the values), which is not stepping.
#     BENCH_CALLGRIND=0 skips it (about a minute).
#
# Usage: bench/national.sh [SCENARIO] [extra therasim run options...]
#        (default scenarios/england_dialog_rollout.yaml; the options go to the runs of part 1)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${THERASIM_BUILD_DIR:-build}
[ -x "$build/therasim" ] || tools/build.sh
therasim="$build/therasim"
scenario=${1:-scenarios/england_dialog_rollout.yaml}
shift || true
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
all=$(nproc)
repeats=${BENCH_REPEATS:-1}

wall_of() {  # COMMAND...: runs it (its output discarded, stderr kept), prints its wall time in seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}'
}

echo "== 1. therasim: $scenario (median of $repeats)"
printf '%-8s %-22s %-12s %-10s %-14s\n' threads "patient-steps/s" "stepping s" "wall s" "peak MiB"
for threads in 1 "$all"; do
  rows=()
  for ((i = 0; i < repeats; i++)); do
    start=$(date +%s.%N)
    log=$("$therasim" run "$scenario" -o "$out/bench.h5" --overwrite --threads "$threads" "$@" 2>&1 >/dev/null)
    end=$(date +%s.%N)
    line=$(grep "steps of" <<<"$log")
    rate=$(sed -E 's/.*\(([0-9.]+) M .*/\1/' <<<"$line")
    stepping=$(sed -E 's/.*stepping ([0-9.]+) s .*/\1/' <<<"$line")
    peak=$(sed -E 's/.*peak memory ([0-9]+) MiB.*/\1/' <<<"$line")
    rows+=("$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') $rate $stepping $peak")
    rm -f "$out/bench.h5"
  done
  # the run with the median wall time
  row=$(printf '%s\n' "${rows[@]}" | sort -g | sed -n "$(((repeats + 1) / 2))p")
  read -r wall rate stepping peak <<<"$row"
  printf '%-8s %-22s %-12s %-10s %-14s\n' "$threads" "${rate}e6" "$stepping" "$wall" "$peak"
done

peer=${THERASIM_PEER:-../shared/peers/numpy_peer.py}
if [ "${BENCH_PEER:-1}" != 0 ] && [ -f "$peer" ]; then
  echo
  echo "== 2. the numpy peer ($peer) beside therasim, 300,000 patients x 5 years, no DIALOG"
  peer_wall=$(wall_of /usr/bin/python3 "$peer" --n 300000 --years 5 2>"$out/peer.log")
  ours=$(wall_of "$therasim" run scenarios/england_no_dialog.yaml -o "$out/nodialog.h5" --overwrite --threads "$all" 2>"$out/ours.log")
  sed 's/^/  /' "$out/peer.log"
  echo "  therasim (england_no_dialog.yaml, $all threads, whole command): $ours s"
  echo "  numpy peer (whole command, 1 thread):                         $peer_wall s"
  awk -v p="$peer_wall" -v t="$ours" 'BEGIN{printf "  ratio peer / therasim: %.1fx\n", p/t}'
  # Stepping alone, the same 261 weekly steps: therasim's wall also holds its 52-week burn-in
  # (time.burn_in_weeks), setup and HDF5 write; the peer has no burn-in and writes nothing.
  peer_stepping=$(sed -nE 's/.*stepping ([0-9.]+) s.*/\1/p' "$out/peer.log")
  our_stepping=$(sed -nE 's/.*stepping ([0-9.]+) s .*/\1/p' "$out/ours.log")
  if [ -n "$peer_stepping" ] && [ -n "$our_stepping" ]; then
    awk -v p="$peer_stepping" -v t="$our_stepping" \
      'BEGIN{printf "  stepping alone (261 steps; therasim without its burn-in and write): %.2f s against %.2f s, %.1fx\n", t, p, p/t}'
  fi
elif [ "${BENCH_PEER:-1}" != 0 ]; then
  echo; echo "== 2. skipped: no numpy peer at $peer (set THERASIM_PEER)"
fi

if [ "${BENCH_CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
  n=${BENCH_CALLGRIND_N:-20000}
  echo
  echo "== 3. instructions per patient-step of stepping (callgrind, $n patients, 1 thread)"
  declare -A instr steps
  for years in 1 2; do
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$years" "$therasim" run scenarios/england_no_dialog.yaml \
      -o "$out/cg.h5" --overwrite --quiet --threads 1 --set population.n_patients="$n" --set time.years="$years" --set output.compression=0 \
      2>"$out/cg.$years.log"
    instr[$years]=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/cg.$years.log")
    steps[$years]=$(/usr/bin/python3 -c "import h5py; print(len(h5py.File('$out/cg.h5')['time/step']) - 1)")
    rm -f "$out/cg.h5" "$out/cg.$years"
  done
  awk -v a="${instr[1]}" -v b="${instr[2]}" -v s1="${steps[1]}" -v s2="${steps[2]}" -v n="$n" 'BEGIN{
    printf "  1 year: %.3g instructions, 2 years: %.3g; %d more steps of %d patients\n", a, b, s2 - s1, n;
    printf "  stepping: %.0f instructions per patient-step\n", (b - a) / ((s2 - s1) * n) }'
elif [ "${BENCH_CALLGRIND:-1}" != 0 ]; then
  echo; echo "== 3. skipped: valgrind is not installed"
fi
