#!/usr/bin/env python3
"""A realistic-market walk-forward, side by side: assetalloc
(examples/market.rs) against cvxportfolio's MarketSimulator.backtest on the
same data, policy and costs, simulated daily, rebalanced on the last
trading day of each month, capital 1,000,000:

  dow        the bundled 28 Dow stocks of 2014, fixed weights 0.95·i/Σi,
             TransactionCost(a = 5 bps, b = 1), cash earning the bundled
             cash return (the reference test's case a);
  synthetic  500 assets × 2,520 days from the generator (seed 7) with
             volumes, a long-short book (1.3 long, 0.3 short), 5 bps,
             impact (b = 1) and a 2 % annual borrow fee (HoldingCost).

Impact sigma is the root mean square of the last 21 returns on both sides
(given to cvxportfolio as a forecast). Times: ours is the backtest call
inside the example (the policy and the 1/N baseline the engine always
adds); cvxportfolio's is MarketSimulator.backtest on an empty cache. Also
reports the relative difference of final wealth. Writes
target/bench/market.json.

    pip install cvxportfolio==1.5.1 pandas numpy
    python3 bench/market.py
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import cvxportfolio as cvx
import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "reference"))
import market as ref  # noqa: E402  (the reference script's simulator set-up)

OUT = ROOT / "target" / "bench"
DATA = OUT / "market"


def ours(*args):
    exe = ROOT / "target" / "release" / "examples" / "market"
    res = subprocess.run([str(exe), *args], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(res.stdout)


def peer(r, volumes, weights, costs):
    dates = r.index
    decisions = pd.DatetimeIndex([dates[t] for t in ref.monthly_decisions(dates)])
    assets = [c for c in r.columns if c != r.columns[-1]]
    target = pd.Series(list(weights) + [1 - weights.sum()], index=assets + [r.columns[-1]])
    with tempfile.TemporaryDirectory() as base:
        sim = ref.simulator(r, volumes, costs, base=base)
        t = time.perf_counter()
        result = ref.backtest(sim, cvx.PeriodicRebalance(target, decisions), r, volumes)
        seconds = time.perf_counter() - t
    return seconds, float(result.v.iloc[-1]), len(result.v) - 1


def main():
    subprocess.run(["cargo", "build", "--quiet", "--release", "--no-default-features", "--example", "market"],
                   cwd=ROOT, check=True)
    DATA.mkdir(parents=True, exist_ok=True)
    rows = []

    # The Dow year.
    mine = ours("--dow")
    returns, volumes = ref.load_dow()
    assets = [c for c in returns.columns if c != "cash"]
    n = len(assets)
    w = np.arange(1, n + 1, dtype=float)
    w = 0.95 * w / w.sum()
    costs = [cvx.TransactionCost(a=0.0005, b=1.0, sigma=ref.rms_sigma(returns[assets]))]
    theirs_s, theirs_w, days = peer(returns, volumes, w, costs)
    rows.append({"workload": f"28 Dow stocks × {days} days, fixed weights, spread + impact",
                 "assetalloc_s": mine["seconds"], "cvxportfolio_s": theirs_s, "ratio": theirs_s / mine["seconds"],
                 "final_wealth_relative_difference": abs(mine["final_wealth"] / theirs_w - 1)})

    # The synthetic 500 × 2,520 market.
    mine = ours("--synthetic", "500,2520", "--write", str(DATA))
    r = pd.read_csv(DATA / "returns.csv", index_col=0, parse_dates=True)
    volumes = pd.read_csv(DATA / "volumes.csv", index_col=0, parse_dates=True)
    n = r.shape[1]
    half = n // 2
    w = np.array([1.3 / half] * half + [-0.3 / (n - half)] * (n - half))
    sigma = ref.rms_sigma(r)
    r = r.assign(cash=0.0)
    costs = [cvx.TransactionCost(a=0.0005, b=1.0, sigma=sigma), cvx.HoldingCost(short_fees=2.0)]
    theirs_s, theirs_w, days = peer(r, volumes, w, costs)
    rows.append({"workload": f"synthetic {n} assets × {days} days, long-short, spread + impact + borrow",
                 "assetalloc_s": mine["seconds"], "cvxportfolio_s": theirs_s, "ratio": theirs_s / mine["seconds"],
                 "final_wealth_relative_difference": abs(mine["final_wealth"] / theirs_w - 1)})

    (OUT / "market.json").write_text(json.dumps(rows, indent=1))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
