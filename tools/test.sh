#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test (C++ and Python);
# then the hardening checks: the C++ tests under ASan+UBSan (tools/sanitize.sh asan), the
# multi-threaded tests under ThreadSanitizer (tools/sanitize.sh tsan; it builds an instrumented
# oneTBB from Debian's source first) and a bounded fuzzing run of the scenario loader
# (tools/fuzz.sh 60). THERASIM_HARDENING=0 skips them all; THERASIM_TSAN=0 skips TSan only.
# Before them, the teaching explorer is built and tested in a browser (THERASIM_EXPLORER=0 skips).
# The last line is "N passed, M failed": the ctest tests plus one per hardening check. See
# docs/hardening.md.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
build=${THERASIM_BUILD_DIR:-build}

passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ctest_rc=0
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" 2>&1 | tee "$log" || ctest_rc=$?
summary=$(grep -E '[0-9]+ tests failed out of [0-9]+' "$log" | tail -1 || true)
if [ -n "$summary" ]; then
  n_failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$summary")
  n_total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$summary")
  passed=$((passed + n_total - n_failed))
  failed=$((failed + n_failed))
fi
if [ "$ctest_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

check() {  # NAME COMMAND...: one hardening check, counted as one test
  local name=$1 t0=$SECONDS
  shift
  echo
  echo "==== $name: $*"
  if "$@"; then
    passed=$((passed + 1))
    echo "==== $name: passed ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    echo "==== $name: FAILED ($((SECONDS - t0)) s)"
  fi
}
# The teaching explorer: the engine in WebAssembly, tested in headless Chromium against the
# native build (web/test). THERASIM_EXPLORER=0 skips it.
if [ "${THERASIM_EXPLORER:-1}" != 0 ]; then
  check "explorer" sh -c "tools/build-explorer.sh && THERASIM=$build/therasim node --test web/test/"
fi
if [ "${THERASIM_HARDENING:-1}" != 0 ]; then
  check "asan+ubsan" tools/sanitize.sh asan
  if [ "${THERASIM_TSAN:-1}" != 0 ]; then check "tsan" tools/sanitize.sh tsan; fi
  check "fuzz" tools/fuzz.sh "${THERASIM_FUZZ_SECONDS:-60}"
fi
echo
echo "${summary:-ctest: no summary}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
