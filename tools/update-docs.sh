#!/usr/bin/env bash
# Regenerates docs/parameters.md and the parameter tables in docs/model.md from the
# parameter declarations (`therasim params`). The test suite checks they are up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${THERASIM_BUILD_DIR:-build}
cmake -DTHERASIM="$build/therasim" -DSRC="$PWD" -DMODE=update -P cmake/docs.cmake
