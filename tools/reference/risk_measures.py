#!/usr/bin/env python3
"""Minimum-risk portfolios for every scenario risk measure, from skfolio.

On the bundled S&P 500 (all 8,312 daily simple returns, long-only, fully
invested), skfolio's MeanRisk(MINIMIZE_RISK) with Clarabel at tight
tolerances gives the weights and the measure's value for each measure
(EDaR's on the last 2,000 days), the minimum first and second lower partial
moments below a minimum acceptable return, skfolio's value at risk and
drawdown at risk of the minimum-CVaR portfolio, and MAXIMIZE_RATIO and MINIMIZE_RISK at a
target return the weights for variance, CVaR and CDaR (for EDaR, the ratio
only: at a target its Clarabel solve fails at these tolerances), and
EDaR's minimum on all 8,312 days from the drawdowns' recursion in cvxpy
(see edar_all_days); writes tests/fixtures/risk_measures_reference.json, which
tests/risk_measures.rs matches.

    pip install skfolio==1.12.2 cvxpy==1.9.3 clarabel==0.11.1
    python3 tools/reference/risk_measures.py
"""
import json
import pathlib

import cvxpy as cp
import numpy as np
import pandas as pd
from skfolio import RiskMeasure
from skfolio.measures import drawdown_at_risk, get_drawdowns, value_at_risk
from skfolio.optimization import MeanRisk, ObjectiveFunction

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEASURES = {
    "mad": RiskMeasure.MEAN_ABSOLUTE_DEVIATION,
    "semi-deviation": RiskMeasure.SEMI_DEVIATION,
    "flpm": RiskMeasure.FIRST_LOWER_PARTIAL_MOMENT,
    "cvar": RiskMeasure.CVAR,
    "evar": RiskMeasure.EVAR,
    "worst": RiskMeasure.WORST_REALIZATION,
    "max-drawdown": RiskMeasure.MAX_DRAWDOWN,
    "average-drawdown": RiskMeasure.AVERAGE_DRAWDOWN,
    "cdar": RiskMeasure.CDAR,
    "ulcer": RiskMeasure.ULCER_INDEX,
    "edar": RiskMeasure.EDAR,
    "semi-variance": RiskMeasure.SEMI_VARIANCE,
}
# Lower partial moments below a minimum acceptable return (per day, the
# same for every asset: for a fully invested portfolio, the portfolio's).
MAR = 0.0003
BELOW_MAR = {"flpm": RiskMeasure.FIRST_LOWER_PARTIAL_MOMENT, "slpm": RiskMeasure.SEMI_DEVIATION}
# EDaR's minimum on all 8,312 days is flagged inaccurate by skfolio, and
# Clarabel stops short of its tolerance on ours: its minimum is taken on
# the last 2,000 days.
ROWS = {"edar": 2000}
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}


def edar_all_days(returns, beta=0.95):
    """Minimum EDaR on all days, where skfolio's program is flagged
    inaccurate: the drawdowns written by their recursion d_s >= 0,
    d_s >= d_{s-1} - r_s.w (every coefficient one day's return, not a
    cumulative sum), EDaR with exponential cones, the returns in percent
    (EDaR is homogeneous in them), Clarabel at 1e-10 with steps of 0.8 of
    the way to the boundary (at its default 0.99 it fails)."""
    r = 100 * returns.to_numpy()
    s, n = r.shape
    w, d = cp.Variable(n, nonneg=True), cp.Variable(s, nonneg=True)
    p = r @ w
    t, z, u = cp.Variable(), cp.Variable(nonneg=True), cp.Variable(s)
    cons = [cp.sum(w) == 1, d[0] >= -p[0], d[1:] >= d[:-1] - p[1:],
            cp.constraints.ExpCone(d - t, z * np.ones(s), u), cp.sum(u) <= s * z]
    prob = cp.Problem(cp.Minimize(t + z * np.log(1 / (1 - beta))), cons)
    prob.solve(solver="CLARABEL", max_step_fraction=0.8, **TOL)
    assert prob.status == "optimal", prob.status
    return {"rows": s, "weights": [float(x) for x in w.value], "value": float(prob.value) / 100}


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna()
    out = {"assets": list(returns.columns), "rows": len(returns), "beta": 0.95, "measures": {}}
    for name, measure in MEASURES.items():
        sample = returns.iloc[-ROWS[name]:] if name in ROWS else returns
        model = MeanRisk(
            objective_function=ObjectiveFunction.MINIMIZE_RISK,
            risk_measure=measure,
            cvar_beta=0.95,
            evar_beta=0.95,
            cdar_beta=0.95,
            edar_beta=0.95,
            solver="CLARABEL",
            solver_params=TOL,
        )
        model.fit(sample)
        ptf = model.predict(sample)
        w = model.weights_
        p = sample.to_numpy() @ w
        out["measures"][name] = {
            "rows": len(sample),
            "weights": [float(x) for x in w],
            "value": float(getattr(ptf, measure.value)),
            "first_returns": [float(x) for x in p[:3]],
        }
        print(f"{name:18} {out['measures'][name]['value']:.8f}")
    # Maximum return/risk ratio, and minimum risk at a target mean return
    # (halfway between the minimum-risk portfolio's mean and the best asset's).
    out["ratio"], out["target"] = {}, {}
    best_asset = float(returns.mean().max())
    for name in ["variance", "cvar", "cdar", "edar"]:
        measure = RiskMeasure.VARIANCE if name == "variance" else MEASURES[name]
        common = dict(risk_measure=measure, cvar_beta=0.95, cdar_beta=0.95, edar_beta=0.95, solver="CLARABEL",
                      solver_params=TOL)
        ratio = MeanRisk(objective_function=ObjectiveFunction.MAXIMIZE_RATIO, risk_free_rate=0.0, **common).fit(returns)
        out["ratio"][name] = [float(x) for x in ratio.weights_]
        if name == "edar":
            continue
        low = MeanRisk(objective_function=ObjectiveFunction.MINIMIZE_RISK, **common).fit(returns)
        target = 0.5 * (float(returns.mean().to_numpy() @ low.weights_) + best_asset)
        at = MeanRisk(objective_function=ObjectiveFunction.MINIMIZE_RISK, min_return=target, **common).fit(returns)
        out["target"][name] = {"target": target, "weights": [float(x) for x in at.weights_]}
        print(f"{name:18} ratio and target {target:.6f} done")
    # Below a minimum acceptable return: the weights, and the measure of
    # their returns by its definition.
    out["mar"] = {"mar": MAR}
    for name, measure in BELOW_MAR.items():
        w = MeanRisk(objective_function=ObjectiveFunction.MINIMIZE_RISK, risk_measure=measure,
                     min_acceptable_return=MAR, solver="CLARABEL", solver_params=TOL).fit(returns).weights_
        short = np.maximum(MAR - returns.to_numpy() @ w, 0.0)
        value = short.mean() if name == "flpm" else np.sqrt((short ** 2).sum() / (len(short) - 1))
        out["mar"][name] = {"weights": [float(x) for x in w], "value": float(value)}
        print(f"{name:18} below {MAR}: {value:.8f}")
    # Value at risk and drawdown at risk (measured, not optimised) of the
    # minimum-CVaR portfolio's returns, on all days (β·S = 7,896.4) and on
    # the first 100 (β·S = 95, where the boundary rule decides).
    p = returns.to_numpy() @ np.array(out["measures"]["cvar"]["weights"])
    out["quantiles"] = []
    for rows in [len(p), 100]:
        q = p[:rows]
        out["quantiles"].append({
            "rows": rows,
            "beta": 0.95,
            "var": float(value_at_risk(q, beta=0.95)),
            "dar": float(drawdown_at_risk(get_drawdowns(q, compounded=False), beta=0.95)),
        })
    out["edar_all_days"] = edar_all_days(returns)
    print(f"edar, all days     {out['edar_all_days']['value']:.10f}")
    dest = ROOT / "tests" / "fixtures" / "risk_measures_reference.json"
    dest.write_text(json.dumps(out, indent=1))
    print(f"wrote {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
