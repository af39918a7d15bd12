#!/usr/bin/env python3
"""Ordered-weighted-average risk measures: Riskfolio-Lib's weights and
values, optima by HiGHS.

On the last 250 daily simple returns of the first 10 bundled S&P 500
stocks (long-only, fully invested), for the Gini mean difference, tail
Gini, range, CVaR range and tail Gini range at alpha = 0.05 (both tails,
100 levels for the tail Gini):

- the OWA weights are Riskfolio-Lib's (riskfolio.src.OwaWeights) and each
  measure's value of a portfolio its RiskFunctions;
- the minimum-risk and maximum-ratio (r_f = 0) portfolios solve the exact
  linear program of an OWA with non-decreasing weights c, the dual of the
  assignment problem: min sum(a) + sum(b) s.t. a_i + b_k >= c_k p_i for
  every scenario i and rank k (the ratio homogenised: mean(y) = 1,
  sum(y) = kappa), with scipy's HiGHS. Riskfolio-Lib's own optimiser fails
  for the tail Gini here (no solution with Clarabel, HiGHS or ECOS in
  7.4.0), so every optimum comes from this formulation instead.

Writes tests/fixtures/owa_reference.json, which tests/owa.rs matches.

    pip install riskfolio-lib==7.4.0 scipy
    python3 tools/reference/owa.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import scipy.sparse as sp
from riskfolio.src import OwaWeights as ow
from riskfolio.src import RiskFunctions as rf
from scipy.optimize import linprog

ROOT = pathlib.Path(__file__).resolve().parents[2]
ALPHA = 0.05
SIM = 100
MEASURES = {
    "gmd": (lambda t: ow.owa_gmd(t), lambda x: rf.GMD(x)),
    "tail-gini": (lambda t: ow.owa_tg(t, ALPHA, SIM), lambda x: rf.TG(x, alpha=ALPHA, a_sim=SIM)),
    "range": (lambda t: ow.owa_rg(t), lambda x: rf.RG(x)),
    "cvar-range": (lambda t: ow.owa_cvrg(t, ALPHA, ALPHA), lambda x: rf.CVRG(x, alpha=ALPHA, beta=ALPHA)),
    "tail-gini-range": (lambda t: ow.owa_tgrg(t, ALPHA, SIM, ALPHA, SIM),
                        lambda x: rf.TGRG(x, alpha=ALPHA, a_sim=SIM, beta=ALPHA, b_sim=SIM)),
}


def solve(r, c, ratio):
    """Minimum OWA (or maximum mean / OWA) of r @ w, long-only, fully invested."""
    t, n = r.shape
    # Variables: y (n), a (t), b (t), kappa (1).
    nv = n + 2 * t + 1
    rows, cols, vals = [], [], []
    row = 0
    for i in range(t):
        for k in range(t):
            # c_k r_i . y - a_i - b_k <= 0
            rows += [row] * (n + 2)
            cols += list(range(n)) + [n + i, n + t + k]
            vals += list(c[k] * r[i]) + [-1.0, -1.0]
            row += 1
    a_ub = sp.csr_matrix((vals, (rows, cols)), shape=(row, nv))
    cost = np.r_[np.zeros(n), np.ones(2 * t), 0.0]
    if ratio:
        # mean(r) . y = 1, sum(y) = kappa.
        a_eq = np.vstack([np.r_[r.mean(axis=0), np.zeros(2 * t), 0.0], np.r_[np.ones(n), np.zeros(2 * t), -1.0]])
        b_eq = [1.0, 0.0]
    else:
        a_eq = np.r_[np.ones(n), np.zeros(2 * t), 0.0].reshape(1, -1)
        b_eq = [1.0]
    bounds = [(0, None)] * n + [(None, None)] * (2 * t) + [(0, None) if ratio else (0, 0)]
    res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(row), A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0, res.message
    y = res.x[:n]
    return y / res.x[-1] if ratio else y


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna().iloc[-250:, :10]
    r = returns.to_numpy()
    t = len(r)
    out = {"assets": list(returns.columns), "rows": t, "alpha": ALPHA, "measures": {}}
    for name, (weights, value) in MEASURES.items():
        c = np.asarray(weights(t)).ravel()
        assert np.all(np.diff(c) >= -1e-15), name
        entry = {"owa_weights": [float(x) for x in c]}
        for key, ratio in [("min_risk", False), ("max_ratio", True)]:
            w = solve(r, c, ratio)
            p = (r @ w).reshape(-1, 1)
            entry[key] = {"weights": [float(x) for x in w], "value": float(value(p))}
            print(f"{name:16} {key:9} {entry[key]['value']:.8f}")
        out["measures"][name] = entry
    # Each measure of 1/N's returns, by Riskfolio-Lib's definition.
    p = r.mean(axis=1).reshape(-1, 1)
    out["equal_weight"] = {name: float(value(p)) for name, (_, value) in MEASURES.items()}
    dest = ROOT / "tests" / "fixtures" / "owa_reference.json"
    dest.write_text(json.dumps(out))
    print(f"wrote {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
