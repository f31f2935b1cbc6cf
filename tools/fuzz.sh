#!/usr/bin/env bash
# Fuzzes the scenario loader: builds tests/fuzz/fuzz_scenario with clang and libFuzzer
# (-fsanitize=fuzzer,address,undefined) in build-fuzz and runs it for SECONDS (default 60);
# then the results reader (tests/fuzz/fuzz_results: valid results files damaged structurally)
# for THERASIM_FUZZ_RESULTS_SECONDS (default 30; 0 skips it).
#
#   tools/fuzz.sh [SECONDS]
#
# The seeds are tests/fuzz/corpus/ (never modified); what the fuzzer adds goes to
# build-fuzz/corpus/ and is kept between runs. A finding (crash, uncaught exception, sanitizer
# report, an input slower than FUZZ_TIMEOUT seconds, or more than FUZZ_RSS_MB of memory) is
# written to build-fuzz/artifacts/ and the script exits non-zero. Known findings in
# tests/fuzz/crashes/ are replayed first and reported, without failing (they are reported bugs;
# THERASIM_FUZZ_STRICT=1 makes them fail). See docs/hardening.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) echo "usage: tools/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
build=${THERASIM_FUZZ_BUILD_DIR:-build-fuzz}
timeout_s=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}
jobs=${FUZZ_JOBS:-1}

tools/install-deps.sh
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTHERASIM_FUZZ=ON -DTHERASIM_BUILD_TESTS=OFF -DPython3_EXECUTABLE=/usr/bin/python3 > "$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j 2 --target fuzz_scenario fuzz_results
fuzzer=$build/fuzz_scenario

# The fuzzer's own options; findings must stop it, never be recovered from.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
opts=(-max_len=4096 -timeout="$timeout_s" -rss_limit_mb="$rss_mb" -dict=tests/fuzz/scenario.dict
      -print_final_stats=1)

# Known findings: replay each one (they are in tests/fuzz/crashes/ until fixed).
known=0 still=0
if [ -d tests/fuzz/crashes ]; then
  for f in tests/fuzz/crashes/*; do
    [ -f "$f" ] || continue
    case "$f" in *.md | *.txt) continue ;; esac
    known=$((known + 1))
    if "$fuzzer" "${opts[@]}" -timeout=5 "$f" < /dev/null > "$build/replay.log" 2>&1; then
      echo "fuzz: known finding $f no longer reproduces (fixed? move it to tests/fuzz/corpus/)"
    else
      still=$((still + 1))
      echo "fuzz: known finding $f still reproduces: $(grep -m1 -E 'ERROR|runtime error|terminate|SUMMARY' "$build/replay.log" || echo crash)"
    fi
  done
fi

mkdir -p "$build/corpus" "$build/artifacts"
log=$build/fuzz.log
echo "fuzz: running $fuzzer for $seconds s (seeds: tests/fuzz/corpus, $(ls tests/fuzz/corpus | wc -l) files; log: $log)"
rc=0
# stdin is /dev/null so that an input extending /dev/stdin cannot wait for a terminal.
if [ "$jobs" -gt 1 ]; then
  "$fuzzer" "${opts[@]}" -max_total_time="$seconds" -fork="$jobs" -artifact_prefix="$build/artifacts/" \
    "$build/corpus" tests/fuzz/corpus < /dev/null > "$log" 2>&1 || rc=$?
else
  "$fuzzer" "${opts[@]}" -max_total_time="$seconds" -artifact_prefix="$build/artifacts/" \
    "$build/corpus" tests/fuzz/corpus < /dev/null > "$log" 2>&1 || rc=$?
fi
runs=$({ grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" || true; } | awk '{s += $2} END {print s + 0}')
# -fork prints no final stats; its progress lines start with "#EXECUTIONS:".
[ "$runs" -gt 0 ] || runs=$({ grep -oE '^#[0-9]+:' "$log" || true; } | tail -1 | tr -d '#:')
cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 || true)
if [ "$rc" -ne 0 ]; then
  tail -60 "$log"
  echo "fuzz: FINDING after $runs executions (exit $rc); input saved in $build/artifacts/:"
  ls -1 "$build/artifacts/"
  echo "fuzz: minimise it with $fuzzer -minimize_crash=1 -runs=100000 FILE; see docs/hardening.md"
  exit 1
fi
echo "fuzz: $runs executions in $seconds s, no findings ($cov); $known known finding(s), $still still reproduce"
if [ "${THERASIM_FUZZ_STRICT:-0}" = 1 ] && [ "$still" -gt 0 ]; then exit 1; fi

# The results reader: its inputs are damage recipes, not files (see fuzz_results.cpp).
results_seconds=${THERASIM_FUZZ_RESULTS_SECONDS:-30}
if [ "$results_seconds" -gt 0 ]; then
  mkdir -p "$build/corpus-results"
  rlog=$build/fuzz-results.log
  rrc=0
  "$build/fuzz_results" -max_len=256 -timeout="$timeout_s" -rss_limit_mb="$rss_mb" -print_final_stats=1 \
    -max_total_time="$results_seconds" -artifact_prefix="$build/artifacts/results-" "$build/corpus-results" \
    < /dev/null > "$rlog" 2>&1 || rrc=$?
  rruns=$({ grep -oE 'stat::number_of_executed_units: [0-9]+' "$rlog" || true; } | awk '{s += $2} END {print s + 0}')
  if [ "$rrc" -ne 0 ]; then
    tail -60 "$rlog"
    echo "fuzz: results reader: FINDING after $rruns executions (exit $rrc); input saved in $build/artifacts/"
    exit 1
  fi
  echo "fuzz: results reader: $rruns damaged files in $results_seconds s, no findings"
fi
