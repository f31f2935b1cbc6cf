#!/usr/bin/env bash
# Regenerates docs/parameters.md from the parameter declarations (`therasim params`).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${THERASIM_BUILD_DIR:-build}
"$build/therasim" params > docs/parameters.md
echo "wrote docs/parameters.md"
