#!/usr/bin/env python3
"""Entropy-pooling posteriors by skfolio, for the tests.

The last 2,000 daily simple returns of the bundled S&P 500 (20 stocks)
with equal prior probabilities, pooled by skfolio's EntropyPooling under
views on means (an equality, a ranking between two stocks, a bound), on
variances (an equality, a bound), on correlations, skewness, kurtosis,
values at risk and CVaR, alone and together. The primal is solved by
Clarabel at tolerances of 1e-12 (skfolio's `solver="CLARABEL"`), whose
views hold to 1e-17, closer than its default dual solver's. A CVaR view
is solved by skfolio with Brent's method on the VaR level at a tolerance
of 1e-4; here that tolerance is 1e-15, so the level is the root itself
(the posterior's 95% quantile of the loss) rather than a point within
1e-4 of it. Writes
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
import scipy.optimize
import skfolio
from skfolio.prior import EntropyPooling

_root_scalar = scipy.optimize.root_scalar


def _tight_root_scalar(f, **kwargs):
    """skfolio's CVaR root search, to the root instead of within 1e-4."""
    return _root_scalar(f, **{**kwargs, "xtol": 1e-15, "rtol": 1e-15, "maxiter": 500})


scipy.optimize.root_scalar = _tight_root_scalar

ROOT = pathlib.Path(__file__).resolve().parents[2]
TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12}
CASES = {
    "mean_equal": {"mean_views": ["AAPL == 0.002"]},
    "mean_ranking": {"mean_views": ["XOM <= 0.0", "AAPL - MSFT >= 0.0005"]},
    "variance_equal": {"variance_views": ["MSFT == 0.0004"]},
    "variance_bound": {"variance_views": ["JNJ >= 0.0002"]},
    "mean_and_variance": {"mean_views": ["AAPL == 0.002", "JPM >= BAC"], "variance_views": ["MSFT == 0.0004"]},
    "correlation_equal": {"correlation_views": ["(AAPL, MSFT) == 0.5"]},
    "correlation_bound": {"correlation_views": ["(JPM, BAC) <= 0.8"]},
    "skew": {"skew_views": ["KO == -0.2"]},
    "kurtosis": {"kurtosis_views": ["AMD <= 12.0"]},
    "value_at_risk": {"value_at_risk_views": ["AMD == 0.07"], "value_at_risk_beta": 0.95},
    "value_at_risk_bound": {"value_at_risk_views": ["XOM <= 0.015"], "value_at_risk_beta": 0.90},
    "cvar": {"cvar_views": ["GE == 0.07"], "cvar_beta": 0.95},
    "every_stage": {"mean_views": ["AAPL == 0.0015"], "variance_views": ["MSFT == 0.0004"],
                    "correlation_views": ["(JPM, BAC) == 0.7"], "skew_views": ["KO == -0.3"],
                    "cvar_views": ["GE == 0.06"], "cvar_beta": 0.95},
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
