#!/usr/bin/env bash
# The same sweep contract as the Slurm array, on one machine:
#
#   bash tools/slurm/local.sh processes MANIFEST OUT N [JOBS]   # xargs -P
#   bash tools/slurm/local.sh parallel  MANIFEST OUT N [JOBS]   # GNU parallel
#
# runs shards 0..N-1 of the manifest's search (at most JOBS at a time,
# default the cores), each writing OUT/shard-I-of-N.csv, then gathers them
# into OUT/gathered.csv and OUT/report.html. SWEEP_BIN names the sweep
# binary (default target/release/examples/sweep, built if absent).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BACKEND="$1"
MANIFEST="$2"
OUT="$3"
N="$4"
JOBS="${5:-$(nproc)}"
BIN="${SWEEP_BIN:-$ROOT/target/release/examples/sweep}"
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --quiet --release --example sweep)
mkdir -p "$OUT"
case "$BACKEND" in
    processes)
        seq 0 $((N - 1)) | xargs -P "$JOBS" -I{} "$BIN" run --manifest "$MANIFEST" --index {} --of "$N" --out "$OUT" >/dev/null
        ;;
    parallel)
        parallel --will-cite --halt now,fail=1 -j "$JOBS" "$BIN" run --manifest "$MANIFEST" --index {} --of "$N" \
            --out "$OUT" ::: $(seq 0 $((N - 1))) >/dev/null
        ;;
    *)
        echo "local.sh: unknown backend $BACKEND; use processes or parallel" >&2
        exit 2
        ;;
esac
"$BIN" gather --manifest "$MANIFEST" --of "$N" --out "$OUT"
