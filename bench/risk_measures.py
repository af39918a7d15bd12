#!/usr/bin/env python3
"""Minimum-risk portfolios for every scenario risk measure, and equal risk
budgets for the measures Riskfolio-Lib budgets, side by side: assetalloc
(examples/optimize.rs --objective min-risk | risk-budget) against
Riskfolio-Lib (optimization / rp_optimization, cvxpy + Clarabel, same
tolerances), on all 8,312 daily S&P 500 returns (RLVaR and RLDaR on the
last 1,000: on all of them Clarabel stalls on both sides; Riskfolio-Lib's
EDaR fails on all of them, and its ordered weighted averages are
approximations, see OWA_VALUE), long-only,
fully invested; and distributionally robust mean-CVaR (--objective
dr-cvar) against skfolio's DistributionallyRobustCVaR on the last 2,000.
Each side's time is
the median of --repeat solves of the whole problem as a user runs it
(building it included); assetalloc also reports Clarabel's own time, so the
distance to the solver's limit shows. Writes target/bench/risk_measures.json.

    pip install riskfolio-lib
    python3 bench/risk_measures.py
"""
import argparse
import json
import pathlib
import subprocess
import time

import numpy as np
import pandas as pd
import riskfolio as rp
from riskfolio.src import RiskFunctions as rf
from skfolio.optimization import DistributionallyRobustCVaR

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
# assetalloc's name → Riskfolio-Lib's risk-measure code (drawdowns on
# uncompounded cumulative returns in both).
MEASURES = {
    "mad": "MAD",
    "semi-deviation": "MSV",
    "flpm": "FLPM",
    "cvar": "CVaR",
    "evar": "EVaR",
    "worst": "WR",
    "max-drawdown": "MDD",
    "average-drawdown": "ADD",
    "cdar": "CDaR",
    "ulcer": "UCI",
    "slpm": "SLPM",
    "rlvar": "RLVaR",
    "rldar": "RLDaR",
    "edar": "EDaR",
    "gmd": "GMD",
    "tail-gini": "TG",
    "range": "RG",
    "cvar-range": "CVRG",
    "tail-gini-range": "TGRG",
}
# Riskfolio-Lib writes the ordered weighted averages through its
# power-cone approximation (Cajas 2021), ours are exact: each side's value
# of the same measure (Riskfolio-Lib's RiskFunctions, alpha 0.05, 100
# levels for the tail Gini) is reported beside the times.
OWA_VALUE = {
    "gmd": lambda x: rf.GMD(x),
    "tail-gini": lambda x: rf.TG(x, alpha=0.05, a_sim=100),
    "range": lambda x: rf.RG(x),
    "cvar-range": lambda x: rf.CVRG(x, alpha=0.05, beta=0.05),
    "tail-gini-range": lambda x: rf.TGRG(x, alpha=0.05, a_sim=100, beta=0.05, b_sim=100),
}
# Measures timed on the last days only.
ROWS = {"rlvar": 1000, "rldar": 1000}
DR_CVAR_ROWS = 2000
DR_CVAR = {"beta": 0.95, "risk_aversion": 1.0, "radius": 0.01}
# Riskfolio-Lib's lower partial moments are below a minimum acceptable
# return of r_f = 0: ours at --mar 0 too (slpm's default).
EXTRA = {"flpm": ["--mar", "0"]}
# Risk budgets: the measures both budget with the same definition
# (Riskfolio-Lib's FLPM is below 0, its semideviation finds no solution).
BUDGETS = {"std": "MV", "mad": "MAD", "cvar": "CVaR", "evar": "EVaR", "cdar": "CDaR", "ulcer": "UCI"}


def prices_csv(prices, rows):
    """The price file of the last `rows` returns (all: the bundled file)."""
    if rows is None:
        return "data/sp500.csv"
    path = OUT / f"sp500_last{rows}.csv"
    OUT.mkdir(parents=True, exist_ok=True)
    prices.iloc[-(rows + 1):].to_csv(path)
    return str(path)


def ours(measure, repeat, objective, path, extra=()):
    exe = ROOT / "target" / "release" / "examples" / "optimize"
    runs = []
    for _ in range(repeat):
        extra = [*extra, *(EXTRA.get(measure, []) if objective == "min-risk" else [])]
        res = subprocess.run([str(exe), path, "--objective", objective, "--measure", measure, *extra],
                             cwd=ROOT, check=True, capture_output=True, text=True)
        runs.append(json.loads(res.stdout))
    runs.sort(key=lambda r: r["total_ms"])
    return runs[len(runs) // 2]


def riskfolio(returns, code, repeat, objective):
    times, w = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        port = rp.Portfolio(returns=returns, alpha=0.05)
        port.assets_stats(method_mu="hist", method_cov="hist")
        port.solvers = ["CLARABEL"]
        port.sol_params = {"CLARABEL": TOL}
        if objective == "min-risk":
            w = port.optimization(model="Classic", rm=code, obj="MinRisk", rf=0, l=0, hist=True)
        else:
            w = port.rp_optimization(model="Classic", rm=code, rf=0, b=None, hist=True)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), (None if w is None else w["weights"].to_numpy())


def skfolio_dr_cvar(returns, repeat):
    times, w = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = DistributionallyRobustCVaR(risk_aversion=DR_CVAR["risk_aversion"], cvar_beta=DR_CVAR["beta"],
                                           wasserstein_ball_radius=DR_CVAR["radius"], solver="CLARABEL",
                                           solver_params=TOL)
        model.fit(returns)
        w = model.weights_
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), w


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--quiet", "--release", "--no-default-features", "--features", "optimize",
                    "--example", "optimize"], cwd=ROOT, check=True)
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna()
    rows = []
    cases = [("min-risk", m, c) for m, c in MEASURES.items()] + [("risk-budget", m, c) for m, c in BUDGETS.items()]
    for objective, name, code in cases:
        n = ROWS.get(name) if objective == "min-risk" else None
        r = ours(name, args.repeat, objective, prices_csv(prices, n))
        t, w = riskfolio(returns if n is None else returns.iloc[-n:], code, args.repeat, objective)
        mine = np.array([r["weights"][a] for a in returns.columns])
        dw = None if w is None else float(np.abs(mine - w).max())
        rows.append({"objective": objective, "measure": name, "rows": n or len(returns),
                     "assetalloc_ms": r["total_ms"], "clarabel_ms": r["solver_ms"], "riskfolio_ms": 1e3 * t,
                     "ratio": 1e3 * t / r["total_ms"], "max_weight_diff": dw, "peer_failed": w is None})
        if name in OWA_VALUE and objective == "min-risk" and w is not None:
            sample = (returns if n is None else returns.iloc[-n:]).to_numpy()
            rows[-1]["values"] = [float(OWA_VALUE[name]((sample @ x).reshape(-1, 1))) for x in (mine, w)]
        print(f"{objective:11} {name:18} {r['total_ms']:9.1f} ms (solver {r['solver_ms']:8.1f}) vs Riskfolio "
              f"{1e3 * t:9.1f} ms = {1e3 * t / r['total_ms']:5.1f}x  max |dw| {dw}")
    n = DR_CVAR_ROWS
    extra = ["--alpha", str(1 - DR_CVAR["beta"]), "--risk-aversion", str(DR_CVAR["risk_aversion"]),
             "--radius", str(DR_CVAR["radius"])]
    r = ours("cvar", args.repeat, "dr-cvar", prices_csv(prices, n), extra)
    t, w = skfolio_dr_cvar(returns.iloc[-n:], args.repeat)
    dw = float(np.abs(np.array([r["weights"][a] for a in returns.columns]) - w).max())
    rows.append({"objective": "dr-cvar", "measure": "cvar", "rows": n, "peer": "skfolio (cvxpy + Clarabel)",
                 "assetalloc_ms": r["total_ms"], "clarabel_ms": r["solver_ms"], "riskfolio_ms": 1e3 * t,
                 "ratio": 1e3 * t / r["total_ms"], "max_weight_diff": dw, "peer_failed": False})
    print(f"dr-cvar {r['total_ms']:9.1f} ms vs skfolio {1e3 * t:9.1f} ms = {1e3 * t / r['total_ms']:5.1f}x  "
          f"max |dw| {dw}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "risk_measures.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
