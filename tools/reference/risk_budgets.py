#!/usr/bin/env python3
"""Risk-budgeting portfolios for every risk measure on the full sample,
for the tests of risk budgeting.

All 8,312 daily simple returns of the bundled S&P 500 (20 stocks), equal
budgets, long-only and fully invested. Each case is solved twice:

- by Riskfolio-Lib's rp_optimization (Clarabel at 1e-10), with its own
  Risk_Contribution of the weights it returns, where it has the measure
  and finds a solution;
- by the log-barrier program min risk(y) - sum_i b_i ln y_i, y >= 0,
  read back as w = y / sum(y), written here in cvxpy and solved by
  Clarabel at 1e-10 (the semideviation and EVaR by scipy, see smooth()):
  the reference for every measure, including those
  Riskfolio-Lib does not budget (FLPM below the mean, the worst
  realisation, the maximum and average drawdown).

The tail measures (CVaR, EVaR, CDaR) at alpha = 0.10, 0.05 and 0.01 (the
crate's beta = 1 - alpha). Drawdowns are of uncompounded cumulative
returns with the start a peak; dispersion measures are about the sample
mean, with ddof 1 for the deviations. Writes
tests/fixtures/risk_budgets_reference.json.

    pip install riskfolio-lib==7.4.0 cvxpy==1.9.3 clarabel==0.11.1 scipy==1.17.1
    python3 tools/reference/risk_budgets.py
"""
import json
import pathlib
import sys
import warnings

import cvxpy as cp
import numpy as np
import pandas as pd
import riskfolio as rp
from riskfolio.src import OwaWeights as ow
from scipy.optimize import minimize

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
ALPHAS = [0.10, 0.05, 0.01]
# (case name, Riskfolio-Lib's code or None, alpha or None)
CASES = (
    [("std", "MV", None), ("mad", "MAD", None), ("semi_deviation", "MSV", None), ("flpm", None, None)]
    + [(f"{m}_{a}", code, a) for m, code in [("cvar", "CVaR"), ("evar", "EVaR"), ("cdar", "CDaR")] for a in ALPHAS]
    + [("worst", None, None), ("max_drawdown", None, None), ("average_drawdown", None, None), ("ulcer", "UCI", None)]
)
# The measures added later, each on the last `rows` days (None: all):
# (case name, Riskfolio-Lib's code or None, alpha or None, rows). The
# lower partial moments are below 0, Riskfolio-Lib's r_f. The ordered
# weighted averages on 250 days: the exact program has a row per scenario
# and rank (62,500 here), and Riskfolio-Lib budgets them through its
# power-cone approximation, so only the log-barrier program is exact. The
# relativistic measures (kappa 0.3) on 1,000 days, Riskfolio-Lib's alone.
OWA_ROWS = 250
MORE = [
    ("edar_0.05", "EDaR", 0.05, None),
    ("slpm", "SLPM", None, None),
    ("flpm_zero", "FLPM", None, None),
    ("gmd", "GMD", None, OWA_ROWS),
    ("tail_gini_0.05", "TG", 0.05, OWA_ROWS),
    ("range", None, None, OWA_ROWS),
    ("cvar_range_0.05", "CVRG", 0.05, OWA_ROWS),
    ("tail_gini_range_0.05", "TGRG", 0.05, OWA_ROWS),
    ("rlvar_0.05", "RLVaR", 0.05, 1000),
    ("rldar_0.05", "RLDaR", 0.05, 1000),
]
KAPPA = 0.3
TAIL_GINI_LEVELS = 100
OWA = {
    "gmd": lambda t, a: ow.owa_gmd(t),
    "tail_gini": lambda t, a: ow.owa_tg(t, a, TAIL_GINI_LEVELS),
    "range": lambda t, a: ow.owa_rg(t),
    "cvar_range": lambda t, a: ow.owa_cvrg(t, a, a),
    "tail_gini_range": lambda t, a: ow.owa_tgrg(t, a, TAIL_GINI_LEVELS, a, TAIL_GINI_LEVELS),
}
WITH_ALPHA = ("cvar", "evar", "cdar", "edar", "tail_gini", "cvar_range", "tail_gini_range", "rlvar", "rldar")


def risk(name, r, y):
    """The measure of the portfolio returns r @ y, as a cvxpy expression
    with its constraints."""
    s, n = r.shape
    dev = (r - r.mean(axis=0)) @ y
    loss = -r @ y
    cons = []
    kind = name.split("_0")[0]
    alpha = float(name.rsplit("_", 1)[1]) if kind in WITH_ALPHA else None
    if kind in ("cdar", "max_drawdown", "average_drawdown", "ulcer", "edar"):
        cum = np.cumsum(r, axis=0) @ y
        peak = cp.Variable(s)
        cons += [peak >= cum, peak[1:] >= peak[:-1], peak[0] >= 0]
        dd = peak - cum
    if kind == "std":
        # The same norm through the covariance's Cholesky factor: 20 rows
        # instead of 8,312.
        return cp.norm(np.linalg.cholesky(np.cov(r, rowvar=False)).T @ y), cons
    if kind == "mad":
        return cp.sum(cp.abs(dev)) / s, cons
    if kind == "flpm":
        return cp.sum(cp.neg(dev)) / s, cons
    if kind == "worst":
        return cp.max(loss), cons
    if kind in ("cvar", "cdar"):
        x = loss if kind == "cvar" else dd
        a = cp.Variable()
        return a + cp.sum(cp.pos(x - a)) / (alpha * s), cons
    if kind in ("evar", "edar"):
        x = loss if kind == "evar" else dd
        t, z, u = cp.Variable(), cp.Variable(nonneg=True), cp.Variable(s)
        cons += [cp.constraints.ExpCone(x - t, z * np.ones(s), u), cp.sum(u) <= s * z]
        return t + z * np.log(1.0 / alpha), cons
    if kind == "slpm":
        return cp.norm(cp.neg(r @ y)) / np.sqrt(s - 1), cons
    if kind == "flpm_zero":
        return cp.sum(cp.neg(r @ y)) / s, cons
    if kind in OWA:
        # An OWA with non-decreasing weights c on the sorted returns p_(k):
        # c_1 sum(p) + sum_k (c_k - c_{k-1}) (the s - k + 1 largest of p),
        # each a convex sum_largest; only the ranks where c steps enter.
        c = np.asarray(OWA[kind](s, alpha)).ravel()
        steps = np.diff(c)
        assert np.all(steps >= -1e-15), name
        p = r @ y
        terms = [c[0] * cp.sum(p)]
        terms += [step * cp.sum_largest(p, s - k) for k, step in enumerate(steps, start=1) if step > 1e-15]
        return cp.sum(terms), cons
    if kind == "max_drawdown":
        return cp.max(dd), cons
    if kind == "average_drawdown":
        return cp.sum(dd) / s, cons
    if kind == "ulcer":
        return cp.norm(dd) / np.sqrt(s), cons
    raise ValueError(name)


def smooth(name, r):
    """The semideviation and EVaR programs, which Clarabel does not solve
    to any tolerance on 8,312 scenarios through cvxpy: the same log-barrier
    objective (for EVaR jointly in y and the EVaR's z, which keeps it
    smooth and convex) minimised by scipy's L-BFGS-B over the logarithms
    of the variables, from exact gradients, to a gradient of 1e-12."""
    s, n = r.shape
    x = 100 * r
    d = x - x.mean(axis=0)
    alpha = float(name.rsplit("_", 1)[1]) if name.startswith("evar") else None

    def f(v):
        y = np.exp(v[:n])
        if alpha is None:
            # The semivariance: budgets of a measure homogeneous of degree
            # 2 give the same normalised weights as its square root's.
            neg = np.minimum(d @ y, 0.0)
            value, grad = neg @ neg / (s - 1), 2.0 * d.T @ neg / (s - 1)
        else:
            z = np.exp(v[n])
            e = -x @ y / z
            top = e.max()
            p = np.exp(e - top)
            total = p.sum()
            p /= total
            phi = top + np.log(total) - np.log(alpha * s)
            value = z * phi
            grad = -x.T @ p
            dz = phi - e @ p
        obj = value - np.log(y).sum() / n
        g = grad * y - 1.0 / n
        if alpha is not None:
            g = np.append(g, dz * z)
        return obj, g

    start = np.full(n + (alpha is not None), 0.0)
    res = minimize(f, start, jac=True, method="L-BFGS-B", options={"ftol": 0.0, "gtol": 1e-12, "maxiter": 10000})
    y = np.exp(res.x[:n])
    return {"weights": (y / y.sum()).tolist(), "status": f"L-BFGS-B: {res.message}", "gradient": float(np.abs(res.jac).max())}


def log_barrier(name, r):
    if name.startswith(("semi_deviation", "evar")):
        return smooth(name, r)
    n = r.shape[1]
    y = cp.Variable(n, pos=True)
    # Returns in percent: every measure is homogeneous in them, and the
    # risk term is then of the log terms' order.
    rho, cons = risk(name, 100 * r, y)
    prob = cp.Problem(cp.Minimize(rho - cp.sum(cp.log(y)) / n), cons)
    # The tightest tolerance Clarabel reaches, recorded with the weights;
    # at each, steps of 0.99 of the way to the boundary (its default), then
    # of 0.8, which some of these programs need to make progress.
    attempts = [(tol, step) for tol in [1e-10, 1e-9, 1e-8] for step in [0.99, 0.8]]
    for tol, step in attempts:
        try:
            prob.solve(solver="CLARABEL", tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol, max_iter=500,
                       max_step_fraction=step)
        except cp.error.SolverError:
            continue
        if prob.status == "optimal":
            break
    if y.value is None:
        return {"weights": None, "status": "Clarabel failed at every tolerance", "tolerance": tol}
    w = y.value / y.value.sum()
    return {"weights": w.tolist(), "status": prob.status, "tolerance": tol}


def riskfolio(code, alpha, returns):
    port = rp.Portfolio(returns=returns, alpha=alpha or 0.05, kappa=KAPPA)
    port.assets_stats(method_mu="hist", method_cov="hist")
    port.solvers = ["CLARABEL"]
    port.sol_params = {"CLARABEL": TOL}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = port.rp_optimization(model="Classic", rm=code, rf=0, b=None, hist=True)
    if w is None:
        return None
    out = {"weights": [float(x) for x in w["weights"].values]}
    try:
        rc = rp.Risk_Contribution(w, returns=returns, cov=port.cov, rm=code, rf=0, alpha=alpha or 0.05)
        out["contributions"] = [float(x) for x in np.ravel(rc)]
    except Exception as e:  # noqa: BLE001  (its contributions fail for some measures; the weights stand)
        out["contributions_error"] = str(e)
    return out


def main(names):
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    all_returns = prices.pct_change().dropna()
    path = ROOT / "tests" / "fixtures" / "risk_budgets_reference.json"
    out = {
        "source": "cvxpy 1.9.3 log-barrier program and riskfolio-lib 7.4.0 rp_optimization, Clarabel 0.11.1 at 1e-10",
        "cases": {},
    }
    if names:
        out = json.loads(path.read_text())
    cases = [(name, code, alpha, None) for name, code, alpha in CASES] + MORE
    for name, code, alpha, rows in cases:
        if names and name not in names:
            continue
        returns = all_returns if rows is None else all_returns.iloc[-rows:]
        r = returns.to_numpy()
        case = {"log_barrier": log_barrier(name, r)} if not name.startswith("rl") else {}
        if rows is not None:
            case["rows"] = rows
        if code is not None:
            case["riskfolio"] = riskfolio(code, alpha, returns)
        out["cases"][name] = case
        found = "no Riskfolio case" if code is None else ("Riskfolio: none" if case["riskfolio"] is None else "Riskfolio: solved")
        solved = case.get("log_barrier")
        if code is not None and case["riskfolio"] is not None and solved and solved["weights"] is not None:
            gap = np.abs(np.array(case["riskfolio"]["weights"]) - np.array(solved["weights"])).max()
            found += f", weights {gap:.1e} from the log-barrier program"
        if solved:
            how = f"at {solved['tolerance']:.0e}" if "tolerance" in solved else f"gradient {solved['gradient']:.0e}"
            found = f"{solved['status']} {how}; {found}"
        print(f"{name}: {found}", flush=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
