#!/usr/bin/env bash
# therasim-mpi under mpirun -np 1, 2 and 3 (oversubscribed on a small machine) writes the same
# file as one therasim process (tests/cluster/h5same.py: apart from the start and wall times and the list
# of shards), leaves no shard file behind, refuses an existing output, and a failing rank aborts
# the job with its finished runs kept for a resume.
#
#   tests/cluster/mpi_shards.sh THERASIM_MPI THERASIM
set -euo pipefail
mpi=$(realpath "$1") therasim=$(realpath "$2")
command -v mpirun >/dev/null || { echo "skipped: mpirun not installed"; exit 77; }
# CI runs as root; OpenMPI refuses that unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cp "$(dirname "$0")/six_runs.yaml" "$d/small.yaml"
"$therasim" run "$d/small.yaml" -o "$d/single.h5" --quiet --threads 1
for np in 1 2 3; do
  t0=$(date +%s.%N)
  mpirun -np "$np" "$mpi" run "$d/small.yaml" -o "$d/mpi-$np.h5" --quiet --threads 1
  echo "mpirun -np $np: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
  /usr/bin/python3 "$(dirname "$0")/h5same.py" "$d/mpi-$np.h5" "$d/single.h5" || { echo "FAILED: -np $np differs from one process"; exit 1; }
  if ls "$d" | grep -q "mpi-$np.shard-"; then echo "FAILED: shard files left by -np $np"; exit 1; fi
done
# An existing result is refused on every rank before any work (exit 2).
rc=0
mpirun -np 2 "$mpi" run "$d/small.yaml" -o "$d/mpi-2.h5" --quiet >"$d/refused.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -q "exists" "$d/refused.log" || { echo "FAILED: an existing output was not refused"; cat "$d/refused.log"; exit 1; }
# A rank that fails (here: more ranks than runs, refused by run --shard) aborts the job.
rc=0
mpirun -np 7 "$mpi" run "$d/small.yaml" -o "$d/mpi-7.h5" --quiet >"$d/abort.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ ! -e "$d/mpi-7.h5" ] || { echo "FAILED: -np 7 with 6 runs did not fail cleanly"; cat "$d/abort.log"; exit 1; }
echo "therasim-mpi: -np 1, 2, 3 equal the single-process file; existing output and a failed rank refused"
