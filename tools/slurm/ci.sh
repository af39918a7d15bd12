#!/usr/bin/env bash
# A one-node Slurm cluster on localhost runs a sweep as a job array, and the
# gathered result must equal the single-process search byte for byte.
#
#   bash tools/slurm/ci.sh [MANIFEST] [SHARDS]
#
# Installs slurm-wlm, munge and GNU parallel from Debian's packages if
# absent (root, or sudo), writes a slurm.conf for this host alone (no cgroups:
# proctrack/linuxproc, task/none) into a temporary folder, starts munged,
# slurmctld and slurmd, submits tools/slurm/sweep.sbatch as an array with
# `sbatch --wait`, gathers, runs the same search in one process, compares
# the two, runs the manifest again through tools/slurm/local.sh (processes,
# GNU parallel) and compares those too, and stops every daemon it started
# whatever happens. SWEEP_BIN names the sweep binary (default the release
# build, built if absent). Prints the
# wall time of the array (submission to gathered result) and of the single
# process; writes them to target/slurm/timing.json.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MANIFEST="$(realpath "${1:-$ROOT/tools/slurm/ci_manifest.json}")"
SHARDS="${2:-4}"
BIN="${SWEEP_BIN:-$ROOT/target/release/examples/sweep}"
OUT="$ROOT/target/slurm"
WORK="$(mktemp -d /tmp/assetalloc-slurm.XXXXXX)"
rm -rf "$OUT"
mkdir -p "$OUT"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "slurm ci: needs root or sudo for: $*" >&2
        return 1
    fi
}

cleanup() {
    local status=$?
    set +e
    if [ -n "${SLURM_CONF:-}" ]; then scancel --quiet --user "$(id -un)" 2>/dev/null; fi
    for pid in "$WORK/slurmd.pid" "$WORK/slurmctld.pid" "$WORK/munged.pid"; do
        [ -f "$pid" ] && as_root kill "$(cat "$pid")" 2>/dev/null
    done
    sleep 1
    for pid in "$WORK/slurmd.pid" "$WORK/slurmctld.pid" "$WORK/munged.pid"; do
        [ -f "$pid" ] && as_root kill -9 "$(cat "$pid")" 2>/dev/null
    done
    if [ "$status" != 0 ]; then
        echo "slurm ci: failed ($status); daemon logs:" >&2
        tail -n 20 "$WORK"/*.log >&2 2>/dev/null
    fi
    mkdir -p "$OUT/logs" && cp "$WORK"/*.log "$WORK"/job-*.out "$OUT/logs/" 2>/dev/null
    as_root rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT INT TERM

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm ci: installing slurm-wlm, munge and parallel"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge parallel >/dev/null
fi
if [ ! -x "$BIN" ]; then
    case "$BIN" in
        */debug/*) (cd "$ROOT" && cargo build --quiet --example sweep) ;;
        *) (cd "$ROOT" && cargo build --quiet --release --example sweep) ;;
    esac
fi
export SWEEP_BIN="$BIN"

# munge: its own key and socket in the work folder, run as the munge user.
as_root chmod 777 "$WORK"
KEY="$WORK/munge.key"
as_root dd if=/dev/urandom of="$KEY" bs=1024 count=1 status=none
as_root chown munge:munge "$KEY" 2>/dev/null || true
as_root chmod 400 "$KEY"
SOCKET="$WORK/munge.socket"
as_root install -d -o munge -g munge -m 700 "$WORK/munge-state"
MUNGE=(munged --key-file="$KEY" --socket="$SOCKET" --pid-file="$WORK/munged.pid"
    --log-file="$WORK/munged.log" --seed-file="$WORK/munge-state/seed" --force)
if id munge >/dev/null 2>&1; then as_root runuser -u munge -- "${MUNGE[@]}"; else as_root "${MUNGE[@]}"; fi

USER_NAME="$(id -un)"
CPUS="$(nproc)"
mkdir -p "$WORK/state" "$WORK/spool"
cat >"$WORK/slurm.conf" <<EOF
ClusterName=assetalloc
SlurmctldHost=localhost
SlurmUser=$USER_NAME
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# sbatch --wait polls every 2 s only while this is under 4 s (its sleep
# grows 2 → 8 → 32 s otherwise, up to 30 s of idle waiting per array);
# a finished job's record is kept 4 s, twice that poll.
MinJobAge=4
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1024 State=UNKNOWN
PartitionName=sweep Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$WORK/slurm.conf"
slurmctld -f "$SLURM_CONF"
as_root env SLURM_CONF="$SLURM_CONF" slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 60); do
    state="$(sinfo -h -N -o %t 2>/dev/null || true)"
    case "$state" in idle*|mix*|alloc*) break ;; esac
    sleep 1
done
sinfo -N

t0=$(date +%s.%N)
timeout 600 sbatch --wait --array="0-$((SHARDS - 1))" --output="$WORK/job-%a.out" \
    "$ROOT/tools/slurm/sweep.sbatch" "$MANIFEST" "$OUT" "$BIN" >/dev/null
"$BIN" gather --manifest "$MANIFEST" --of "$SHARDS" --out "$OUT"
t1=$(date +%s.%N)
"$BIN" single --manifest "$MANIFEST" --out "$OUT" >/dev/null
t2=$(date +%s.%N)
cmp "$OUT/gathered.csv" "$OUT/single.csv"
# The same manifest through the local backends: the same bytes again.
for backend in processes parallel; do
    bash "$ROOT/tools/slurm/local.sh" "$backend" "$MANIFEST" "$OUT/$backend" "$SHARDS" >/dev/null
    cmp "$OUT/$backend/gathered.csv" "$OUT/single.csv"
    echo "slurm ci: $backend backend gathered the same result"
done
python3 - "$t0" "$t1" "$t2" "$SHARDS" "$OUT/timing.json" <<'PY'
import json, sys
t0, t1, t2 = map(float, sys.argv[1:4])
array, single = t1 - t0, t2 - t1
json.dump({"shards": int(sys.argv[4]), "array_s": array, "single_s": single, "ratio": array / single},
          open(sys.argv[5], "w"), indent=1)
print(f"slurm ci: array of {sys.argv[4]} shards gathered in {array:.2f} s, one process {single:.2f} s "
      f"({array / single:.2f}x); gathered result equals the single-process search byte for byte")
PY
