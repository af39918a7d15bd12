#!/usr/bin/env python3
"""A factor regression by numpy least squares, for the tests.

Daily simple returns of the bundled S&P 500 stocks regressed, with an
intercept, on the daily simple returns of the bundled factor ETFs over the
dates both share (numpy.linalg.lstsq); specific variances are the residuals'
sum of squares over T − k − 1; the factor covariance is the sample
covariance (ddof 1) and Σ = B F Bᵀ + diag(d); the model's means are B times
the factors' sample means. Writes tests/fixtures/factor_model_reference.json,
which tests/factor_model.rs matches.

    python3 tools/reference/factor_model.py
"""
import json
import pathlib

import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    assets = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True).pct_change().iloc[1:]
    factors = pd.read_csv(ROOT / "data" / "factors.csv", index_col=0, parse_dates=True).pct_change().iloc[1:]
    common = assets.index.intersection(factors.index)
    y, f = assets.loc[common].to_numpy(), factors.loc[common].to_numpy()
    t, k = f.shape
    x = np.column_stack([np.ones(t), f])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    specific = (resid ** 2).sum(axis=0) / (t - k - 1)
    r2 = 1 - (resid ** 2).sum(axis=0) / ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    loadings = beta[1:].T
    fcov = np.cov(f, rowvar=False, ddof=1)
    cov = loadings @ fcov @ loadings.T + np.diag(specific)
    out = {"assets": list(assets.columns), "factors": list(factors.columns), "rows": int(t),
           "first": str(common[0].date()), "last": str(common[-1].date()),
           "loadings": loadings.tolist(), "specific": specific.tolist(), "r2": r2.tolist(),
           "cov": cov.tolist(), "mean": (loadings @ f.mean(axis=0)).tolist()}
    path = ROOT / "tests" / "fixtures" / "factor_model_reference.json"
    path.write_text(json.dumps(out))
    print(f"wrote {path.relative_to(ROOT)}: {t} shared dates, {k} factors")


if __name__ == "__main__":
    main()
