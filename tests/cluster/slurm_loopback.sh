#!/usr/bin/env bash
# A single-node Slurm cluster on loopback runs a scenario as a 3-task job array and its merge
# (tools/slurm/submit.sh), and the merged file must equal the single-process file dataset for
# dataset (tests/cluster/h5same.py: apart from the start and wall times and the list of shards).
# munged, slurmctld and slurmd run as the current user with a generated slurm.conf,
# their state, sockets and logs in a temporary folder, on free ports of 127.0.0.1; they are
# stopped by their process ids at the end, whatever happened.
#
#   tests/cluster/slurm_loopback.sh THERASIM_BINARY
#
# Exit 77 (ctest: skipped) if Slurm or munge is not installed (tools/install-deps.sh installs them).
set -euo pipefail
therasim=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
for c in munged slurmctld slurmd sbatch squeue; do
  command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || { echo "skipped: $c not installed"; exit 77; }
done
export PATH="$PATH:/usr/sbin"
d=$(mktemp -d)
pids=()
cleanup() {
  for f in "$d"/slurmd.pid "$d"/slurmctld.pid "$d"/munged.pid; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 1
  for f in "$d"/slurmd.pid "$d"/slurmctld.pid "$d"/munged.pid; do
    [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  rm -rf "$d"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p "$d/state" "$d/spool" "$d/log"
head -c 1024 /dev/urandom >"$d/munge.key"
chmod 600 "$d/munge.key"
munged --force --key-file="$d/munge.key" --socket="$d/munge.sock" --pid-file="$d/munged.pid" \
  --log-file="$d/log/munged.log" --seed-file="$d/munge.seed"
host=$(hostname -s)
user=$(id -un)
cat >"$d/slurm.conf" <<CONF
ClusterName=therasimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$d/munge.sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=loopback Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$d/slurm.conf"
slurmctld
slurmd
fail() { echo "FAILED: $*"; for f in "$d"/log/* "$d"/out.slurm/*; do [ -f "$f" ] && { echo "== $f"; tail -20 "$f"; }; done; exit 1; }
for _ in $(seq 1 30); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 1
done
sinfo -h -o %T | grep -q idle || fail "the node did not come up"

cp "$(dirname "$0")/six_runs.yaml" "$d/small.yaml"
t0=$SECONDS
ids=$(THERASIM="$therasim" "$root/tools/slurm/submit.sh" "$d/small.yaml" "$d/out.h5" 3 -- --cpus-per-task=1)
echo "$ids"
for _ in $(seq 1 120); do
  [ -z "$(squeue -h)" ] && break
  sleep 1
done
[ -z "$(squeue -h)" ] || fail "jobs still queued after 120 s"
[ -f "$d/out.h5" ] || fail "the merge job wrote no file"
ls "$d" | grep -q 'shard-' && fail "shard files left after the merge"
"$therasim" run "$d/small.yaml" -o "$d/single.h5" --quiet --threads 1
/usr/bin/python3 "$(dirname "$0")/h5same.py" "$d/out.h5" "$d/single.h5" || fail "the merged file differs from the single-process file"
echo "slurm loopback: 3 array tasks and the merge in $((SECONDS - t0)) s; the merged file equals the single-process file"
