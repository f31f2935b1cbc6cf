#!/usr/bin/env bash
# Configures and builds therasim (Release) into ${THERASIM_BUILD_DIR:-build}, and therasim-mpi
# where OpenMPI is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${THERASIM_BUILD_DIR:-build}
# therasim-mpi is built where OpenMPI is installed (tools/install-deps.sh installs it).
mpi=OFF
if command -v mpicc >/dev/null; then mpi=ON; fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=/usr/bin/python3 -DTHERASIM_MPI="$mpi" \
  > "$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)"
