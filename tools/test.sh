#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test (C++ and Python).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
build=${THERASIM_BUILD_DIR:-build}
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
