#!/usr/bin/env python3
"""Portfolios on scenarios with probabilities, from skfolio.

The last 2,000 daily simple returns of the bundled S&P 500 (20 stocks),
reweighted by skfolio's EntropyPooling (a volatility view on MSFT, a mean
view on AAPL and a 95 % CVaR view on GE; its primal on Clarabel at 1e-12,
its CVaR level found to 1e-15), then skfolio's MeanRisk on that prior
(long-only, fully invested, Clarabel at 1e-10): minimum risk for each
measure that weighs scenarios (drawdowns along the scenarios' time
order, each date's weighed by its probability), the maximum mean/CVaR ratio, and the
mean/CVaR frontier at five targets evenly spaced from the minimum-CVaR
portfolio's mean to the highest achievable, the last a hair (1e-9 of the
span) short of it (minimum CVaR at each target return); and HRP (variance,
CVaR, semi-deviation) and HERC (variance, CVaR; 4 clusters) on the same
prior, Ward linkage on the Pearson distance of the prior's scenarios
weighed by its probabilities (skfolio's PearsonDistance weighs scenarios
equally and takes no weights, so a subclass computes the weighted
correlation; the tree, the seriation and the allocation are skfolio's),
leaves in the linkage's order; and the measures skfolio's Portfolio
reports for the minimum-CVaR portfolio's weights with the probabilities
as sample weights and without them. Each
portfolio's measure is skfolio's, with the probabilities as sample
weights. Writes tests/fixtures/weighted_scenarios_reference.json with the
probabilities, weights and values; tests/weighted_scenarios.rs matches
them.

    pip install skfolio==1.12.2
    python3 tools/reference/weighted_scenarios.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
import scipy.optimize
from skfolio import Portfolio, RiskMeasure
from skfolio.cluster import HierarchicalClustering, LinkageMethod
from skfolio.distance import PearsonDistance
from skfolio.optimization import HierarchicalEqualRiskContribution, HierarchicalRiskParity, MeanRisk, ObjectiveFunction
from skfolio.seriation import HierarchicalSeriation
from skfolio.prior import EntropyPooling

ROOT = pathlib.Path(__file__).resolve().parents[2]
TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12}
TOL = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
VIEWS = {"mean_views": ["AAPL == 0.0015"], "variance_views": ["MSFT == 0.0004"], "cvar_views": ["GE == 0.06"],
         "cvar_beta": 0.95}
MEASURES = {
    "variance": RiskMeasure.VARIANCE,
    "std": RiskMeasure.STANDARD_DEVIATION,
    "mad": RiskMeasure.MEAN_ABSOLUTE_DEVIATION,
    "semi-deviation": RiskMeasure.SEMI_DEVIATION,
    "semi-variance": RiskMeasure.SEMI_VARIANCE,
    "flpm": RiskMeasure.FIRST_LOWER_PARTIAL_MOMENT,
    "cvar": RiskMeasure.CVAR,
    "evar": RiskMeasure.EVAR,
    "worst": RiskMeasure.WORST_REALIZATION,
    "max-drawdown": RiskMeasure.MAX_DRAWDOWN,
    "average-drawdown": RiskMeasure.AVERAGE_DRAWDOWN,
    "cdar": RiskMeasure.CDAR,
    "ulcer": RiskMeasure.ULCER_INDEX,
    "edar": RiskMeasure.EDAR,
}
_root_scalar = scipy.optimize.root_scalar


def _tight_root_scalar(f, **kwargs):
    """skfolio's CVaR root search, to the root instead of within 1e-4."""
    return _root_scalar(f, **{**kwargs, "xtol": 1e-15, "rtol": 1e-15, "maxiter": 500})


scipy.optimize.root_scalar = _tight_root_scalar


def frontier(returns, prior, p, points=5):
    """Minimum CVaR at each of `points` target returns."""
    def fit(objective, **kwargs):
        return MeanRisk(objective_function=objective, risk_measure=RiskMeasure.CVAR, cvar_beta=0.95,
                        prior_estimator=prior, solver="CLARABEL", solver_params=TOL, **kwargs).fit(returns)
    lo = float(fit(ObjectiveFunction.MINIMIZE_RISK).weights_ @ (p @ returns.to_numpy()))
    hi = float(fit(ObjectiveFunction.MAXIMIZE_RETURN).weights_ @ (p @ returns.to_numpy()))
    targets = [lo + (hi - lo) * i / (points - 1) * (1.0 - 1e-9) for i in range(points)]
    out = []
    for target in targets:
        model = fit(ObjectiveFunction.MINIMIZE_RISK, min_return=target)
        ptf = model.predict(returns)
        ptf.sample_weight = p
        out.append({"target": target, "weights": model.weights_.tolist(), "value": float(ptf.cvar)})
        print(f"frontier {target:.8f} {ptf.cvar:.10f}")
    return out


class WeightedPearsonDistance(PearsonDistance):
    """The Pearson distance sqrt((1 - rho) / 2) of the correlation of the
    scenarios weighed by `probabilities`."""

    def __init__(self, probabilities=None, absolute=False, power=1):
        super().__init__(absolute=absolute, power=power)
        self.probabilities = probabilities

    def fit(self, X, y=None):
        X = np.asarray(X)
        p = np.asarray(self.probabilities)
        centred = X - p @ X
        cov = (centred * p[:, None]).T @ centred
        sd = np.sqrt(np.diag(cov))
        self.codependence_ = cov / np.outer(sd, sd)
        self.distance_ = np.sqrt(np.clip(0.5 * (1.0 - self.codependence_), 0.0, None))
        return self


def hierarchical(returns, prior, p):
    """HRP and HERC weights on the pooled prior."""
    distance = WeightedPearsonDistance(probabilities=p)
    ward = HierarchicalClustering(linkage_method=LinkageMethod.WARD)
    seriation = HierarchicalSeriation(hierarchical_clustering_estimator=ward, optimal_ordering=False)
    out = {}
    for name, measure in [("variance", RiskMeasure.VARIANCE), ("cvar", RiskMeasure.CVAR),
                          ("semi-deviation", RiskMeasure.SEMI_DEVIATION)]:
        model = HierarchicalRiskParity(risk_measure=measure, prior_estimator=prior, seriation_estimator=seriation,
                                       distance_estimator=distance)
        out[f"hrp_{name}"] = model.fit(returns).weights_.tolist()
    for name, measure in [("variance", RiskMeasure.VARIANCE), ("cvar", RiskMeasure.CVAR)]:
        model = HierarchicalEqualRiskContribution(
            risk_measure=measure, prior_estimator=prior, distance_estimator=distance,
            hierarchical_clustering_estimator=HierarchicalClustering(linkage_method=LinkageMethod.WARD, max_clusters=4))
        out[f"herc_{name}"] = model.fit(returns).weights_.tolist()
    return out


PROFILE = ["mean", "standard_deviation", "semi_deviation", "mean_absolute_deviation", "value_at_risk", "cvar", "evar",
           "worst_realization", "skew", "kurtosis", "sharpe_ratio", "sortino_ratio"]


def profile(returns, weights, p):
    """A portfolio's measures with and without the probabilities."""
    out = {"weights": weights.tolist()}
    for key, sample_weight in [("posterior", p), ("equal", None)]:
        ptf = Portfolio(X=returns, weights=weights, sample_weight=sample_weight)
        out[key] = {name: float(getattr(ptf, name)) for name in PROFILE}
    return out


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().iloc[1:].iloc[-2000:]
    prior = EntropyPooling(**VIEWS, solver="CLARABEL", solver_params=TIGHT)
    p = prior.fit(returns).return_distribution_.sample_weight
    out = {"first": str(returns.index[0].date()), "rows": len(returns), "probabilities": p.tolist(), "min_risk": {}}
    for name, measure in MEASURES.items():
        model = MeanRisk(objective_function=ObjectiveFunction.MINIMIZE_RISK, risk_measure=measure, cvar_beta=0.95,
                         evar_beta=0.95, cdar_beta=0.95, edar_beta=0.95, prior_estimator=prior, solver="CLARABEL", solver_params=TOL).fit(returns)
        ptf = model.predict(returns)
        ptf.sample_weight = p
        value = float(getattr(ptf, measure.value))
        out["min_risk"][name] = {"weights": model.weights_.tolist(), "value": value}
        print(f"{name:15} {value:.10f}")
    ratio = MeanRisk(objective_function=ObjectiveFunction.MAXIMIZE_RATIO, risk_measure=RiskMeasure.CVAR,
                     cvar_beta=0.95, risk_free_rate=0.0, prior_estimator=prior, solver="CLARABEL",
                     solver_params=TOL).fit(returns)
    out["max_ratio_cvar"] = {"weights": ratio.weights_.tolist()}
    out["frontier_cvar"] = frontier(returns, prior, p)
    out["hierarchical"] = hierarchical(returns, prior, p)
    out["profile"] = profile(returns, np.array(out["min_risk"]["cvar"]["weights"]), p)
    dest = ROOT / "tests" / "fixtures" / "weighted_scenarios_reference.json"
    dest.write_text(json.dumps(out) + "\n")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
