#!/usr/bin/env python3
"""Side-by-side timing of the optimisation workloads: assetalloc (Rust,
Clarabel called directly) against cvxpy + Clarabel and PyPortfolioOpt, on
the same data, on the same machine, in one run.

Workloads (long-only, fully invested, annualised sample moments):
  load      read the price CSV and compute simple returns
  minvar    minimum variance, 20 S&P 500 stocks
  maxsharpe maximum Sharpe (r_f = 0), 20 stocks
  frontier  100-point efficient frontier, 20 stocks (Clarabel, and the
            critical line algorithm against the same peers and
            PyPortfolioOpt's own CLA)
  minvar500 minimum variance, 500 synthetic assets x 1000 days, built with
            the `faer` feature (Clarabel's supernodal LDL, which the
            clarabel wheel under cvxpy also carries: its dense 500 x 500
            KKT block is what the faer factorisation is for)

Each figure is the median of --repeat runs of the whole workload as a user
runs it (building the problem included). Prints a table with the ratios
(peer time / assetalloc time) and the largest weight difference, and
writes target/bench/optimize.json.

    pip install numpy pandas cvxpy clarabel pyportfolioopt
    python3 bench/optimize.py
"""
import argparse
import copy
import os
import json
import pathlib
import subprocess

import cvxpy as cp
import numpy as np
import pandas as pd
from pypfopt import EfficientFrontier
from timing import median_time

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
# The same Clarabel tolerances as assetalloc uses, so both sides do the same work.
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}


def moments(path):
    p = pd.read_csv(path, index_col=0, parse_dates=True)
    r = p.pct_change().dropna()
    return list(p.columns), r.mean().to_numpy() * 252, np.cov(r.to_numpy(), rowvar=False) * 252


def cvx_minvar(mu, S):
    w = cp.Variable(len(mu))
    cp.Problem(cp.Minimize(cp.quad_form(w, cp.psd_wrap(S))), [cp.sum(w) == 1, w >= 0]).solve(solver=cp.CLARABEL, **TOL)
    return w.value


def cvx_maxsharpe(mu, S):
    y = cp.Variable(len(mu))
    cp.Problem(cp.Minimize(cp.quad_form(y, cp.psd_wrap(S))), [mu @ y == 1, y >= 0]).solve(solver=cp.CLARABEL, **TOL)
    return y.value / y.value.sum()


def cvx_frontier(mu, S, points):
    """Same work as assetalloc's Frontier: min-variance, max-return LP, the
    points (one parametrised problem re-solved), then the tangency portfolio."""
    n = len(mu)
    w = cp.Variable(n)
    lo = mu @ cvx_minvar(mu, S)
    cp.Problem(cp.Maximize(mu @ w), [cp.sum(w) == 1, w >= 0]).solve(solver=cp.CLARABEL, **TOL)
    hi = mu @ w.value
    target = cp.Parameter()
    prob = cp.Problem(cp.Minimize(cp.quad_form(w, cp.psd_wrap(S))), [cp.sum(w) == 1, w >= 0, mu @ w >= target])
    out = []
    for t in np.linspace(lo, hi * (1 - 1e-9), points):
        target.value = t
        prob.solve(solver=cp.CLARABEL, **TOL)
        out.append(w.value.copy())
    cvx_maxsharpe(mu, S)
    return out


def ef(mu, S):
    return EfficientFrontier(mu, S, solver="CLARABEL", solver_options=TOL)


def pypfopt_cla_frontier(mu, S, points):
    """PyPortfolioOpt's critical line algorithm: turning points, then
    `points` portfolios along the frontier."""
    from pypfopt.cla import CLA
    return CLA(mu, S, weight_bounds=(0, 1)).efficient_frontier(points=points)


def pypfopt_frontier(mu, S, points):
    """PyPortfolioOpt's way (as in its plotting helper): one deep copy of the
    frontier object per point, each solved with efficient_return."""
    base = ef(mu, S)
    mv = ef(mu, S)
    wmv = np.array(list(mv.min_volatility().values()))
    lo = float(mu @ wmv)
    hi = float(np.max(mu))
    out = []
    for t in np.linspace(lo, hi * (1 - 1e-6), points):
        e = copy.deepcopy(base)
        out.append(np.array(list(e.efficient_return(t).values())))
    ef(mu, S).max_sharpe(risk_free_rate=0.0)
    return out


def rust(path, points, repeat, extra=(), features="optimize"):
    cmd = ["cargo", "run", "--quiet", "--release", "--no-default-features", "--features", features,
           "--example", "optimize", "--", str(path),
           "--points", str(points), "--repeat", str(repeat), *extra]
    # Another feature set builds in a target directory of its own, so the
    # two builds do not replace each other on every run.
    env = dict(os.environ, CARGO_TARGET_DIR=str(ROOT / "target" / features.replace(",", "-"))) \
        if features != "optimize" else None
    res = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, env=env)
    return json.loads(res.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--points", type=int, default=100)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    # 500 synthetic assets, 1000 days, written once so both sides read the same file.
    rng = np.random.default_rng(7)
    n, t = 500, 1000
    B = rng.normal(size=(n, 3)) * 0.01
    rets = rng.normal(size=(t, 3)) @ B.T + rng.normal(size=(t, n)) * 0.015 + 0.0004
    prices = 100 * np.exp(np.cumsum(rets, axis=0))
    dates = pd.bdate_range("2015-01-01", periods=t)
    big = OUT / "synthetic_500.csv"
    pd.DataFrame(prices, index=pd.Index(dates, name="date"), columns=[f"S{i:03d}" for i in range(n)]).to_csv(big)

    sp = ROOT / "data" / "sp500.csv"
    r20 = rust(sp, args.points, args.repeat, ["--critical-line"])
    r500 = rust(big, 2, args.repeat, features="optimize,faer")
    names, mu, S = moments(sp)
    _, mu5, S5 = moments(big)
    mu_s, S_s = pd.Series(mu, index=names), pd.DataFrame(S, index=names, columns=names)
    names5 = [f"S{i:03d}" for i in range(n)]
    mu5_s, S5_s = pd.Series(mu5, index=names5), pd.DataFrame(S5, index=names5, columns=names5)

    rows = []

    def row(name, ours_ms, peer, peer_ms, dw):
        rows.append({"workload": name, "assetalloc_ms": ours_ms, "peer": peer, "peer_ms": peer_ms,
                     "ratio": peer_ms / ours_ms, "max_weight_diff": dw})

    def pandas_load():
        p = pd.read_csv(sp, index_col=0, parse_dates=True)
        return p.pct_change().dropna()

    tl, _ = median_time(pandas_load, args.repeat)
    row("load + returns (sp500)", r20["load_and_returns_ms"], "pandas", 1e3 * tl, None)

    ours_mv = np.array([r20["min_variance"]["weights"][a] for a in names])
    ours_ms = np.array([r20["max_sharpe"]["weights"][a] for a in names])
    t1, w = median_time(lambda: cvx_minvar(mu, S), args.repeat)
    row("min variance, 20 assets", r20["min_variance"]["median_ms"], "cvxpy+Clarabel", 1e3 * t1, float(np.abs(w - ours_mv).max()))
    t2, w = median_time(lambda: np.array(list(ef(mu_s, S_s).min_volatility().values())), args.repeat)
    row("min variance, 20 assets", r20["min_variance"]["median_ms"], "PyPortfolioOpt", 1e3 * t2, float(np.abs(w - ours_mv).max()))
    t3, w = median_time(lambda: cvx_maxsharpe(mu, S), args.repeat)
    row("max Sharpe, 20 assets", r20["max_sharpe"]["median_ms"], "cvxpy+Clarabel", 1e3 * t3, float(np.abs(w - ours_ms).max()))
    t4, w = median_time(lambda: np.array(list(ef(mu_s, S_s).max_sharpe(risk_free_rate=0.0).values())), args.repeat)
    row("max Sharpe, 20 assets", r20["max_sharpe"]["median_ms"], "PyPortfolioOpt", 1e3 * t4, float(np.abs(w - ours_ms).max()))
    t5, _ = median_time(lambda: cvx_frontier(mu, S, args.points), args.repeat)
    row(f"{args.points}-point frontier, 20 assets", r20["frontier"]["median_ms"], "cvxpy+Clarabel (parametrised)", 1e3 * t5, None)
    t6, _ = median_time(lambda: pypfopt_frontier(mu_s, S_s, args.points), args.repeat)
    row(f"{args.points}-point frontier, 20 assets", r20["frontier"]["median_ms"], "PyPortfolioOpt", 1e3 * t6, None)
    cla_ms = r20["frontier_critical_line"]["median_ms"]
    cla_name = f"{args.points}-point frontier by the critical line, 20 assets"
    row(cla_name, cla_ms, "cvxpy+Clarabel (parametrised)", 1e3 * t5, None)
    row(cla_name, cla_ms, "PyPortfolioOpt", 1e3 * t6, None)
    t_cla, _ = median_time(lambda: pypfopt_cla_frontier(mu_s, S_s, args.points), args.repeat)
    row(cla_name, cla_ms, "PyPortfolioOpt CLA", 1e3 * t_cla, None)
    ours5 = np.array([r500["min_variance"]["weights"][a] for a in names5])
    t7, w = median_time(lambda: cvx_minvar(mu5, S5), args.repeat)
    row("min variance, 500 assets (`--features faer`)", r500["min_variance"]["median_ms"], "cvxpy+Clarabel", 1e3 * t7, float(np.abs(w - ours5).max()))
    t8, w = median_time(lambda: np.array(list(ef(mu5_s, S5_s).min_volatility().values())), args.repeat)
    row("min variance, 500 assets (`--features faer`)", r500["min_variance"]["median_ms"], "PyPortfolioOpt", 1e3 * t8, float(np.abs(w - ours5).max()))

    (OUT / "optimize.json").write_text(json.dumps(rows, indent=1))
    print(f"{'workload':34} {'assetalloc':>11} {'peer':>31} {'peer time':>11} {'ratio':>8} {'max |Δw|':>9}")
    for r in rows:
        dw = "" if r["max_weight_diff"] is None else f"{r['max_weight_diff']:.1e}"
        print(f"{r['workload']:34} {r['assetalloc_ms']:9.2f}ms {r['peer']:>31} {r['peer_ms']:9.2f}ms {r['ratio']:7.1f}x {dw:>9}")


if __name__ == "__main__":
    main()
