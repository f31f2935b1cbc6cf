#!/usr/bin/env bash
# Installs the Debian 12 packages therasim needs, if any are missing. Safe to run again.
set -euo pipefail
packages=(
  g++ cmake ninja-build pkg-config git
  libboost-dev libtbb-dev libyaml-cpp-dev libhdf5-dev libdeflate-dev catch2 librandom123-dev libfmt-dev hdf5-tools
  python3 python3-h5py python3-numpy python3-pandas python3-scipy python3-matplotlib python3-pytest python3-yaml
  # tools/fuzz.sh (clang, libFuzzer) and the SIGKILL fault tests (strace)
  clang libclang-rt-14-dev strace
  # the report's print test: headless Chromium prints it to PDF, pdftotext reads it back
  chromium poppler-utils fonts-dejavu-core
  # many machines (docs/cluster.md): therasim-mpi, and the Slurm cluster the tests start on loopback
  openmpi-bin libopenmpi-dev slurmctld slurmd slurm-client munge
  # the teaching explorer (tools/build-explorer.sh): emscripten, and dpkg-source for yaml-cpp's source
  emscripten dpkg-dev
)
# Node.js and npm (the explorer's front end and its browser test) from Debian, unless the
# machine already has them from elsewhere: Debian's npm would replace another Node.js.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
