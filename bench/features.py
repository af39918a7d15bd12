#!/usr/bin/env python3
"""Feature computation side by side: assetalloc (Rust, examples/features.rs)
against pandas rolling windows doing the same work on the bundled S&P 500
prices: 7 feature families (rolling mean and std of returns, momentum as a
ratio and as a difference, EWMA volatility, downside deviation, distance from
the moving average) at windows 5, 21, 63, 126, 252, as a long table. Prints
both median times, the ratio, and the largest difference between the two
tables; writes target/bench/features.json.

    pip install numpy pandas
    python3 bench/features.py
"""
import json
import pathlib
import subprocess
import time

import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parent.parent
WINDOWS = [5, 21, 63, 126, 252]
REPEAT = 20


def pandas_features(p):
    r = p.pct_change()
    cols = {}
    for w in WINDOWS:
        cols[f"mean_{w}"] = r.rolling(w).mean()
        cols[f"std_{w}"] = r.rolling(w).std()
        cols[f"mom_{w}"] = p / p.shift(w) - 1
        cols[f"momdiff_{w}"] = p - p.shift(w)
        # EWMA of r² with span w, seeded with the mean of the first w values.
        r2 = r**2
        seed = r2.iloc[1 : w + 1].mean()
        tail = r2.iloc[w + 1 :]
        alpha = 2 / (w + 1)
        ew = pd.concat([seed.to_frame().T, tail]).ewm(alpha=alpha, adjust=False).mean()
        ew.index = r2.index[w:]
        cols[f"ewmavol_{w}"] = np.sqrt(ew).reindex(r.index)
        cols[f"downvol_{w}"] = np.sqrt((r.clip(upper=0) ** 2).rolling(w).mean())
        cols[f"madist_{w}"] = p / p.rolling(w).mean() - 1
    wide = pd.concat(cols, axis=1).iloc[max(WINDOWS) :]
    return wide.stack(level=1, future_stack=True)


def main():
    p = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    out_csv = ROOT / "target" / "bench" / "features.csv"
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cargo", "build", "--quiet", "--release", "--no-default-features", "--example", "features"],
                   cwd=ROOT, check=True)
    exe = ROOT / "target" / "release" / "examples" / "features"
    res = subprocess.run([str(exe), "data/sp500.csv", "--windows", ",".join(map(str, WINDOWS)),
                          "--repeat", str(REPEAT), "--out", str(out_csv)],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    rust = json.loads(res.stdout)
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        long = pandas_features(p)
        times.append(time.perf_counter() - t0)
    py_s = sorted(times)[len(times) // 2]
    ours = pd.read_csv(out_csv)
    names = [c for c in ours.columns if c not in ("date", "asset")]
    theirs = long[names].to_numpy()
    mine = ours[names].to_numpy()
    rel = np.max(np.abs(mine - theirs) / (1 + np.abs(theirs)))
    result = {
        "workload": f"{rust['assets']} assets x {rust['days']} days, {len(names)} features",
        "assetalloc_ms": rust["median_seconds"] * 1e3,
        "pandas_ms": py_s * 1e3,
        "ratio": py_s / rust["median_seconds"],
        "max_relative_difference": float(rel),
    }
    (ROOT / "target" / "bench" / "features.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
