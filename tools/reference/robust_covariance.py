#!/usr/bin/env python3
"""Worst-case variance over a covariance box, from Riskfolio-Lib.

On all 8,312 daily simple returns of the bundled S&P 500 (20 stocks,
long-only, fully invested) with the sample covariance S and volatilities
s, the box S - 0.2 ss' <= Sigma <= S + 0.2 ss' (elementwise; the upper
bound positive semidefinite) is handed to Riskfolio-Lib's Portfolio
(cov_l, cov_u), and Portfolio.wc_optimization(Umu="none", Ucov="box")
solves its semidefinite program with Clarabel at tight tolerances for
the minimum worst-case variance and the maximum worst-case Sharpe ratio
(rf = 0). Its Sharpe answer stops short of the worst-case ratio (7.3 %
below, under its own worst case w' S_u w), so the fixture also holds the
maximum of mu'w / sqrt(w' S_u w) solved directly by cvxpy with Clarabel
(max mu'y s.t. y' S_u y <= 1, y >= 0, then w = y / sum y). Writes
tests/fixtures/robust_covariance_reference.json, which tests/robust.rs
matches.

    pip install riskfolio-lib==7.4.0
    python3 tools/reference/robust_covariance.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import cvxpy as cp
import riskfolio as rp

ROOT = pathlib.Path(__file__).resolve().parents[2]
WIDTH = 0.2
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna()
    n = returns.shape[1]
    cov = returns.cov()
    s = np.sqrt(np.diag(cov.to_numpy()))
    spread = WIDTH * np.outer(s, s)
    out = {"assets": list(returns.columns), "rows": len(returns), "width": WIDTH, "cases": []}
    for obj in ["MinRisk", "Sharpe"]:
        port = rp.Portfolio(returns=returns)
        port.assets_stats(method_mu="hist", method_cov="hist")
        port.cov_l = cov - spread
        port.cov_u = cov + spread
        # Unused with Umu="none", but read by wc_optimization.
        port.d_mu = pd.DataFrame([np.zeros(n)], columns=returns.columns)
        port.cov_mu = cov
        port.k_mu = 0.0
        port.cov_sigma = pd.DataFrame(np.eye(n * n))
        port.k_sigma = 0.0
        port.solvers = ["CLARABEL"]
        port.sol_params = {"CLARABEL": TOL}
        w = port.wc_optimization(obj=obj, rf=0, l=0, Umu="none", Ucov="box")
        w = w.to_numpy().ravel()
        out["cases"].append({"objective": obj, "weights": [float(x) for x in w]})
        print(f"{obj:8} largest weight {w.max():.4f}, {int((w > 1e-6).sum())} held")
    y = cp.Variable(n, nonneg=True)
    upper = (cov + spread).to_numpy()
    cp.Problem(cp.Maximize(returns.mean().to_numpy() @ y), [cp.quad_form(y, upper) <= 1]).solve(
        solver="CLARABEL", **TOL)
    out["direct_sharpe"] = [float(x) for x in y.value / y.value.sum()]
    dest = ROOT / "tests" / "fixtures" / "robust_covariance_reference.json"
    dest.write_text(json.dumps(out))
    print(f"wrote {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
