#!/usr/bin/env python3
"""Denoised covariances by Riskfolio-Lib, for the tests.

Daily simple returns of the last 600 dates of the bundled S&P 500 (20
stocks) and of its first 8 stocks: Riskfolio-Lib's denoiseCov of the
sample covariance (divisor T - 1) with q = T/N, constant residual
("fixed") and target shrinkage ("shrink", alpha 0.1 and 0.5). Writes
tests/fixtures/denoise_reference.json, which tests/estimators.rs matches.

    pip install riskfolio-lib==7.4.0
    python3 tools/reference/denoise.py
"""
import json
import pathlib

import pandas as pd
import riskfolio
from riskfolio.src.AuxFunctions import denoiseCov

ROOT = pathlib.Path(__file__).resolve().parents[2]


def case(x):
    cov = x.cov().to_numpy()
    q = x.shape[0] / x.shape[1]
    out = {"fixed": denoiseCov(cov, q, kind="fixed")}
    for alpha in (0.1, 0.5):
        out[f"shrink_{alpha}"] = denoiseCov(cov, q, kind="shrink", alpha=alpha)
    return {k: v.tolist() for k, v in out.items()}


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    recent = prices.pct_change().iloc[1:].iloc[-600:]
    out = {"riskfolio": riskfolio.__version__, "first": str(recent.index[0].date()),
           "recent": case(recent), "eight": case(recent.iloc[:, :8])}
    dest = ROOT / "tests" / "fixtures" / "denoise_reference.json"
    dest.write_text(json.dumps(out) + "\n")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
