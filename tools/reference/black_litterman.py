#!/usr/bin/env python3
"""Black–Litterman posteriors from PyPortfolioOpt, for the tests.

On the bundled S&P 500 (annualised sample covariance of daily simple
returns, 252 a year), with illustrative market weights (the script's
MARKET, not real capitalisations) and the risk aversion implied by the
bundled S&P 500 index (market_implied_risk_aversion), PyPortfolioOpt's
market_implied_prior_returns and BlackLittermanModel give the prior, the
posterior mean and the posterior covariance for: absolute views,
relative views (a pair and a basket), He–Litterman Ω, Idzorek
confidences, and a given Ω. Writes tests/fixtures/black_litterman_reference.json,
which tests/black_litterman.rs matches.

    pip install pyportfolioopt==1.6.0
    python3 tools/reference/black_litterman.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
from pypfopt import black_litterman
from pypfopt.black_litterman import BlackLittermanModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
MARKET = {"AAPL": 10.0, "MSFT": 9.0, "AMD": 1.0, "JPM": 4.0, "BAC": 3.0, "CVX": 3.0, "XOM": 4.0, "JNJ": 4.0,
          "PG": 3.5, "KO": 2.5, "PEP": 2.5, "WMT": 3.0, "HD": 3.0, "UNH": 4.5, "LLY": 3.0, "MRK": 2.5,
          "PFE": 2.0, "GE": 1.5, "BBY": 0.3, "RRC": 0.1}


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna()
    cov = returns.cov() * 252
    index = pd.read_csv(ROOT / "data" / "sp500_index.csv", index_col=0, parse_dates=True).iloc[:, 0]
    delta = black_litterman.market_implied_risk_aversion(index, frequency=252)
    caps = pd.Series(MARKET)[cov.columns]
    prior = black_litterman.market_implied_prior_returns(caps, delta, cov)
    assets = list(cov.columns)
    col = {a: i for i, a in enumerate(assets)}

    def matrix(rows):
        p = np.zeros((len(rows), len(assets)))
        for r, weights in enumerate(rows):
            for a, w in weights.items():
                p[r, col[a]] += w
        return p

    P = matrix([{"AAPL": 1.0}, {"MSFT": 1.0, "AMD": -1.0}, {"JPM": 0.5, "BAC": 0.5, "CVX": -0.5, "XOM": -0.5}])
    Q = np.array([0.10, 0.02, 0.01])
    cases = {
        "absolute": BlackLittermanModel(cov, pi=prior, absolute_views={"AAPL": 0.10, "JNJ": 0.05}, risk_aversion=delta),
        "relative_he_litterman": BlackLittermanModel(cov, pi=prior, P=P, Q=Q, risk_aversion=delta),
        "relative_idzorek": BlackLittermanModel(cov, pi=prior, P=P, Q=Q, omega="idzorek",
                                                view_confidences=[0.6, 0.3, 0.8], risk_aversion=delta),
        "relative_omega": BlackLittermanModel(cov, pi=prior, P=P, Q=Q, omega=np.diag([0.001, 0.0005, 0.0002]),
                                              risk_aversion=delta, tau=0.025),
    }
    out = {"assets": assets, "delta": float(delta), "market": [MARKET[a] for a in assets],
           "prior": prior.tolist(), "cases": {}}
    for name, model in cases.items():
        out["cases"][name] = {"mean": model.bl_returns().tolist(), "cov": model.bl_cov().values.tolist(),
                              "omega": np.asarray(model.omega).tolist()}
    path = ROOT / "tests" / "fixtures" / "black_litterman_reference.json"
    path.write_text(json.dumps(out))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
