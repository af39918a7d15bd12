#!/usr/bin/env python3
"""Reading a panel from Parquet against reading it from CSV.

examples/data.rs --parquet-time (feature `parquet`) writes a seeded
synthetic price panel of 2,000 days x 5,000 assets as CSV and as Parquet
(Snappy) and reads each back through the same loader (`Load::csv`,
`Load::parquet`: the same checks, the same panel, compared), median of 3
reads each. Goal: Parquet at least 5x faster. Writes target/bench/parquet.json.

    python3 bench/parquet.py
"""
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    subprocess.run(["cargo", "build", "--quiet", "--release", "--features", "parquet", "--example", "data"], cwd=ROOT,
                   check=True)
    out = subprocess.run([str(ROOT / "target" / "release" / "examples" / "data"), "--parquet-time", "2000,5000",
                          "--repeat", "3"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    path = ROOT / "target" / "bench"
    path.mkdir(parents=True, exist_ok=True)
    (path / "parquet.json").write_text(json.dumps(r, indent=1))
    print(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
