#!/usr/bin/env python3
"""Exact maximum-ratio and minimum-risk portfolios for linear risk
measures, by HiGHS's dual simplex through scipy (a vertex, not an interior
point), for the tests that hold the crate's answers to the optimal vertex.

On the first 1,000, the first 4,000 and all 8,312 daily simple returns of
the bundled S&P 500 (20 stocks), long-only and fully invested, the maximum
of mean / risk with the mean the sample mean of the same rows, for CVaR
(95 %), CDaR (95 %) and the maximum drawdown (uncompounded cumulative
returns, the start a peak). Each is the homogenised linear program
min risk(y) s.t. mean·y = 1, sum(y) = kappa, y >= 0, kappa >= 0, read back
as w = y / kappa. Minimum risk, long-only and fully invested, for MAD,
FLPM (below the mean), the worst realisation, CVaR, the maximum and the
average drawdown and CDaR on the same rows, and each again at a target
mean return halfway from the minimum's to the best asset's. Writes
tests/fixtures/exact_lp_reference.json.

    pip install scipy==1.17.1 pandas numpy
    python3 tools/reference/exact_lp.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import scipy
import scipy.sparse as sp
from scipy.optimize import linprog

ROOT = pathlib.Path(__file__).resolve().parents[2]
LENGTHS = [1000, 4000, 8312]
BETA = 0.95


def max_ratio(r, measure):
    s, n = r.shape
    mu = r.mean(axis=0)
    # Variables: y (n), kappa, then the measure's.
    blocks_ub, b_ub, blocks_eq, b_eq = [], [], [], []
    if measure == "cvar":
        # alpha, z (s): min alpha + sum z / ((1 - beta) s); -r y - alpha - z <= 0.
        nv = n + 1 + 1 + s
        c = np.zeros(nv)
        c[n + 1] = 1.0
        c[n + 2:] = 1.0 / ((1 - BETA) * s)
        a = sp.hstack([sp.csr_matrix(-r), sp.csr_matrix((s, 1)), -sp.csr_matrix(np.ones((s, 1))), -sp.identity(s)])
        blocks_ub.append(a)
        b_ub.append(np.zeros(s))
        bounds = [(0, None)] * n + [(0, None), (None, None)] + [(0, None)] * s
    else:
        cum = np.cumsum(r, axis=0)
        # u (s): C y - u <= 0; u_{k-1} - u_k <= 0; u_0 >= 0 (a bound).
        diff = sp.diags([np.ones(s - 1), -np.ones(s - 1)], [0, 1], shape=(s - 1, s))
        if measure == "cdar":
            # then alpha, z (s): u - C y - alpha - z <= 0.
            nv = n + 1 + s + 1 + s
            c = np.zeros(nv)
            c[n + 1 + s] = 1.0
            c[n + 2 + s:] = 1.0 / ((1 - BETA) * s)
            zero1 = sp.csr_matrix((s, 1))
            blocks_ub += [
                sp.hstack([sp.csr_matrix(cum), zero1, -sp.identity(s), zero1, sp.csr_matrix((s, s))]),
                sp.hstack([sp.csr_matrix((s - 1, n + 1)), diff, sp.csr_matrix((s - 1, 1 + s))]),
                sp.hstack([sp.csr_matrix(-cum), zero1, sp.identity(s), -sp.csr_matrix(np.ones((s, 1))), -sp.identity(s)]),
            ]
            b_ub += [np.zeros(s), np.zeros(s - 1), np.zeros(s)]
            bounds = [(0, None)] * n + [(0, None)] + [(0, None)] * s + [(None, None)] + [(0, None)] * s
        else:
            # then t: u - C y - t <= 0.
            nv = n + 1 + s + 1
            c = np.zeros(nv)
            c[-1] = 1.0
            zero1 = sp.csr_matrix((s, 1))
            blocks_ub += [
                sp.hstack([sp.csr_matrix(cum), zero1, -sp.identity(s), zero1]),
                sp.hstack([sp.csr_matrix((s - 1, n + 1)), diff, sp.csr_matrix((s - 1, 1))]),
                sp.hstack([sp.csr_matrix(-cum), zero1, sp.identity(s), -sp.csr_matrix(np.ones((s, 1)))]),
            ]
            b_ub += [np.zeros(s), np.zeros(s - 1), np.zeros(s)]
            bounds = [(0, None)] * n + [(0, None)] + [(0, None)] * s + [(None, None)]
    eq = sp.lil_matrix((2, nv))
    eq[0, :n] = mu
    eq[1, :n] = 1.0
    eq[1, n] = -1.0
    res = linprog(c, A_ub=sp.vstack(blocks_ub).tocsr(), b_ub=np.concatenate(b_ub), A_eq=eq.tocsr(),
                  b_eq=np.array([1.0, 0.0]), bounds=bounds, method="highs-ds",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0, res.message
    y, kappa = res.x[:n], res.x[n]
    return (y / kappa).tolist()


def min_risk(r, measure, target=None):
    """min rho(w) s.t. sum(w) = 1, w >= 0 (and mean.w >= target), as a
    linear program."""
    s, n = r.shape
    mu = r.mean(axis=0)
    centred = r - mu
    rows, rhs, c_aux, bounds_aux = [], [], [], []

    def block(coeff_w, coeff_aux):
        rows.append(sp.hstack([sp.csr_matrix(coeff_w), coeff_aux]))

    if measure in ("mad", "flpm"):
        # d_s >= -(r_s - mu) w (and, for MAD, >= (r_s - mu) w); min mean d.
        m = s
        block(-centred, -sp.identity(s))
        rhs.append(np.zeros(s))
        if measure == "mad":
            block(centred, -sp.identity(s))
            rhs.append(np.zeros(s))
        c_aux = np.full(m, 1.0 / s)
        bounds_aux = [(0, None)] * m
    elif measure == "worst":
        block(-r, -sp.csr_matrix(np.ones((s, 1))))
        rhs.append(np.zeros(s))
        c_aux, bounds_aux = np.array([1.0]), [(None, None)]
    elif measure == "cvar":
        # alpha, z: -r w - alpha - z <= 0.
        block(-r, sp.hstack([-sp.csr_matrix(np.ones((s, 1))), -sp.identity(s)]))
        rhs.append(np.zeros(s))
        c_aux = np.concatenate([[1.0], np.full(s, 1.0 / ((1 - BETA) * s))])
        bounds_aux = [(None, None)] + [(0, None)] * s
    else:
        cum = np.cumsum(r, axis=0)
        diff = sp.diags([np.ones(s - 1), -np.ones(s - 1)], [0, 1], shape=(s - 1, s))
        extra = {"max_drawdown": 1, "average_drawdown": 0, "cdar": 1 + s}[measure]
        pad = lambda k: sp.csr_matrix((k, extra))  # noqa: E731
        # u: C w - u <= 0; u_{k-1} - u_k <= 0.
        block(cum, sp.hstack([-sp.identity(s), pad(s)]))
        block(np.zeros((s - 1, n)), sp.hstack([diff, pad(s - 1)]))
        rhs += [np.zeros(s), np.zeros(s - 1)]
        if measure == "max_drawdown":
            block(-cum, sp.hstack([sp.identity(s), -sp.csr_matrix(np.ones((s, 1)))]))
            rhs.append(np.zeros(s))
            c_aux = np.concatenate([np.zeros(s), [1.0]])
            bounds_aux = [(0, None)] * s + [(None, None)]
        elif measure == "average_drawdown":
            c_aux = np.full(s, 1.0 / s)
            bounds_aux = [(0, None)] * s
        else:
            block(-cum, sp.hstack([sp.identity(s), -sp.csr_matrix(np.ones((s, 1))), -sp.identity(s)]))
            rhs.append(np.zeros(s))
            c_aux = np.concatenate([np.zeros(s), [1.0], np.full(s, 1.0 / ((1 - BETA) * s))])
            bounds_aux = [(0, None)] * s + [(None, None)] + [(0, None)] * s
    c = np.zeros(n)
    if measure == "average_drawdown":
        # mean(u - C w): the weights' part.
        c = -np.cumsum(r, axis=0).sum(axis=0) / s
    c = np.concatenate([c, c_aux])
    if target is not None:
        block(-mu[None, :], sp.csr_matrix((1, len(c_aux))))
        rhs.append(np.array([-target]))
    eq = sp.hstack([sp.csr_matrix(np.ones((1, n))), sp.csr_matrix((1, len(c_aux)))])
    res = linprog(c, A_ub=sp.vstack(rows).tocsr(), b_ub=np.concatenate(rhs), A_eq=eq.tocsr(), b_eq=np.array([1.0]),
                  bounds=[(0, None)] * n + bounds_aux, method="highs-ds",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0, res.message
    return res.x[:n].tolist()


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    r = prices.pct_change().dropna().values
    out = {"source": f"scipy {scipy.__version__} linprog(method='highs-ds')", "beta": BETA}
    for length in LENGTHS:
        for measure in ["cvar", "cdar", "max_drawdown"]:
            out[f"{measure}_{length}"] = max_ratio(r[:length], measure)
            print(f"{measure} on {length} rows done")
        mu = r[:length].mean(axis=0)
        for measure in ["mad", "flpm", "worst", "cvar", "max_drawdown", "average_drawdown", "cdar"]:
            w = min_risk(r[:length], measure)
            out[f"min_{measure}_{length}"] = w
            # Halfway from the minimum's mean return to the best asset's.
            target = float(mu @ np.array(w) + 0.5 * (mu.max() - mu @ np.array(w)))
            out[f"target_{measure}_{length}"] = {"target": target, "weights": min_risk(r[:length], measure, target)}
            print(f"minimum {measure} on {length} rows done, and at a target")
    path = ROOT / "tests" / "fixtures" / "exact_lp_reference.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
