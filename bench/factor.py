#!/usr/bin/env python3
"""A factor-model minimum-variance walk-forward side by side: assetalloc
(examples/backtest.rs, strategy minvar-factor) against cvxportfolio's
SinglePeriodOptimization with its FactorModelCovariance, on the same
synthetic market (500 assets × 1,260 days, 3 common factors, seeded)
written to a CSV both sides read. Both rebalance monthly into long-only,
fully invested minimum variance on a 10-factor principal-component model,
with no costs. The estimation windows differ, each side's own: ours the
last 252 days, cvxportfolio's the whole history up to each date (its
truncated-SVD forecaster has no rolling window). Each side's time is the
backtest alone (loading the data not included), the median of --repeat
runs; cvxportfolio's on-disk cache is emptied before each of its runs.

Then the scale runs of examples/backtest.rs on its synthetic markets, once
each: 500 assets × 8,000 days with the factor model and dense Ledoit–Wolf
minimum variance in one command (`--time-each`: one after the other, each
timed), and 2,000 assets × 2,520 days with the factor model alone (the
dense run would take hours). Everything is built with the faer feature. Writes target/bench/factor.json.

    pip install cvxportfolio
    python3 bench/factor.py
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import cvxportfolio as cvx
import pandas as pd
from synthetic import factor_market

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
ASSETS, DAYS, FACTORS, COMPONENTS = 500, 1260, 3, 10


def market(path):
    return factor_market(path, ASSETS, DAYS, FACTORS, 0.006, 0.0002, 11)


def cvxportfolio_run(returns):
    data = returns.copy()
    data["USDOLLAR"] = 0.0
    cache = pathlib.Path(tempfile.mkdtemp(prefix="cvxportfolio-"))
    try:
        md = cvx.UserProvidedMarketData(returns=data, trading_frequency="monthly",
                                        min_history=pd.Timedelta(days=365), base_location=cache)
        sim = cvx.MarketSimulator(market_data=md, costs=(), base_location=cache)
        policy = cvx.SinglePeriodOptimization(-cvx.FactorModelCovariance(num_factors=COMPONENTS),
                                              [cvx.LongOnly(), cvx.NoCash()], include_cash_return=False)
        t0 = time.perf_counter()
        result = sim.backtest(policy, start_time=returns.index[252])
        seconds = time.perf_counter() - t0
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    w = result.w.drop(columns="USDOLLAR")
    return seconds, len(w), float(w.sum(axis=1).min()), float(w.min().min())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    # Built with the faer feature (in a target directory of its own, as
    # bench/optimize.py does): the dense 500-asset baseline of the scale run
    # factors its 500 × 500 KKT block with it, twice as fast as with qdldl.
    target = ROOT / "target" / "optimize-faer"
    subprocess.run(["cargo", "build", "--quiet", "--release", "--no-default-features", "--features", "optimize,faer",
                    "--example", "backtest"], cwd=ROOT, check=True, env=dict(os.environ, CARGO_TARGET_DIR=str(target)))
    OUT.mkdir(parents=True, exist_ok=True)
    csv = OUT / "factor_market.csv"
    returns = market(csv)
    exe = target / "release" / "examples" / "backtest"
    ours, theirs = [], []
    for _ in range(args.repeat):
        out = json.loads(subprocess.run(
            [str(exe), str(csv), "--strategies", "minvar-factor", "--rebalance", "monthly", "--lookback", "252",
             "--cost-bps", "0"], cwd=ROOT, check=True, capture_output=True, text=True).stdout)
        ours.append(out)
        theirs.append(cvxportfolio_run(returns))
    mine = sorted(o["backtest_seconds"] for o in ours)[len(ours) // 2]
    peer = sorted(t[0] for t in theirs)[len(theirs) // 2]
    rebalances = next(s["rebalances"] for s in ours[0]["strategies"] if s["strategy"].startswith("minimum variance"))
    row = {
        "kind": "cvxportfolio",
        "workload": f"monthly minimum variance, 10-factor PCA model, {ASSETS} assets × {DAYS} days, no costs",
        "assetalloc_s": mine, "cvxportfolio_s": peer, "ratio": peer / mine,
        "assetalloc_rebalances": rebalances, "cvxportfolio_rebalances": theirs[0][1],
        "cvxportfolio_min_invested": theirs[0][2], "cvxportfolio_min_weight": theirs[0][3],
    }
    print(f"assetalloc {mine:.2f} s ({rebalances} rebalances, with 1/N beside), cvxportfolio {peer:.2f} s "
          f"({theirs[0][1]} rebalances), ratio {row['ratio']:.2f}")
    rows = [row] + scale(exe)
    (OUT / "factor.json").write_text(json.dumps(rows, indent=1))


def scale(exe):
    """The synthetic-market scale runs: seconds per strategy, rebalances."""
    out = []
    for spec, strategies in [("500,8000", "minvar-factor,minvar"), ("2000,2520", "minvar-factor")]:
        run = json.loads(subprocess.run(
            [str(exe), "--synthetic", spec, "--strategies", strategies, "--time-each", "--rebalance", "monthly",
             "--lookback", "252", "--cost-bps", "0"], cwd=ROOT, check=True, capture_output=True, text=True).stdout)
        timed = {s["strategy"]: s for s in run["strategies"] if s["seconds"] is not None}
        factor = next(s for name, s in timed.items() if "factor" in name)
        dense = next((s for name, s in timed.items() if "factor" not in name), None)
        assets, days = spec.split(",")
        out.append({
            "kind": "scale", "assets": int(assets), "days": int(days), "rebalances": factor["rebalances"],
            "factor_s": factor["seconds"], "dense_s": dense and dense["seconds"],
            "ratio": dense and dense["seconds"] / factor["seconds"],
        })
        print(f"{spec}: factor model {factor['seconds']:.2f} s"
              + (f", dense Ledoit-Wolf {dense['seconds']:.2f} s" if dense else ""))
    return out


if __name__ == "__main__":
    main()
