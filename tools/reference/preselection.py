#!/usr/bin/env python3
"""Asset pre-selection and stacking from skfolio.

Pre-selection, on the bundled S&P 500's last 2,000 daily simple returns
(20 stocks): skfolio's DropCorrelated (plain and absolute), SelectKExtremes
(Sharpe ratio, standard deviation, mean) and SelectNonDominated (first
front, and at least 8 assets). On a generated panel with a hedge pair
(two assets correlated at about -0.9 whose minimum-variance mix is
efficient where neither asset is): SelectNonDominated. On a generated panel
with missing values (listed late, delisted, suspended): SelectComplete with
drop_assets_with_internal_nan=True.

Stacking, on the same S&P 500 rows: StackingOptimization of inverse
volatility, minimum variance and maximum Sharpe ratio, the final estimator
minimum variance (and, in a second case, maximum Sharpe ratio), cross-
validated with KFold(5) unshuffled (2,000 rows: five folds of 400).

Writes tests/fixtures/preselection_reference.json, which
tests/preselection.rs matches.

    pip install skfolio==1.12.2
    python3 tools/reference/preselection.py
"""
import json
import pathlib

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold
from skfolio import PerfMeasure, RatioMeasure, RiskMeasure
from skfolio.optimization import InverseVolatility, MeanRisk, ObjectiveFunction, StackingOptimization
from skfolio.pre_selection import DropCorrelated, SelectComplete, SelectKExtremes, SelectNonDominated

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROWS = 2000


def mask(step, x):
    return [bool(b) for b in step.fit(x).to_keep_]


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().dropna().iloc[-ROWS:]
    x = returns.values
    out = {"source": "skfolio 1.12.2 pre_selection and StackingOptimization",
           "assets": list(returns.columns), "rows": ROWS}
    out["drop_correlated"] = [
        {"threshold": t, "absolute": a, "keep": mask(DropCorrelated(threshold=t, absolute=a), x)}
        for t, a in [(0.5, False), (0.6, False), (0.45, True)]
    ]
    measures = {"sharpe": (RatioMeasure.SHARPE_RATIO, True), "volatility": (RiskMeasure.STANDARD_DEVIATION, False),
                "mean": (PerfMeasure.MEAN, True)}
    out["keep_best"] = [
        {"k": k, "measure": name, "keep": mask(SelectKExtremes(k=k, measure=measures[name][0],
                                                               highest=measures[name][1]), x)}
        for k, name in [(5, "sharpe"), (7, "volatility"), (4, "mean")]
    ]
    out["non_dominated"] = [
        {"min_assets": m, "keep": mask(SelectNonDominated(min_n_assets=None if m == 1 else m), x)}
        for m in [1, 8]
    ]

    # A hedge pair: asset 4 is about -0.9 times asset 0, both volatile and
    # with means near zero, so each is dominated but their mix is the
    # least-variance point of the front.
    rng = np.random.default_rng(7)
    h = rng.normal(0.0, 0.01, size=(400, 6)) + np.array([0.0, 0.0012, 0.0016, 0.002, 0.0, 0.0024])
    h[:, 0] = rng.normal(0.0, 0.015, 400)
    h[:, 4] = -0.9 * h[:, 0] + rng.normal(0.0, 0.005, 400)
    plain = mask(SelectNonDominated(threshold=-1.0), h)
    hedged = [{"min_assets": m, "keep": mask(SelectNonDominated(min_n_assets=None if m == 1 else m), h)}
              for m in [1, 4]]
    assert plain != hedged[0]["keep"], "the hedge pair must change the first front"
    out["hedge"] = {"returns": h.tolist(), "cases": hedged, "without_pairs": plain}

    # Missing values: asset 1 listed on row 20, asset 2 delisted after row
    # 250, asset 4 suspended on rows 100 to 104.
    m = rng.normal(0.0, 0.01, size=(300, 5))
    m[:20, 1] = np.nan
    m[251:, 2] = np.nan
    m[100:105, 4] = np.nan
    out["incomplete"] = {"returns": [[None if np.isnan(v) else v for v in row] for row in m],
                         "keep": mask(SelectComplete(drop_assets_with_internal_nan=True), m)}

    inner = [("inverse volatility", InverseVolatility()), ("min variance", MeanRisk()),
             ("max Sharpe", MeanRisk(objective_function=ObjectiveFunction.MAXIMIZE_RATIO))]
    out["stacking"] = []
    for final in ["min variance", "max Sharpe"]:
        outer = MeanRisk() if final == "min variance" else MeanRisk(
            objective_function=ObjectiveFunction.MAXIMIZE_RATIO)
        model = StackingOptimization(estimators=inner, final_estimator=outer, cv=KFold(5))
        model.fit(x)
        out["stacking"].append({
            "outer": final,
            "weights": np.asarray(model.weights_).tolist(),
            "outer_weights": np.asarray(model.final_estimator_.weights_).tolist(),
            "inner_weights": [np.asarray(e.weights_).tolist() for e in model.estimators_],
        })
        print(final, np.round(model.final_estimator_.weights_, 4))
    path = ROOT / "tests" / "fixtures" / "preselection_reference.json"
    path.write_text(json.dumps(out) + "\n")
    for k in ["drop_correlated", "keep_best", "non_dominated"]:
        for c in out[k]:
            print(k, {a: b for a, b in c.items() if a != "keep"}, sum(c["keep"]))
    print("hedge", [sum(c["keep"]) for c in hedged], sum(plain), "incomplete", out["incomplete"]["keep"])


if __name__ == "__main__":
    main()
