#!/usr/bin/env python3
"""Discrete allocation from PyPortfolioOpt.

Two targets on the bundled S&P 500 (20 stocks) at its latest prices (the
last row of data/sp500.csv): inverse-volatility weights (every asset held)
and PyPortfolioOpt's minimum-volatility weights on all 8,312 daily returns
(sparse, cleaned to 1e-4 and renormalised by clean_weights), each for an
account of 100,000 and of 10,000. For each, DiscreteAllocation's
lp_portfolio (on HiGHS through cvxpy) and greedy_portfolio: shares,
leftover cash, and the lp objective sum |p_i x_i - w_i V| + leftover.
Writes tests/fixtures/discrete_allocation_reference.json, which
tests/orders.rs matches.

    pip install pyportfolioopt==1.6.0
    python3 tools/reference/discrete_allocation.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
from pypfopt import EfficientFrontier, risk_models, expected_returns
from pypfopt.discrete_allocation import DiscreteAllocation

ROOT = pathlib.Path(__file__).resolve().parents[2]


def objective(weights, prices, value, shares, leftover):
    miss = sum(abs(prices[a] * shares.get(a, 0) - weights[a] * value) for a in weights)
    return miss + leftover


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    latest = prices.iloc[-1]
    returns = prices.pct_change().dropna()
    vol = returns.std()
    inverse = (1.0 / vol) / (1.0 / vol).sum()
    ef = EfficientFrontier(expected_returns.mean_historical_return(prices), risk_models.sample_cov(prices))
    ef.min_volatility()
    minvol = pd.Series(ef.clean_weights(cutoff=1e-4, rounding=None))
    minvol = minvol / minvol.sum()
    cases = []
    for name, w in [("inverse_volatility", inverse), ("min_volatility", minvol)]:
        weights = {a: float(w[a]) for a in prices.columns}
        for value in [100_000.0, 10_000.0]:
            da = DiscreteAllocation(weights, latest, total_portfolio_value=value)
            lp, lp_left = da.lp_portfolio(solver="HIGHS")
            da = DiscreteAllocation(weights, latest, total_portfolio_value=value)
            gr, gr_left = da.greedy_portfolio()
            cases.append({
                "target": name,
                "value": value,
                "weights": [weights[a] for a in prices.columns],
                "lp": {"shares": [int(lp.get(a, 0)) for a in prices.columns], "leftover": float(lp_left),
                       "objective": objective(weights, latest, value, lp, float(lp_left))},
                "greedy": {"shares": [int(gr.get(a, 0)) for a in prices.columns], "leftover": float(gr_left),
                           "objective": objective(weights, latest, value, gr, float(gr_left))},
            })
    out = {
        "source": "PyPortfolioOpt 1.6.0 DiscreteAllocation (lp_portfolio on HiGHS, greedy_portfolio)",
        "assets": list(prices.columns),
        "prices": [float(latest[a]) for a in prices.columns],
        "cases": cases,
    }
    path = ROOT / "tests" / "fixtures" / "discrete_allocation_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    for c in cases:
        print(c["target"], c["value"], "lp", round(c["lp"]["objective"], 4), "greedy", round(c["greedy"]["objective"], 4))


if __name__ == "__main__":
    main()
