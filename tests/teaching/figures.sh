#!/bin/sh
# The lesson is reproducible by its one command: tools/teaching-figures.sh OUTDIR writes every
# figure docs/teaching.md shows into OUTDIR (and nothing into docs/figures/) and prints the story
# of every patient the lesson names with --patient. (That the axes are in weeks is
# analysis/tests/test_cascade.py.)
#
# Usage: figures.sh SOURCE_DIR THERASIM PYTHON
set -eu
SRC=$1
THERASIM=$2
PYTHON=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/therasim-teaching-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
touch "$TMP/stamp"
sleep 1
THERASIM=$THERASIM PYTHON=$PYTHON THREADS=2 sh "$SRC/tools/teaching-figures.sh" "$TMP/out" >"$TMP/log"

fail=0
shown=$(grep -o 'figures/teaching/[A-Za-z0-9_]*\.png' "$SRC/docs/teaching.md" | sed 's|figures/teaching/||' | sort -u)
[ -n "$shown" ] || { echo "docs/teaching.md shows no figure of figures/teaching/"; exit 1; }
for name in $shown; do
    if [ ! -s "$TMP/out/$name" ]; then
        echo "docs/teaching.md shows $name, which tools/teaching-figures.sh did not write"
        fail=1
    fi
done
changed=$(find "$SRC/docs/figures" -newer "$TMP/stamp" -type f)   # (not the text: it may be being edited)
if [ -n "$changed" ]; then
    echo "tools/teaching-figures.sh OUTDIR wrote into docs/figures/: $changed"
    fail=1
fi
grep -o -- '--patient [0-9]*' "$SRC/docs/teaching.md" | sort -u | cut -d' ' -f2 >"$TMP/patients"
while read -r p; do
    if ! grep -q -- "--patient $p " "$TMP/log"; then
        echo "docs/teaching.md tells patient $p's story, which tools/teaching-figures.sh does not print"
        fail=1
    fi
done <"$TMP/patients"
[ "$fail" -eq 0 ] && echo "teaching figures: $(echo "$shown" | wc -w) figures of docs/teaching.md written, no file in docs/figures/ changed"
exit "$fail"
