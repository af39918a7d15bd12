#!/usr/bin/env python3
"""Implied covariances by skfolio, for the tests.

Daily simple returns of the last 600 dates of the bundled S&P 500's first
8 stocks, with implied volatilities the project makes up (no free data
carries them): 1.15 × the annualised exponentially weighted volatility
(half-life 10 days) of each stock's returns to that date, times
exp(0.1 z) for standard normal z (seed 11), written to 10 significant
digits so that both sides read the same numbers. skfolio's
ImpliedCovariance (annualisation 252) on them: by regression on windows
of 20 and of 50 days, on the empirical covariance and on Ledoit–Wolf's,
and with a volatility risk premium of 1.2 for all stocks and per stock.
Writes tests/fixtures/implied_covariance_reference.json, which
tests/estimators.rs matches.

    pip install skfolio==1.12.2
    python3 tools/reference/implied_covariance.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import skfolio
from skfolio.moments import ImpliedCovariance, LedoitWolf

ROOT = pathlib.Path(__file__).resolve().parents[2]


def implied_vols(returns):
    x = returns.to_numpy()
    lam = 2.0 ** (-1.0 / 10)
    var = np.empty_like(x)
    v = x[:20].var(axis=0)
    for t in range(len(x)):
        v = lam * v + (1 - lam) * x[t] ** 2
        var[t] = v
    z = np.random.default_rng(11).standard_normal(x.shape)
    iv = 1.15 * np.sqrt(252 * var) * np.exp(0.1 * z)
    return np.array([[float(f"{v:.10g}") for v in row] for row in iv])


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().iloc[1:].iloc[-600:, :8]
    x = returns.to_numpy()
    iv = implied_vols(returns)
    premiums = [1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8]
    cases = {
        "regression_20": ImpliedCovariance(annualization_factor=252),
        "regression_50": ImpliedCovariance(annualization_factor=252, window_size=50),
        "regression_20_ledoit_wolf": ImpliedCovariance(annualization_factor=252,
                                                       prior_covariance_estimator=LedoitWolf()),
        "premium_1.2": ImpliedCovariance(annualization_factor=252, volatility_risk_premium_adj=1.2),
        "premium_per_asset": ImpliedCovariance(annualization_factor=252, volatility_risk_premium_adj=premiums),
    }
    out = {"skfolio": skfolio.__version__, "first": str(returns.index[0].date()),
           "last": str(returns.index[-1].date()), "assets": list(returns.columns), "premiums": premiums,
           "implied_vol": iv.tolist(), "cov": {}, "vols": {}}
    for name, estimator in cases.items():
        fitted = estimator.fit(x, implied_vol=iv)
        out["cov"][name] = fitted.covariance_.tolist()
        out["vols"][name] = fitted.pred_realised_vols_.tolist()
    path = ROOT / "tests" / "fixtures" / "implied_covariance_reference.json"
    path.write_text(json.dumps(out) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
