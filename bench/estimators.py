#!/usr/bin/env python3
"""Covariance and mean estimators on 500 assets × 1,000 days side by side:
assetalloc (examples/estimate.rs) against skfolio, same work: the shared
synthetic factor market (bench/synthetic.py) written to a CSV both read;
OAS, shrinkage to the identity at 0.1, the Gerber statistic (positive
semidefinite variant, threshold 0.5), Marchenko–Pastur denoising,
detoning (1 market mode) and the
James–Stein mean; and entropy pooling of the bundled S&P 500 (20 stocks
× 8,312 days) under two mean views (an equality, a ranking) and a
volatility view, skfolio with its default dual solver. Each side's time
is the median of --repeat fits from returns to moments (reading the CSV
not included); the check is the largest difference between the two
covariances (or means), relative to the reference's largest entry, or
the L1 distance between the posterior probabilities. Writes
target/bench/estimators.json.

    pip install skfolio==1.12.2
    python3 bench/estimators.py
"""
import argparse
import json
import pathlib
import subprocess
import warnings

import numpy as np
import pandas as pd
from synthetic import factor_market
from timing import median_time
from skfolio.prior import EntropyPooling
from skfolio.moments import OAS, DenoiseCovariance, DetoneCovariance, GerberCovariance, ShrunkCovariance, ShrunkMu, ShrunkMuMethods

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
ASSETS, DAYS, FACTORS = 500, 1000, 5

PEERS = {
    "oas": ("OAS", lambda: OAS(), "covariance_"),
    "shrunk": ("shrinkage to the identity, 0.1", lambda: ShrunkCovariance(shrinkage=0.1), "covariance_"),
    "gerber": ("Gerber statistic (PSD variant, 0.5)", lambda: GerberCovariance(), "covariance_"),
    "denoised": ("denoised (Marchenko–Pastur)", lambda: DenoiseCovariance(), "covariance_"),
    "detoned": ("detoned, 1 market mode", lambda: DetoneCovariance(n_markets=1), "covariance_"),
    "james_stein": ("James–Stein mean", lambda: ShrunkMu(method=ShrunkMuMethods.JAMES_STEIN), "mu_"),
}


def cvar(loss, p, alpha):
    """The mean of the worst `alpha` of probability of `loss` under `p`."""
    order = np.argsort(-loss)
    cum = np.cumsum(p[order])
    k = int(np.searchsorted(cum, alpha))
    head = float((p[order][:k] * loss[order][:k]).sum())
    return (head + (alpha - (cum[k - 1] if k else 0.0)) * loss[order][k]) / alpha


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--quiet", "--release", "--no-default-features", "--example", "estimate"],
                   cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    csv = OUT / "estimators_market.csv"
    returns = factor_market(csv, ASSETS, DAYS, FACTORS, 0.01, 0.0, 7)
    written = OUT / "estimators"
    written.mkdir(exist_ok=True)
    exe = ROOT / "target" / "release" / "examples" / "estimate"
    ours = json.loads(subprocess.run([str(exe), str(csv), "--repeat", str(args.repeat), "--write", str(written)],
                                     cwd=ROOT, check=True, capture_output=True, text=True).stdout)["estimators"]
    x = returns.to_numpy()
    # skfolio warns each time it repairs a matrix (detoning): not a result.
    warnings.simplefilter("ignore", UserWarning)
    rows = []
    for name, (label, make, field) in PEERS.items():
        seconds, value = median_time(lambda: getattr(make().fit(x), field), args.repeat)
        mine = np.loadtxt(written / f"{name}_{'mean' if field == 'mu_' else 'cov'}.txt")
        diff = float(np.abs(mine - value).max() / np.abs(value).max())
        rows.append({"workload": f"{label}, {ASSETS} assets × {DAYS} days", "assetalloc_ms": ours[name]["median_ms"],
                     "skfolio_ms": 1e3 * seconds, "ratio": 1e3 * seconds / ours[name]["median_ms"],
                     "max_relative_diff": diff})
        print(f"{name}: assetalloc {ours[name]['median_ms']:.1f} ms, skfolio {1e3 * seconds:.1f} ms, "
              f"ratio {rows[-1]['ratio']:.1f}, max relative difference {diff:.1e}")
    sp500 = ROOT / "data" / "sp500.csv"
    prices = pd.read_csv(sp500, index_col=0, parse_dates=True)
    r = prices.pct_change().iloc[1:]
    g = -r["GE"].to_numpy()
    three = {"mean_views": ["AAPL == 0.002", "JPM >= BAC"], "variance_views": ["MSFT == 0.0004"]}
    five = {**three, "correlation_views": ["(JPM, BAC) == 0.7"], "skew_views": ["KO == -0.3"],
            "cvar_views": ["GE == 0.06"], "cvar_beta": 0.95}
    for kinds, views, label in [("three", three, "2 mean views and a volatility view"),
                                ("five", five, "five kinds: means, a volatility, a correlation, a skewness, "
                                               "a 95 % CVaR of 6 %")]:
        pooled = json.loads(subprocess.run([str(exe), str(sp500), "--entropy-pooling", "--views", kinds,
                                            "--repeat", str(args.repeat), "--write", str(written)], cwd=ROOT,
                                           check=True, capture_output=True, text=True).stdout)
        seconds, p = median_time(lambda: EntropyPooling(**views).fit(r).return_distribution_.sample_weight,
                                 args.repeat)
        mine = np.loadtxt(written / f"entropy_pooling_{kinds}.txt")
        row = {"workload": f"entropy pooling, {label}, S&P 500 {r.shape[1]} × {len(r)}",
               "assetalloc_ms": pooled["median_ms"], "skfolio_ms": 1e3 * seconds,
               "ratio": 1e3 * seconds / pooled["median_ms"], "max_relative_diff": None,
               "l1": float(np.abs(mine - p).sum())}
        if "cvar_views" in views:
            # skfolio finds the CVaR's level to 1e-4 (Brent), we to the root.
            row["cvar"] = {"view": 0.06, "assetalloc": cvar(g, mine, 0.05), "skfolio": cvar(g, p, 0.05)}
        rows.append(row)
        print(f"entropy pooling ({kinds}): assetalloc {pooled['median_ms']:.1f} ms, skfolio {1e3 * seconds:.1f} ms, "
              f"ratio {row['ratio']:.1f}, L1 {row['l1']:.1e}" + (f", CVaR {row['cvar']}" if "cvar" in row else ""))
    (OUT / "estimators.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
