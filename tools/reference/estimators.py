#!/usr/bin/env python3
"""Covariance and mean estimators by skfolio, for the tests.

Daily simple returns of the last 600 dates of the bundled S&P 500 (20
stocks), and of its first 8 stocks, through skfolio's OAS,
ShrunkCovariance (0.1 and 0.4), GerberCovariance (both variants,
thresholds 0.5 and 0.3), DenoiseCovariance, DetoneCovariance (1 and 2
market modes), scikit-learn's GraphicalLasso (penalties 1e-5 and 5e-5,
run to tolerances of 1e-12 so that the fixture is the optimum) and
GraphicalLassoCV (5 folds, 4 grids of 4 penalties, likewise) and
ShrunkMu (James–Stein, Bayes–Stein, Bodnar–Okhrin, each towards the
grand mean and the volatility-weighted mean, on the empirical
covariance), EquilibriumMu and EWMu (half-lives 10 and 40). Writes
tests/fixtures/estimators_reference.json, which tests/estimators.rs
matches.

    pip install skfolio==1.12.2
    python3 tools/reference/estimators.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import skfolio
from sklearn.covariance import GraphicalLasso, GraphicalLassoCV
from skfolio.moments import (OAS, DenoiseCovariance, DetoneCovariance, EquilibriumMu, EWMu, GerberCovariance,
                             ShrunkCovariance, ShrunkMu, ShrunkMuMethods)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def case(x):
    # Every path solve to the optimum (its default stops the path after 10
    # sweeps at a gap of 1e-4), so the scores compared are the optimum's.
    glasso_cv = GraphicalLassoCV(tol=1e-12, enet_tol=1e-14, max_iter=100000).fit(x)
    cov = {
        "oas": OAS().fit(x).covariance_,
        "shrunk_0.1": ShrunkCovariance(shrinkage=0.1).fit(x).covariance_,
        "shrunk_0.4": ShrunkCovariance(shrinkage=0.4).fit(x).covariance_,
        "gerber_psd_0.5": GerberCovariance(threshold=0.5, psd_variant=True).fit(x).covariance_,
        "gerber_psd_0.3": GerberCovariance(threshold=0.3, psd_variant=True).fit(x).covariance_,
        "gerber_original_0.5": GerberCovariance(threshold=0.5, psd_variant=False).fit(x).covariance_,
        "denoised": DenoiseCovariance().fit(x).covariance_,
        "glasso_1e-5": GraphicalLasso(alpha=1e-5, tol=1e-12, enet_tol=1e-14, max_iter=10000).fit(x).covariance_,
        "glasso_5e-5": GraphicalLasso(alpha=5e-5, tol=1e-12, enet_tol=1e-14, max_iter=10000).fit(x).covariance_,
        "glasso_cv": glasso_cv.covariance_,
        "detoned_1": DetoneCovariance(n_markets=1).fit(x).covariance_,
        "detoned_2": DetoneCovariance(n_markets=2).fit(x).covariance_,
    }
    mean = {}
    for name, method in [("james_stein", ShrunkMuMethods.JAMES_STEIN), ("bayes_stein", ShrunkMuMethods.BAYES_STEIN),
                         ("bodnar_okhrin", ShrunkMuMethods.BODNAR_OKHRIN)]:
        for weighted in (False, True):
            key = f"{name}{'_weighted' if weighted else ''}"
            mean[key] = ShrunkMu(method=method, vol_weighted_target=weighted).fit(x).mu_
    mean["equilibrium_2.5"] = EquilibriumMu(risk_aversion=2.5).fit(x).mu_
    for half_life in (10, 40):
        mean[f"ewma_{half_life}"] = EWMu(half_life=half_life).fit(x).mu_
    # The curve: penalties and mean held-out scores (the last, penalty 0,
    # is the empirical covariance's; null where scikit-learn's fit failed).
    curve = [[float(a), float(s) if np.isfinite(s) else None]
             for a, s in zip(glasso_cv.cv_results_["alphas"], glasso_cv.cv_results_["mean_test_score"]) if a > 0]
    return {"cov": {k: v.tolist() for k, v in cov.items()}, "mean": {k: v.tolist() for k, v in mean.items()},
            "glasso_cv_alpha": float(glasso_cv.alpha_), "glasso_cv_curve": curve}


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().iloc[1:]
    recent = returns.iloc[-600:]
    out = {"skfolio": skfolio.__version__, "first": str(recent.index[0].date()), "last": str(recent.index[-1].date()),
           "assets": list(returns.columns), "recent": case(recent.to_numpy()),
           "eight": case(recent.iloc[:, :8].to_numpy())}
    path = ROOT / "tests" / "fixtures" / "estimators_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
