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
(max mu'y s.t. y' S_u y <= 1, y >= 0, then w = y / sum y).

With short positions (a narrower box, width 0.02; sht, budget 1, budgetsht 0.3, uppersht 0.2:
-0.2 <= w <= 1, at most 0.3 short in total, so gross leverage <= 1.6)
the same two programs are solved by Riskfolio-Lib's SDP, and the worst
case is checked two ways in cvxpy: the semidefinite dual it is defined
by (min <U, A> - <L, B> with [[A - B, w], [w', 1]] PSD, A, B >= 0, on
SCS) and the second-order cone form w'Cw + |w|'R|w| (C, R the box's
centre and half-width, both PSD here, on Clarabel): the fixture holds
both minima, their values and the direct maximum worst-case Sharpe
ratio of the cone form. Writes
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
# Narrower, so that the long-short optima hold short positions.
SHORT_WIDTH = 0.02
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
        w = riskfolio_worst_case(returns, cov, spread, obj)
        out["cases"].append({"objective": obj, "weights": [float(x) for x in w]})
        print(f"{obj:8} largest weight {w.max():.4f}, {int((w > 1e-6).sum())} held")
    y = cp.Variable(n, nonneg=True)
    upper = (cov + spread).to_numpy()
    cp.Problem(cp.Maximize(returns.mean().to_numpy() @ y), [cp.quad_form(y, upper) <= 1]).solve(
        solver="CLARABEL", **TOL)
    out["direct_sharpe"] = [float(x) for x in y.value / y.value.sum()]
    out["short"] = long_short(returns, cov, SHORT_WIDTH * np.outer(s, s))
    dest = ROOT / "tests" / "fixtures" / "robust_covariance_reference.json"
    dest.write_text(json.dumps(out))
    print(f"wrote {dest.relative_to(ROOT)}")


def riskfolio_worst_case(returns, cov, spread, obj, **limits):
    """Riskfolio-Lib's weights for `obj` over the box cov -/+ spread."""
    n = returns.shape[1]
    port = rp.Portfolio(returns=returns, **limits)
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
    return w.to_numpy().ravel()


def long_short(returns, cov, spread):
    """Riskfolio-Lib's long-short worst cases, and cvxpy's two checks."""
    n = returns.shape[1]
    out = {"width": SHORT_WIDTH, "lower": -0.2, "upper": 1.0, "leverage": 1.6, "cases": []}
    for obj in ["MinRisk", "Sharpe"]:
        w = riskfolio_worst_case(returns, cov, spread, obj, sht=True, budget=1.0, budgetsht=0.3, uppersht=0.2,
                                 upperlng=1.0)
        out["cases"].append({"objective": obj, "weights": [float(x) for x in w]})
        print(f"short {obj:8} min weight {w.min():.4f}, gross {np.abs(w).sum():.4f}")
    c, r, mu = cov.to_numpy(), spread, returns.mean().to_numpy()
    lower, upper = (c - r), (c + r)
    # The worst case by its semidefinite definition, minimised.
    w = cp.Variable(n)
    a = cp.Variable((n, n), symmetric=True)
    b = cp.Variable((n, n), symmetric=True)
    block = cp.bmat([[a - b, cp.reshape(w, (n, 1), order="F")], [cp.reshape(w, (1, n), order="F"), np.ones((1, 1))]])
    sdp = cp.Problem(
        cp.Minimize(cp.trace(a @ upper) - cp.trace(b @ lower)),
        [block >> 0, a >= 0, b >= 0, cp.sum(w) == 1, w >= -0.2, w <= 1, cp.norm1(w) <= 1.6])
    sdp.solve(solver="SCS", eps=1e-10, max_iters=200000)
    out["sdp_min"] = {"weights": [float(x) for x in w.value], "value": float(sdp.value), "status": sdp.status}
    # The same worst case as a cone program.
    v = cp.Variable(n)
    g = np.linalg.cholesky(c)
    e, vec = np.linalg.eigh(r)
    h = vec[:, e > 1e-12 * e.max()] * np.sqrt(e[e > 1e-12 * e.max()])
    soc = cp.Problem(
        cp.Minimize(cp.sum_squares(g.T @ w) + cp.sum_squares(h.T @ v)),
        [v >= w, v >= -w, cp.sum(w) == 1, w >= -0.2, w <= 1, cp.norm1(w) <= 1.6])
    soc.solve(solver="CLARABEL", **TOL)
    out["cone_min"] = {"weights": [float(x) for x in w.value], "value": float(soc.value)}
    print(f"short minimum worst-case variance: SDP {sdp.value:.10e} ({sdp.status}), cone {soc.value:.10e}")
    y = cp.Variable(n)
    ratio = cp.Problem(
        cp.Maximize(mu @ y),
        [cp.sum_squares(g.T @ y) + cp.sum_squares(h.T @ v) <= 1, v >= y, v >= -y, cp.sum(y) >= 0,
         y >= -0.2 * cp.sum(y), y <= cp.sum(y), cp.norm1(y) <= 1.6 * cp.sum(y)])
    ratio.solve(solver="CLARABEL", **TOL)
    out["cone_sharpe"] = [float(x) for x in y.value / y.value.sum()]
    return out


if __name__ == "__main__":
    main()
