#!/usr/bin/env python3
"""Worst-case mean-variance portfolios, from Riskfolio-Lib.

On all 8,312 daily simple returns of the bundled S&P 500 (20 stocks,
long-only, fully invested), the uncertainty sets for the mean are built
as the project defines them (the sample mean's normal approximation: a box
of half-widths z_{(1+c)/2} sigma_i / sqrt(T), an ellipsoid of shape
Sigma / T and radius sqrt(chi2_n quantile c), by scipy), handed to
Riskfolio-Lib's Portfolio (d_mu, cov_mu, k_mu), and
Portfolio.wc_optimization(Umu="box" | "ellip", Ucov="none") gives the
maximum worst-case Sharpe ratio (rf = 0) and the maximum worst-case
utility (l = 2) weights with Clarabel at tight tolerances. Also writes
scipy's chi-square quantiles for the project's own. Writes
tests/fixtures/robust_mean_reference.json, which tests/robust.rs matches.

    pip install riskfolio-lib==7.4.0 scipy
    python3 tools/reference/robust_mean.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import riskfolio as rp
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIDENCE = {"box": 0.8, "ellip": 0.5}
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
CHI2 = [(0.5, 1), (0.95, 1), (0.5, 20), (0.9, 20), (0.99, 20), (0.95, 500)]


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna()
    t, n = returns.shape
    cov = returns.cov().to_numpy()
    delta = stats.norm.ppf(0.5 * (1 + CONFIDENCE["box"])) * np.sqrt(np.diag(cov) / t)
    k = float(np.sqrt(stats.chi2.ppf(CONFIDENCE["ellip"], n)))
    out = {"assets": list(returns.columns), "rows": t, "confidence": CONFIDENCE,
           "half_widths": [float(x) for x in delta], "radius": k,
           "chi2": [{"p": p, "k": d, "quantile": float(stats.chi2.ppf(p, d))} for p, d in CHI2], "cases": []}
    for umu in ["box", "ellip"]:
        for obj, l in [("Sharpe", 0), ("Utility", 2)]:
            port = rp.Portfolio(returns=returns)
            port.assets_stats(method_mu="hist", method_cov="hist")
            port.d_mu = pd.DataFrame([delta], columns=returns.columns)
            port.cov_mu = pd.DataFrame(cov / t, index=returns.columns, columns=returns.columns)
            port.k_mu = k
            # Unused with Ucov="none", but read by wc_optimization.
            port.cov_l = port.cov_u = port.cov
            port.cov_sigma = pd.DataFrame(np.eye(n * n))
            port.k_sigma = 0.0
            port.solvers = ["CLARABEL"]
            port.sol_params = {"CLARABEL": TOL}
            w = port.wc_optimization(obj=obj, rf=0, l=l, Umu=umu, Ucov="none")
            w = w.to_numpy().ravel()
            out["cases"].append({"set": umu, "objective": obj, "risk_aversion": l, "weights": [float(x) for x in w]})
            print(f"{umu:5} {obj:8} largest weight {w.max():.4f}, {int((w > 1e-6).sum())} held")
    dest = ROOT / "tests" / "fixtures" / "robust_mean_reference.json"
    dest.write_text(json.dumps(out))
    print(f"wrote {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
