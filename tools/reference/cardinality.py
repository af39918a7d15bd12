#!/usr/bin/env python3
"""Cardinality-constrained minimum CVaR from skfolio.

On all 8,312 daily simple returns of the bundled S&P 500 (20 stocks,
long-only, fully invested), skfolio's MeanRisk minimises CVaR at 95 %
holding at most 10 and at most 4 assets (cardinality=10, 4), as a mixed-
integer linear program on HiGHS through cvxpy (mip_rel_gap 1e-9). Writes
tests/fixtures/cardinality_reference.json: the weights and CVaR (the
linear program's, Rockafellar and Uryasev's) of each,
which tests/cardinality.rs matches (ours never worse).

    pip install skfolio==1.12.2 highspy==1.16.0
    python3 tools/reference/cardinality.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
from skfolio import RiskMeasure
from skfolio.optimization import MeanRisk

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cvar(p, beta=0.95):
    """Rockafellar and Uryasev's CVaR, the linear program's: the mean loss
    over the worst (1 - beta) S scenarios, the last one in part."""
    k = (1 - beta) * len(p)
    loss = np.sort(-p)[::-1]
    m = int(np.floor(k))
    return float((loss[:m].sum() + (k - m) * loss[m]) / k)


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna()
    out = {"source": "skfolio 1.12.2 MeanRisk(CVaR 95 %, cardinality) on HiGHS 1.16 through cvxpy",
           "assets": list(returns.columns), "rows": len(returns), "cases": []}
    for k in [10, 4]:
        model = MeanRisk(risk_measure=RiskMeasure.CVAR, cvar_beta=0.95, cardinality=k, solver="HIGHS",
                         solver_params={"mip_rel_gap": 1e-9})
        model.fit(returns.values)
        w = np.asarray(model.weights_)
        out["cases"].append({"k": k, "weights": w.tolist(), "cvar": cvar(returns.values @ w),
                             "held": int((np.abs(w) > 1e-7).sum())})
        print(k, out["cases"][-1]["cvar"], out["cases"][-1]["held"])
    path = ROOT / "tests" / "fixtures" / "cardinality_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
