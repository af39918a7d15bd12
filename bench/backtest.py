#!/usr/bin/env python3
"""The notebook's S&P 500 backtest, side by side: assetalloc (Rust) against a
plain Python loop (numpy, scikit-learn's Ledoit-Wolf, cvxpy + Clarabel) doing
the same work: 20 stocks, 1990-2022 daily, rebalance every 21 days on a
252-day window, 10 bps costs, weights drifting between rebalances;
strategies 1/N, inverse volatility (63 days), minimum variance and maximum
Sharpe on annualised Ledoit-Wolf moments. Prints both run times, the ratio,
and the largest difference in final wealth, and writes
target/bench/backtest.json.

    pip install numpy pandas scikit-learn cvxpy clarabel
    python3 bench/backtest.py
"""
import json
import pathlib
import subprocess
import time

import cvxpy as cp
import numpy as np
import pandas as pd
from sklearn.covariance import ledoit_wolf

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
EVERY, LOOKBACK, COST = 21, 252, 10e-4


def min_variance(S):
    w = cp.Variable(S.shape[0])
    cp.Problem(cp.Minimize(cp.quad_form(w, cp.psd_wrap(S))), [cp.sum(w) == 1, w >= 0]).solve(solver=cp.CLARABEL, **TOL)
    return w.value


def max_sharpe(mu, S):
    y = cp.Variable(S.shape[0])
    cp.Problem(cp.Minimize(cp.quad_form(y, cp.psd_wrap(S))), [mu @ y == 1, y >= 0]).solve(solver=cp.CLARABEL, **TOL)
    return y.value / y.value.sum()


def strategies():
    def ew(window):
        n = window.shape[1]
        return np.full(n, 1.0 / n)

    def ivol(window):
        sd = window[-63:].std(axis=0, ddof=1)
        return (1 / sd) / (1 / sd).sum()

    def lw(window):
        cov, _ = ledoit_wolf(window)
        return window.mean(axis=0) * 252, cov * 252

    return {
        "1/N (equal weight)": ew,
        "inverse volatility (63)": ivol,
        "minimum variance": lambda w: min_variance(lw(w)[1]),
        "maximum Sharpe": lambda w: max_sharpe(*lw(w)),
    }


def python_backtest(R):
    out = {}
    T, n = R.shape
    t0 = LOOKBACK - 1
    for name, decide in strategies().items():
        # Holdings and cash in currency: positions move to the target
        # weights of the pre-trade wealth and the cost is paid from cash.
        h = np.zeros(n)
        cash = 1.0
        for t in range(t0, T - 1):
            if (t - t0) % EVERY == 0:
                v = h.sum() + cash
                target = decide(R[t + 1 - LOOKBACK : t + 1])
                cost = COST * np.abs(target * v - h).sum()
                h = target * v
                cash = v - h.sum() - cost
            h = h * (1 + R[t + 1])
        out[name] = h.sum() + cash
    return out


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    R = prices.pct_change().dropna().to_numpy()
    subprocess.run(["cargo", "build", "--quiet", "--release", "--no-default-features", "--features", "optimize",
                    "--example", "backtest"], cwd=ROOT, check=True)
    exe = ROOT / "target" / "release" / "examples" / "backtest"
    t0 = time.perf_counter()
    res = subprocess.run([str(exe), "data/sp500.csv", "--rebalance", str(EVERY), "--lookback", str(LOOKBACK),
                          "--cost-bps", "10", "--strategies", "ivol,minvar,maxsharpe"],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    rust_wall = time.perf_counter() - t0
    rust = json.loads(res.stdout)
    t1 = time.perf_counter()
    py = python_backtest(R)
    py_s = time.perf_counter() - t1
    diffs = {s["strategy"]: abs(s["final_wealth"] / py[s["strategy"]] - 1) for s in rust["strategies"]}
    result = {
        "assetalloc_backtest_seconds": rust["backtest_seconds"],
        "assetalloc_process_seconds": rust_wall,
        "python_loop_seconds": py_s,
        "ratio_backtest": py_s / rust["backtest_seconds"],
        "ratio_whole_process": py_s / rust_wall,
        "final_wealth_relative_difference": diffs,
    }
    out = ROOT / "target" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "backtest.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
