#!/usr/bin/env python3
"""Distributionally robust mean-CVaR, from skfolio.

On the last 500 daily simple returns of the bundled S&P 500 (20 stocks,
long-only, fully invested), skfolio's DistributionallyRobustCVaR
(risk_aversion 1, cvar_beta 0.95) with Clarabel at tight tolerances gives
the weights and the optimal worst-case objective for four Wasserstein
radii; writes tests/fixtures/dr_cvar_reference.json, which tests/robust.rs
matches.

    pip install skfolio==1.12.2
    python3 tools/reference/dr_cvar.py
"""
import json
import pathlib

import pandas as pd
from skfolio.optimization import DistributionallyRobustCVaR

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROWS = 500
BETA = 0.95
RISK_AVERSION = 1.0
RADII = [0.0, 0.001, 0.005, 0.02]
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna().iloc[-ROWS:]
    out = {"assets": list(returns.columns), "rows": len(returns), "beta": BETA, "risk_aversion": RISK_AVERSION,
           "radii": []}
    for radius in RADII:
        model = DistributionallyRobustCVaR(
            risk_aversion=RISK_AVERSION,
            cvar_beta=BETA,
            wasserstein_ball_radius=radius,
            solver="CLARABEL",
            solver_params=TOL,
        )
        model.fit(returns)
        out["radii"].append({
            "radius": radius,
            "weights": [float(x) for x in model.weights_],
            "objective": float(model.problem_values_["objective"]),
        })
        print(f"radius {radius:6}: objective {model.problem_values_['objective']:.10f}")
    dest = ROOT / "tests" / "fixtures" / "dr_cvar_reference.json"
    dest.write_text(json.dumps(out))
    print(f"wrote {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
