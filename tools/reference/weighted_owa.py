#!/usr/bin/env python3
"""Ordered weighted averages on scenarios with probabilities, for the tests.

No peer weighs these measures by scenario probabilities (skfolio's Gini
mean difference ignores sample weights; Riskfolio-Lib's OWAs take equally
likely scenarios), so the reference is each measure's own definition,
written out in cvxpy with no sorting: the Gini mean difference as
sum over pairs of p_s p_t |x_s - x_t| / (1 - sum p^2); CVaR at a tail α
as min_t t + E_p[(loss - t)+] / α; tail Gini as Riskfolio-Lib's weighted
sum of CVaRs at 100 levels from 1e-4 to α; the range as the largest loss
plus the largest gain; the CVaR and tail Gini ranges as the losses' measure
plus the gains'. The scenarios are the last 250 daily simple returns of
the bundled S&P 500 (20 stocks), weighed by half-lives of 60 days (the
probabilities are written into the fixture). Long-only, fully invested,
Clarabel at 1e-10: the minimum of each measure (β 0.95), and the maximum
ratio of the probability-weighted mean return to tail Gini and to the
Gini mean difference (by the homogeneous program: minimum measure of y
with mean'y = 1, y >= 0, w = y / sum y). Writes
tests/fixtures/weighted_owa_reference.json; tests/weighted_scenarios.rs
matches it.

    pip install cvxpy==1.9.3
    python3 tools/reference/weighted_owa.py
"""
import json
import pathlib

import cvxpy as cp
import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
BETA = 0.95


def tail_gini_levels(alpha, m=100):
    levels = np.linspace(alpha, 1e-4, m)[::-1]
    top = levels[-1]
    omega = [levels[1] * levels[0] / top ** 2]
    omega += [(levels[i + 1] - levels[i - 1]) * levels[i] / top ** 2 for i in range(1, m - 1)]
    omega.append((levels[-1] - levels[-2]) / top)
    return list(zip(levels, omega))


def cvar(x, p, alpha):
    t = cp.Variable()
    return t + p @ cp.pos(-x - t) / alpha


def measure(name, R, p, y):
    x = R @ y
    alpha = 1 - BETA
    if name == "gmd":
        i, j = np.triu_indices(len(p), 1)
        coef = 2 * p[i] * p[j] / (1 - p @ p)
        return coef @ cp.abs((R[i] - R[j]) @ y)
    if name == "range":
        return cp.max(-x) + cp.max(x)
    if name == "cvar_range":
        return cvar(x, p, alpha) + cvar(-x, p, alpha)
    tg = lambda z: sum(o * cvar(z, p, a) for a, o in tail_gini_levels(alpha))
    if name == "tail_gini":
        return tg(x)
    if name == "tail_gini_range":
        return tg(x) + tg(-x)
    raise ValueError(name)


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().iloc[1:].iloc[-250:]
    R = returns.to_numpy()
    s, n = R.shape
    p = 2.0 ** (-(s - 1 - np.arange(s)) / 60.0)
    p /= p.sum()
    out = {"first": str(returns.index[0].date()), "last": str(returns.index[-1].date()),
           "assets": list(returns.columns), "probabilities": p.tolist(), "beta": BETA, "min_risk": {},
           "max_ratio": {}}
    for name in ["gmd", "tail_gini", "range", "cvar_range", "tail_gini_range"]:
        w = cp.Variable(n)
        risk = measure(name, R, p, w)
        prob = cp.Problem(cp.Minimize(risk), [w >= 0, cp.sum(w) == 1])
        prob.solve(solver=cp.CLARABEL, **TOL)
        assert prob.status == "optimal", (name, prob.status)
        out["min_risk"][name] = {"weights": w.value.tolist(), "value": float(prob.value)}
        print(f"min {name}: {prob.value:.10g}")
    mean = p @ R
    for name in ["tail_gini", "gmd"]:
        y = cp.Variable(n)
        prob = cp.Problem(cp.Minimize(measure(name, R, p, y)), [y >= 0, mean @ y == 1])
        prob.solve(solver=cp.CLARABEL, **TOL)
        assert prob.status == "optimal", (name, prob.status)
        w = y.value / y.value.sum()
        out["max_ratio"][name] = {"weights": w.tolist(), "ratio": float(1 / prob.value)}
        print(f"max ratio {name}: {1 / prob.value:.10g}")
    path = ROOT / "tests" / "fixtures" / "weighted_owa_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
