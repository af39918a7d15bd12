#!/usr/bin/env python3
"""Entropy-pooling posteriors by skfolio, for the tests.

The last 2,000 daily simple returns of the bundled S&P 500 (20 stocks)
with equal prior probabilities, pooled by skfolio's EntropyPooling under
views on means (an equality, a ranking between two stocks, a bound) and
on variances (an equality, a bound), alone and together. The primal is
solved by Clarabel at tolerances of 1e-12 (skfolio's `solver="CLARABEL"`),
whose views hold to 1e-17, closer than its default dual solver's. Writes
tests/fixtures/entropy_pooling_reference.json with each case's posterior
probabilities, effective number of scenarios, mean and covariance;
tests/estimators.rs matches them.

    pip install skfolio==1.12.2
    python3 tools/reference/entropy_pooling.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import skfolio
from skfolio.prior import EntropyPooling

ROOT = pathlib.Path(__file__).resolve().parents[2]
TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12}
CASES = {
    "mean_equal": {"mean_views": ["AAPL == 0.002"]},
    "mean_ranking": {"mean_views": ["XOM <= 0.0", "AAPL - MSFT >= 0.0005"]},
    "variance_equal": {"variance_views": ["MSFT == 0.0004"]},
    "variance_bound": {"variance_views": ["JNJ >= 0.0002"]},
    "mean_and_variance": {"mean_views": ["AAPL == 0.002", "JPM >= BAC"], "variance_views": ["MSFT == 0.0004"]},
}


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().iloc[1:].iloc[-2000:]
    out = {"skfolio": skfolio.__version__, "first": str(returns.index[0].date()), "rows": len(returns), "cases": {}}
    for name, views in CASES.items():
        ep = EntropyPooling(**views, solver="CLARABEL", solver_params=TIGHT).fit(returns)
        d = ep.return_distribution_
        out["cases"][name] = {"views": views, "probabilities": d.sample_weight.tolist(),
                              "effective_scenarios": float(ep.effective_number_of_scenarios_),
                              "relative_entropy": float(ep.relative_entropy_),
                              "mean": d.mu.tolist(), "cov": d.covariance.tolist()}
    path = ROOT / "tests" / "fixtures" / "entropy_pooling_reference.json"
    path.write_text(json.dumps(out) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
