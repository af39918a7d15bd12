#!/usr/bin/env python3
"""Reference turning points of the critical line algorithm, from
PyPortfolioOpt 1.6.0's CLA.

Data: the bundled S&P 500 panel (data/sp500.csv), full period, daily simple
returns; sample mean and sample covariance (ddof = 1) annualised with 252
periods a year, written into the fixture so both sides start from the same
numbers. Two problems: long-only (bounds 0 and 1) and bounded (0 to 0.15
per asset). For each: every turning point's weights and λ (None, the
maximum-return portfolio, is written as null) after PyPortfolioOpt's own
purges.

Writes tests/fixtures/cla_reference.json.

    pip install pyportfolioopt==1.6.0
    python3 tools/reference/cla.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
from pypfopt.cla import CLA

ROOT = pathlib.Path(__file__).resolve().parents[2]
K = 252.0

prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
R = prices.pct_change().dropna().to_numpy()
mu = R.mean(axis=0) * K
S = np.cov(R, rowvar=False, ddof=1) * K

cases = []
for name, bounds in [("long-only", (0.0, 1.0)), ("bounded", (0.0, 0.15))]:
    cla = CLA(pd.Series(mu, index=prices.columns), pd.DataFrame(S, index=prices.columns, columns=prices.columns),
              weight_bounds=bounds)
    cla._solve()
    cases.append({
        "name": name,
        "lower": bounds[0],
        "upper": bounds[1],
        "lambdas": [None if l is None else float(l) for l in cla.ls],
        "weights": [np.asarray(w).ravel().tolist() for w in cla.w],
    })
    print(f"{name}: {len(cla.w)} turning points")

out = {"assets": list(prices.columns), "mean": mu.tolist(), "cov": S.tolist(), "cases": cases}
(ROOT / "tests" / "fixtures" / "cla_reference.json").write_text(json.dumps(out, indent=1))
