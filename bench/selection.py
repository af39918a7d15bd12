#!/usr/bin/env python3
"""Combinatorial purged cross-validation side by side: assetalloc
(examples/cv.rs) against skfolio's cross_val_predict with
CombinatorialPurgedCV, same work: the bundled S&P 500 (20 stocks, daily
simple returns), N = 10 folds, k = 2 test folds (45 splits, 9 paths),
minimum variance on Ledoit-Wolf moments fitted on each split's training
rows, long-only and fully invested, weights held constant through the test
blocks (restored every period, no costs, so both sides compute the same
paths). Each side's time is the median of --repeat evaluations from
returns to the 9 path portfolios (reading the CSV not included). The check
compares each path's mean daily return.

Stacking (examples/cv.rs --stack) against skfolio's StackingOptimization:
inverse volatility, minimum variance and maximum Sharpe ratio on sample
moments, cross-validated by five consecutive folds each tested once
(KFold(5) unshuffled; the last 8,310 rows so that the folds are equal),
the outer optimiser minimum variance or maximum Sharpe ratio; the median
of --repeat fits from returns to the stack's weights. The check is the
largest weight difference. Writes target/bench/selection.json.

    pip install skfolio
    python3 bench/selection.py
"""
import argparse
import json
import pathlib
import subprocess
import time

import numpy as np
import pandas as pd
from skfolio.model_selection import CombinatorialPurgedCV, cross_val_predict
from skfolio.moments import LedoitWolf
from skfolio.optimization import InverseVolatility, MeanRisk, ObjectiveFunction, StackingOptimization
from sklearn.model_selection import KFold
from skfolio.prior import EmpiricalPrior

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
CSV = ROOT / "data" / "sp500.csv"
FOLDS, TEST_FOLDS = 10, 2
STACK_ROWS = 8310


def skfolio_stack(returns, outer, repeat):
    times, model = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        ratio = MeanRisk(objective_function=ObjectiveFunction.MAXIMIZE_RATIO)
        model = StackingOptimization(
            estimators=[("inverse volatility", InverseVolatility()), ("minimum variance", MeanRisk()),
                        ("maximum Sharpe", MeanRisk(objective_function=ObjectiveFunction.MAXIMIZE_RATIO))],
            final_estimator=MeanRisk() if outer == "minvar" else ratio, cv=KFold(5))
        model.fit(returns)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2], np.asarray(model.weights_)


def skfolio_paths(returns, repeat):
    times, pop = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = MeanRisk(objective_function=ObjectiveFunction.MINIMIZE_RISK,
                         prior_estimator=EmpiricalPrior(covariance_estimator=LedoitWolf()))
        pop = cross_val_predict(model, returns, cv=CombinatorialPurgedCV(n_folds=FOLDS, n_test_folds=TEST_FOLDS))
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2], pop


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--quiet", "--release", "--no-default-features", "--features", "optimize",
                    "--example", "cv"], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    prices = pd.read_csv(CSV, index_col=0, parse_dates=True)
    returns = prices.pct_change().iloc[1:]
    exe = ROOT / "target" / "release" / "examples" / "cv"
    ours = json.loads(subprocess.run(
        [str(exe), str(CSV), "--strategy", "minvar", "--folds", str(FOLDS), "--test-folds", str(TEST_FOLDS),
         "--cost-bps", "0", "--every", "1", "--repeat", str(args.repeat)],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    seconds, pop = skfolio_paths(returns, args.repeat)
    theirs = np.array([np.mean(p.returns) for p in pop])
    diff = float(np.max(np.abs(np.array(ours["path_mean_return"]) - theirs)))
    row = {
        "workload": f"CPCV N = {FOLDS}, k = {TEST_FOLDS} ({ours['splits']} splits, {ours['paths']} paths), "
                    f"minimum variance (Ledoit-Wolf), S&P 500 20 stocks × {len(returns)} days",
        "assetalloc_ms": 1e3 * ours["seconds"], "skfolio_ms": 1e3 * seconds, "ratio": seconds / ours["seconds"],
        "max_path_mean_diff": diff,
    }
    print(f"assetalloc {row['assetalloc_ms']:.0f} ms, skfolio {row['skfolio_ms']:.0f} ms, ratio {row['ratio']:.1f}, "
          f"path mean return difference {diff:.1e}")
    rows = [row]
    for outer, label in [("minvar", "minimum variance"), ("maxsharpe", "maximum Sharpe ratio")]:
        stack = json.loads(subprocess.run(
            [str(exe), str(CSV), "--stack", outer, "--rows", str(STACK_ROWS), "--repeat", str(args.repeat)],
            cwd=ROOT, check=True, capture_output=True, text=True).stdout)
        seconds, w = skfolio_stack(returns.iloc[-STACK_ROWS:].values, outer, args.repeat)
        diff = float(np.max(np.abs(np.array(stack["weights"]) - w)))
        rows.append({
            "workload": f"stack of inverse volatility, minimum variance, maximum Sharpe; outer {label}; "
                        f"5 folds, S&P 500 20 stocks × {STACK_ROWS:,} days",
            "peer": "skfolio StackingOptimization", "assetalloc_ms": 1e3 * stack["seconds"],
            "skfolio_ms": 1e3 * seconds, "ratio": seconds / stack["seconds"],
            "check": f"max weight difference {diff:.1e}",
        })
        print(f"stack ({outer}): assetalloc {1e3 * stack['seconds']:.0f} ms, skfolio {1e3 * seconds:.0f} ms, "
              f"weights {diff:.1e}")
    (OUT / "selection.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
