#!/usr/bin/env python3
"""Holding rules and orders, side by side: assetalloc's branch and bound
(examples/optimize.rs --max-assets) against skfolio's MeanRisk with
cardinality on a MIP solver through cvxpy, and its discrete allocation
(examples/orders.rs, built with --features milp) against PyPortfolioOpt's
DiscreteAllocation.

* Cardinality-10 minimum CVaR (95 %) on the bundled S&P 500 (20 stocks x
  8,312 days): time to a proven optimum; skfolio on HiGHS (a MILP).
* Cardinality-15 minimum variance on 50 synthetic assets (bench/synthetic.py,
  1,000 days, 3 factors, seed 7): time to a proven optimum; skfolio on SCIP
  (a mixed-integer second-order cone program) with a 150 s limit, so where
  SCIP stops at it the ratio is a lower bound; the check compares the
  variances reached.
* Orders for 500 assets and an account of 1,000,000 (prices and weights as
  examples/orders.rs writes them, from a formula): greedy against
  greedy_portfolio, and the exact mixed-integer program at a 1e-4 relative
  gap on HiGHS against lp_portfolio on HiGHS (whose own gap is HiGHS's
  default); the check column compares the distances to the target.

Times: ours is the example's own timer (the solve, not the file read);
the peers' the fit or allocation call. Writes target/bench/integer.json.

    pip install -r bench/requirements.txt   # skfolio, PyPortfolioOpt, pyscipopt, highspy
    python3 bench/integer.py
"""
import json
import pathlib
import subprocess
import sys
import time

import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
sys.path.insert(0, str(ROOT / "bench"))
from synthetic import factor_market  # noqa: E402

PROOF_LIMIT_S = 600.0
PEER_LIMIT_S = 150.0


def ours(example, *args):
    exe = ROOT / "target" / "release" / "examples" / example
    return json.loads(subprocess.run([str(exe), *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout)


def skfolio_fit(returns, measure, k, solver, params=None):
    from skfolio import RiskMeasure
    from skfolio.optimization import MeanRisk
    model = MeanRisk(risk_measure=getattr(RiskMeasure, measure), cvar_beta=0.95, cardinality=k, solver=solver,
                     solver_params=params or {})
    t0 = time.perf_counter()
    model.fit(returns.values)
    return time.perf_counter() - t0, model.weights_


def cvar(p, beta=0.95):
    tail = np.sort(p)[: int(np.ceil((1 - beta) * len(p)))]
    return -tail.mean()


def book():
    n = 500
    prices = np.array([5.0 + ((i * 7919) % 997) * 0.5 for i in range(n)])
    raw = np.array([1.0 + ((i * 31) % 17) for i in range(n)])
    return [f"A{i}" for i in range(n)], prices, raw / raw.sum()


def distance(shares, prices, weights, value, leftover):
    return float(np.abs(shares * prices - weights * value).sum() + leftover)


def main():
    subprocess.run(["cargo", "build", "--quiet", "--release", "--features", "milp", "--example", "optimize",
                    "--example", "orders"], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []

    sp = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True).pct_change().dropna()
    mine = ours("optimize", "data/sp500.csv", "--objective", "min-risk", "--measure", "cvar", "--max-assets", "10")
    seconds, w = skfolio_fit(sp, "CVAR", 10, "HIGHS")
    ours_cvar = cvar(sp.values @ np.array([mine["weights"][a] for a in sp.columns]))
    rows.append({
        "workload": "cardinality-10 minimum CVaR (95 %), S&P 500 20 × 8,312, to a proven optimum",
        "peer": "skfolio MeanRisk(cardinality=10), HiGHS MILP", "ours": mine["search"]["seconds"] * 1e3,
        "theirs": seconds * 1e3, "unit": "ms", "ratio": seconds / mine["search"]["seconds"],
        "check": f"CVaR {ours_cvar:.8f} vs {cvar(sp.values @ w):.8f}; ours proven in {mine['search']['nodes']} nodes",
    })

    path = OUT / "synthetic_50.csv"
    syn = factor_market(path, 50, 1001, 3, 0.01, 0.0003, 7)
    mine = ours("optimize", str(path), "--objective", "min-risk", "--measure", "variance", "--max-assets", "15",
                "--time-limit", str(PROOF_LIMIT_S), "--node-limit", "10000000")
    seconds, w = skfolio_fit(syn, "VARIANCE", 15, "SCIP", {"scip_params": {"limits/time": PEER_LIMIT_S}})
    cov = np.cov(syn.values.T)
    wo = np.array([mine["weights"][a] for a in syn.columns])
    v_ours, v_theirs = float(wo @ cov @ wo), float(w @ cov @ w)
    search = mine["search"]
    proof = (f"ours proven in {search['nodes']:,} nodes" if search["proven"]
             else f"ours NOT proven, gap {search['gap']:.1%}")
    peer = ("SCIP stopped at its limit, so the ratio is a lower bound" if seconds >= 0.98 * PEER_LIMIT_S
            else "SCIP finished")
    rows.append({
        "workload": "cardinality-15 minimum variance, 50 synthetic assets × 1,000 days, to a proven optimum",
        "peer": f"skfolio MeanRisk(cardinality=15), SCIP, {PEER_LIMIT_S:.0f} s limit", "ours": search["seconds"],
        "theirs": seconds, "unit": "s", "ratio": seconds / search["seconds"],
        "check": f"{proof}; {peer}; variance ×1e-5 ours {v_ours * 1e5:.6f}, SCIP's {v_theirs * 1e5:.6f}",
    })

    from pypfopt.discrete_allocation import DiscreteAllocation
    names, prices, weights = book()
    value = 1e6
    series = pd.Series(prices, index=names)
    for method, gap in [("greedy", None), ("exact", 1e-4)]:
        args = ["--method", method] + ([] if gap is None else ["--gap", str(gap)])
        mine = ours("orders", *args)
        da = DiscreteAllocation(dict(zip(names, weights)), series, total_portfolio_value=value)
        t0 = time.perf_counter()
        alloc, left = da.greedy_portfolio() if method == "greedy" else da.lp_portfolio(solver="HIGHS")
        seconds = time.perf_counter() - t0
        shares = np.array([alloc.get(a, 0) for a in names], dtype=float)
        rows.append({
            "workload": f"orders, 500 assets, 1,000,000, {method}" + ("" if gap is None else " (gap 1e-4)"),
            "peer": f"PyPortfolioOpt {'greedy_portfolio' if gap is None else 'lp_portfolio (HiGHS)'}",
            "ours": mine["ms"], "theirs": seconds * 1e3, "unit": "ms", "ratio": seconds * 1e3 / mine["ms"],
            "check": f"distance to target {mine['distance']:,.0f} vs {distance(shares, prices, weights, value, left):,.0f}"
                     + ("; ours proven" if mine["proven"] else ""),
        })
    (OUT / "integer.json").write_text(json.dumps(rows, indent=1) + "\n")
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
