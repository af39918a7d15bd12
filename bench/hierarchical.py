#!/usr/bin/env python3
"""HRP and HERC on 500 assets × 1,000 days side by side: assetalloc
(examples/hierarchical.rs) against skfolio, same work: a synthetic factor
market (5 factors, seeded) written to a CSV both read; sample covariance,
Pearson distance, Ward linkage, the linkage's leaf order (skfolio's
optimal leaf reordering off), variance; HERC with 10 clusters. Each side's
time is the median of --repeat fits from returns to weights (estimation
and the tree included; reading the CSV not). Writes
target/bench/hierarchical.json.

    pip install skfolio
    python3 bench/hierarchical.py
"""
import argparse
import json
import pathlib
import subprocess

import numpy as np
from synthetic import factor_market
from timing import median_time
from skfolio.cluster import HierarchicalClustering, LinkageMethod
from skfolio.optimization import HierarchicalEqualRiskContribution, HierarchicalRiskParity
from skfolio.seriation import HierarchicalSeriation

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
ASSETS, DAYS, FACTORS, CLUSTERS = 500, 1000, 5, 10


def market(path):
    return factor_market(path, ASSETS, DAYS, FACTORS, 0.01, 0.0, 7)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--quiet", "--release", "--no-default-features", "--features", "optimize",
                    "--example", "hierarchical"], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    csv = OUT / "hierarchical_market.csv"
    returns = market(csv)
    exe = ROOT / "target" / "release" / "examples" / "hierarchical"
    ours = json.loads(subprocess.run(
        [str(exe), str(csv), "--linkage", "ward", "--clusters", str(CLUSTERS), "--repeat", str(args.repeat)],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout)["methods"]
    clustering = lambda **k: HierarchicalClustering(linkage_method=LinkageMethod.WARD, **k)  # noqa: E731
    peers = {
        "hrp": lambda: HierarchicalRiskParity(
            seriation_estimator=HierarchicalSeriation(hierarchical_clustering_estimator=clustering(),
                                                      optimal_ordering=False)),
        "herc": lambda: HierarchicalEqualRiskContribution(
            hierarchical_clustering_estimator=clustering(max_clusters=CLUSTERS)),
    }
    rows = []
    for name, make in peers.items():
        seconds, w = median_time(lambda: make().fit(returns).weights_, args.repeat)
        mine = np.array([ours[name]["weights"][a] for a in returns.columns])
        rows.append({"workload": f"{name.upper()}, {ASSETS} assets × {DAYS} days, Ward", "assetalloc_ms": ours[name]["median_ms"],
                     "skfolio_ms": 1e3 * seconds, "ratio": 1e3 * seconds / ours[name]["median_ms"],
                     "max_weight_diff": float(np.abs(mine - w).max())})
        print(f"{name}: assetalloc {ours[name]['median_ms']:.1f} ms, skfolio {1e3 * seconds:.1f} ms, "
              f"ratio {rows[-1]['ratio']:.1f}, max weight difference {rows[-1]['max_weight_diff']:.1e}")
    (OUT / "hierarchical.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
