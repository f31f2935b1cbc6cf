#!/usr/bin/env bash
# Builds the teaching explorer, one self-contained page: build/explorer/explorer.html.
#
# The engine and the model are compiled to WebAssembly with Debian's emscripten (one thread, no
# HDF5; see web/CMakeLists.txt), with yaml-cpp built from Debian's source package (fetched with
# tools/debian-source.sh, from Debian's archive, into build/explorer/), and Boost, Random123 and fmt
# from the host's Debian headers. The page is bundled from web/src with the npm packages of
# web/package-lock.json (uPlot; esbuild bundles it). Open the result from a file: it needs no
# server and no network. tools/install-deps.sh installs what this needs.
#
# Usage: tools/build-explorer.sh [OUT_HTML]   (default build/explorer/explorer.html)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/explorer
out=${1:-$work/explorer.html}
jobs=$(nproc)
for tool in emcc emcmake node npm dpkg-source; do
  command -v "$tool" >/dev/null || { echo "build-explorer: $tool is missing: run tools/install-deps.sh" >&2; exit 2; }
done
# Emscripten's JavaScript tools need Debian's node modules (acorn), wherever node comes from.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
mkdir -p "$work"

# yaml-cpp from Debian's source package of the version the native build uses.
yaml_version=$(dpkg-query -W -f='${source:Version}' libyaml-cpp-dev 2>/dev/null) \
  || { echo "build-explorer: libyaml-cpp-dev is not installed: run tools/install-deps.sh" >&2; exit 2; }
yaml_src=$work/yaml-cpp-$yaml_version
[ -f "$yaml_src/CMakeLists.txt" ] || { rm -rf "$yaml_src"; tools/debian-source.sh libyaml-cpp-dev "$yaml_src"; }

# The host's header-only libraries, through a folder of their own (all of /usr/include would
# shadow Emscripten's C library). Random123 names the processors it was tested on; WebAssembly
# is added to its list (Philox is 32-bit integer arithmetic, and tests/web checks every series
# against the native build).
# Made once (a marker says it is whole), so that a second build recompiles only what changed.
headers=$work/host-include
if [ ! -f "$headers/.complete" ]; then
  rm -rf "$headers" && mkdir -p "$headers"
  ln -s /usr/include/boost "$headers/boost"
  ln -s /usr/include/fmt "$headers/fmt"
  cp -r /usr/include/Random123 "$headers/Random123"
  sed -i 's/^#if !defined(__x86_64__) && !defined(__i386__)/#if !defined(__wasm__) \&\& !defined(__x86_64__) \&\& !defined(__i386__)/' \
    "$headers/Random123/features/gccfeatures.h"
  grep -q '__wasm__' "$headers/Random123/features/gccfeatures.h" \
    || { echo "build-explorer: Random123's platform check has changed; see this script" >&2; exit 1; }
  touch "$headers/.complete"
fi

emcmake cmake -S . -B "$work/wasm" -DCMAKE_BUILD_TYPE=Release \
  -DTHERASIM_HOST_HEADERS="$headers" -DTHERASIM_YAML_CPP_SOURCE="$yaml_src" >"$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/wasm" --target therasim_engine -j "$jobs" >"$work/build.log" 2>&1 \
  || { grep -E "error|Error" "$work/build.log" | head -40; exit 1; }

# The front end's packages, exactly as the lock file has them.
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
node web/build.mjs "$work/wasm/therasim_engine.js" "$out"
size=$(stat -c %s "$out")
if [ "$size" -ge 5000000 ]; then
  echo "build-explorer: $out is $size bytes, more than the 5 MB a page may be mailed with" >&2
  exit 1
fi
