#!/usr/bin/env python3
"""Hierarchical allocations from skfolio and PyPortfolioOpt, for the tests.

On the bundled S&P 500 (all daily simple returns), for each linkage
(single, complete, average, Ward) on the Pearson distance sqrt((1 - rho)/2):
- the linkage matrix and the leaf order (SciPy, as skfolio computes them);
- HRP and HERC (variance) from skfolio with the leaf order as the linkage
  gives it (HierarchicalSeriation(optimal_ordering=False); skfolio's
  default reorders leaves optimally), and HRP with standard deviation and
  CVaR (95 %);
- HERC with 4 clusters and with the gap rule's count (recorded);
- NCO (minimum variance inside and outside, in-sample: cv="ignore") with
  4 clusters;
- PyPortfolioOpt's HRPOpt for single linkage;
plus the variation-of-information distance matrix (skfolio's MutualInformation distance, 10 bins,
normalised). Writes tests/fixtures/hierarchical_reference.json, which
tests/hierarchical.rs matches.

    pip install skfolio==1.12.2 pyportfolioopt==1.6.0
    python3 tools/reference/hierarchical.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import scipy.cluster.hierarchy as sch
from pypfopt import HRPOpt
from skfolio import RiskMeasure
from skfolio.cluster import HierarchicalClustering, LinkageMethod
from skfolio.distance import MutualInformation
from skfolio.optimization import (
    HierarchicalEqualRiskContribution,
    HierarchicalRiskParity,
    MeanRisk,
    NestedClustersOptimization,
)
from skfolio.seriation import HierarchicalSeriation

ROOT = pathlib.Path(__file__).resolve().parents[2]
LINKAGES = {"single": LinkageMethod.SINGLE, "complete": LinkageMethod.COMPLETE,
            "average": LinkageMethod.AVERAGE, "ward": LinkageMethod.WARD}


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna()
    out = {"assets": list(returns.columns), "rows": len(returns), "linkages": {}}
    for name, method in LINKAGES.items():
        clustering = HierarchicalClustering(linkage_method=method)
        seriation = HierarchicalSeriation(hierarchical_clustering_estimator=clustering, optimal_ordering=False)
        hrp = {}
        for label, measure in [("variance", RiskMeasure.VARIANCE), ("std", RiskMeasure.STANDARD_DEVIATION),
                               ("cvar", RiskMeasure.CVAR)]:
            model = HierarchicalRiskParity(risk_measure=measure, seriation_estimator=seriation).fit(returns)
            hrp[label] = model.weights_.tolist()
        fitted = HierarchicalRiskParity(seriation_estimator=seriation).fit(returns)
        linkage = fitted.seriation_estimator_.ordered_linkage_matrix_
        herc4 = HierarchicalEqualRiskContribution(
            hierarchical_clustering_estimator=HierarchicalClustering(linkage_method=method, max_clusters=4)
        ).fit(returns)
        herc = HierarchicalEqualRiskContribution(hierarchical_clustering_estimator=clustering).fit(returns)
        nco = NestedClustersOptimization(
            inner_estimator=MeanRisk(solver="CLARABEL", solver_params={"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}),
            outer_estimator=MeanRisk(solver="CLARABEL", solver_params={"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}),
            clustering_estimator=HierarchicalClustering(linkage_method=method, max_clusters=4),
            cv="ignore",
        ).fit(returns)
        out["linkages"][name] = {
            "linkage": linkage.tolist(),
            "leaves": sch.leaves_list(linkage).tolist(),
            "hrp": hrp,
            "herc_4": herc4.weights_.tolist(),
            "herc_gap": herc.weights_.tolist(),
            "herc_gap_clusters": int(herc.hierarchical_clustering_estimator_.n_clusters_),
            "nco_4": nco.weights_.tolist(),
        }
    out["pypfopt_hrp_single"] = [float(v) for v in HRPOpt(returns).optimize(linkage_method="single").values()]
    vi = MutualInformation(n_bins=10, normalize=True).fit(returns)
    out["variation_of_information_10_bins"] = vi.distance_.tolist()
    path = ROOT / "tests" / "fixtures" / "hierarchical_reference.json"
    path.write_text(json.dumps(out))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
