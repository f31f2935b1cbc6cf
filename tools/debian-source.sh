#!/usr/bin/env bash
# Fetches the Debian source package of an installed package, at the installed version, and
# unpacks it with Debian's patches applied. For builds of a library in a form Debian does not
# ship: oneTBB with ThreadSanitizer (tools/sanitize.sh), yaml-cpp for WebAssembly
# (tools/build-explorer.sh).
#
# apt gets a source list of its own, in a folder beside DEST, for this download only: nothing in
# /etc changes. The suites are those an installed package can come from (the release, its
# updates and its security updates).
#
# Usage: tools/debian-source.sh PACKAGE DEST   (PACKAGE: an installed binary package, e.g.
#        libtbb-dev; DEST must not exist: it becomes the source tree). Needs dpkg-dev.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: tools/debian-source.sh PACKAGE DEST" >&2
  exit 2
fi
package=$1 dest=$2
source=$(dpkg-query -W -f='${source:Package}' "$package" 2>/dev/null) \
  || { echo "debian-source: $package is not installed" >&2; exit 2; }
version=$(dpkg-query -W -f='${source:Version}' "$package")
command -v dpkg-source >/dev/null || { echo "debian-source: dpkg-source is missing (package dpkg-dev)" >&2; exit 2; }
[ ! -e "$dest" ] || { echo "debian-source: $dest exists" >&2; exit 2; }
mkdir -p "$(dirname "$dest")"
dest=$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")

work=$dest.apt
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
trap 'rm -rf "$work"' EXIT
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
{
  echo "deb-src http://deb.debian.org/debian $codename main"
  echo "deb-src http://deb.debian.org/debian $codename-updates main"
  echo "deb-src http://deb.debian.org/debian-security $codename-security main"
} >"$work/sources.list"
apt=(apt-get -q -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/nonexistent
     -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
echo "debian-source: fetching $source $version"
"${apt[@]}" update >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; echo "debian-source: apt-get update failed" >&2; exit 1; }
(cd "$work/src" && "${apt[@]}" source --download-only "$source=$version") >>"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log"; echo "debian-source: cannot fetch $source $version" >&2; exit 1; }
# Unpacked in the download's folder (dpkg-source leaves links to the upstream tarballs beside
# the tree it makes), then moved into place whole.
dpkg-source --no-check -x "$work/src/${source}_${version#*:}.dsc" "$work/src/tree" >>"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log"; echo "debian-source: cannot unpack $source $version" >&2; exit 1; }
mv "$work/src/tree" "$dest"
