#!/usr/bin/env python3
"""Black–Litterman posteriors from skfolio with a risk-free rate, for the
test of the crate's skfolio convention (RiskFreeIn::Posterior).

skfolio's prior is the excess equilibrium return delta·Sigma·w (no risk-free
rate), its views are read against that prior, and the risk-free rate is
added to the posterior mean. On the bundled S&P 500 (daily simple returns,
sample covariance with ddof 1), the market weights of
tools/reference/black_litterman.py (normalised), delta = 2.5, tau = 0.05,
a daily risk-free rate of 0.0002, an absolute and a relative view, with
He–Litterman Omega and with Idzorek confidences. Writes
tests/fixtures/black_litterman_skfolio.json.

    pip install skfolio==1.12.2
    python3 tools/reference/black_litterman_skfolio.py
"""
import json
import pathlib
import sys

import numpy as np
import pandas as pd
from skfolio.moments import EmpiricalCovariance, EmpiricalMu, EquilibriumMu  # noqa: F401
from skfolio.prior import BlackLitterman, EmpiricalPrior

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
ROOT = pathlib.Path(__file__).resolve().parents[2]
MARKET = {"AAPL": 10.0, "MSFT": 9.0, "AMD": 1.0, "JPM": 4.0, "BAC": 3.0, "CVX": 3.0, "XOM": 4.0, "JNJ": 4.0,
          "PG": 3.5, "KO": 2.5, "PEP": 2.5, "WMT": 3.0, "HD": 3.0, "UNH": 4.5, "LLY": 3.0, "MRK": 2.5,
          "PFE": 2.0, "GE": 1.5, "BBY": 0.3, "RRC": 0.1}
DELTA, TAU, RF = 2.5, 0.05, 0.0002
VIEWS = ["AAPL == 0.0008", "MSFT - AMD == 0.0002"]
CONFIDENCES = [0.6, 0.3]


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna()
    weights = pd.Series(MARKET)[returns.columns]
    weights = (weights / weights.sum()).values
    out = {"source": "skfolio 1.12.2 BlackLitterman", "delta": DELTA, "tau": TAU, "risk_free": RF,
           "market": dict(zip(returns.columns, weights.tolist())),
           "views": [["AAPL", 1.0, None, 0.0008], ["MSFT", 1.0, "AMD", 0.0002]], "confidences": CONFIDENCES}
    for name, confidences in [("he_litterman", None), ("idzorek", CONFIDENCES)]:
        prior = EmpiricalPrior(mu_estimator=EquilibriumMu(risk_aversion=DELTA, weights=weights),
                               covariance_estimator=EmpiricalCovariance(nearest=False))
        model = BlackLitterman(views=VIEWS, prior_estimator=prior, tau=TAU, view_confidences=confidences,
                               risk_free_rate=RF)
        model.fit(returns)
        dist = model.return_distribution_
        out[name] = {"prior": model.prior_estimator_.return_distribution_.mu.tolist(), "mean": dist.mu.tolist(),
                     "cov": dist.covariance.tolist()}
    path = ROOT / "tests" / "fixtures" / "black_litterman_skfolio.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
