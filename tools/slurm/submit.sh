#!/usr/bin/env bash
# Runs one therasim scenario as a Slurm job array of N shards and a merge job that starts when
# every shard has succeeded (docs/cluster.md).
#
#   tools/slurm/submit.sh SCENARIO OUT.h5 N [therasim run options...] [-- sbatch options...]
#
# Task K of the array runs `therasim run SCENARIO -o OUT.shard-K-of-N.h5 --shard K/N`; the merge
# job runs `therasim merge -o OUT.h5` on the N shard files and removes them once OUT.h5 is in
# place. A failed task leaves its finished runs in OUT.shard-K-of-N.h5.partial-run/: resubmit
# that task alone (`sbatch --array=K ...`, printed below) and it resumes; the merge job waits for
# it (afterok), or run the merge command by hand. Every path must be on a file system that the
# nodes share. The therasim binary is $THERASIM, else `therasim` on PATH, else build/therasim.
# Prints the two job ids ("array JOBID" and "merge JOBID").
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
scenario=$1 out=$2 n=$3
shift 3
run_opts=() sbatch_opts=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; sbatch_opts=("$@"); break; fi
  run_opts+=("$1"); shift
done
case "$n" in '' | *[!0-9]* | 0) echo "submit.sh: N must be a whole number of shards, 1 or more (got '$n')" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
therasim=${THERASIM:-$(command -v therasim || echo "$root/build/therasim")}
[ -x "$therasim" ] || { echo "submit.sh: no therasim binary at '$therasim' (set THERASIM)" >&2; exit 2; }
scenario=$(realpath "$scenario")
out=$(realpath -m "$out")
[ -e "$out" ] && { echo "submit.sh: '$out' exists; move it away first" >&2; exit 2; }
# Refuse a bad scenario or option now, before anything is queued.
"$therasim" validate "$scenario" "${run_opts[@]}" >/dev/null
q() { [ $# -eq 0 ] || printf '%q ' "$@"; }
part="${out%.h5}.shard-\${SLURM_ARRAY_TASK_ID}-of-$n.h5"
parts=()
for ((k = 0; k < n; k++)); do parts+=("${out%.h5}.shard-$k-of-$n.h5"); done
logs="${out%.h5}.slurm"
mkdir -p "$logs"
array=$(sbatch --parsable --job-name=therasim-shards --array="0-$((n - 1))" --output="$logs/shard-%a.log" \
  "${sbatch_opts[@]}" \
  --wrap "$(q "$therasim") run $(q "$scenario") -o \"$part\" --shard \${SLURM_ARRAY_TASK_ID}/$n --threads \${SLURM_CPUS_ON_NODE:-\$(nproc)} --quiet $(q "${run_opts[@]}")")
array=${array%%;*}
merge=$(sbatch --parsable --job-name=therasim-merge --dependency="afterok:$array" --output="$logs/merge.log" \
  "${sbatch_opts[@]}" \
  --wrap "$(q "$therasim") merge -o $(q "$out") $(q "${parts[@]}") && rm -f $(q "${parts[@]}")")
merge=${merge%%;*}
echo "array $array"
echo "merge $merge"
echo "logs in $logs; a failed task K: sbatch --array=K ... (the same command), then the merge" >&2
