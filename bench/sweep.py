#!/usr/bin/env python3
"""A sweep as a Slurm job array against the same search in one process.

tools/slurm/ci.sh brings up a one-node Slurm cluster on this machine, runs
tools/slurm/perf_manifest.json (200 random trials of mean-variance over
3 estimators x 70 risk aversions, on a seeded synthetic factor market of
100 assets x 2,000 days, scored on combinatorial purged CV with 10 folds
and 2 test folds: 45 splits) as an array of SHARDS tasks of one core each,
gathers it, then runs the search in one process on all the cores, checks
the two results are byte for byte equal, and stops the cluster. The array's
time runs from submission (sbatch --wait) to the gathered result, so it
counts Slurm's scheduling and polling. Writes target/bench/sweep.json.

    python3 bench/sweep.py [SHARDS]
"""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    shards = sys.argv[1] if len(sys.argv) > 1 else "4"
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "sweep"], cwd=ROOT, check=True)
    subprocess.run(["bash", "tools/slurm/ci.sh", "tools/slurm/perf_manifest.json", shards], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    t = json.loads((ROOT / "target" / "slurm" / "timing.json").read_text())
    out = ROOT / "target" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(t, indent=1))
    print(json.dumps(t, indent=1))


if __name__ == "__main__":
    main()
