#!/usr/bin/env python3
"""Opinion pooling by skfolio, for the tests.

The last 2,000 daily simple returns of the bundled S&P 500 (as
tools/reference/entropy_pooling.py reads them), two experts' entropy-pooling
posteriors (one with a view on AAPL's mean, one with a ranking and a bound
on means and a view on MSFT's variance; Clarabel at tolerances of 1e-12),
pooled by skfolio's OpinionPooling: linearly and logarithmically with
opinion probabilities 0.4 and 0.5 (the prior keeps 0.1), logarithmically
with 0.3 and 0.7, and linearly with a divergence penalty of 50. Writes
tests/fixtures/opinion_pooling_reference.json with each expert's posterior
and each case's pooled probabilities; tests/estimators.rs matches them.

    pip install skfolio==1.12.2
    python3 tools/reference/opinion_pooling.py
"""
import json
import pathlib

import pandas as pd
import skfolio
from skfolio.prior import EntropyPooling, OpinionPooling

from entropy_pooling import TIGHT  # the experts solved as the entropy-pooling fixture's

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXPERTS = {
    "a": {"mean_views": ["AAPL == 0.002"]},
    "b": {"mean_views": ["XOM <= 0.0", "AAPL - MSFT >= 0.0005"], "variance_views": ["MSFT == 0.0004"]},
}
CASES = [
    {"probabilities": [0.4, 0.5], "linear": True, "penalty": 0.0},
    {"probabilities": [0.4, 0.5], "linear": False, "penalty": 0.0},
    {"probabilities": [0.3, 0.7], "linear": False, "penalty": 0.0},
    {"probabilities": [0.4, 0.5], "linear": True, "penalty": 50.0},
]


def expert(views):
    return EntropyPooling(**views, solver="CLARABEL", solver_params=TIGHT)


def main():
    prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
    returns = prices.pct_change().iloc[1:].iloc[-2000:]
    out = {"skfolio": skfolio.__version__, "rows": len(returns), "experts": {}, "cases": []}
    for name, views in EXPERTS.items():
        out["experts"][name] = expert(views).fit(returns).return_distribution_.sample_weight.tolist()
    for case in CASES:
        op = OpinionPooling(estimators=[(n, expert(v)) for n, v in EXPERTS.items()],
                            opinion_probabilities=case["probabilities"], is_linear_pooling=case["linear"],
                            divergence_penalty=case["penalty"]).fit(returns)
        out["cases"].append({**case, "pooled": op.return_distribution_.sample_weight.tolist(),
                             "opinion_probabilities": op.opinion_probabilities_.tolist()})
        print(case, op.opinion_probabilities_)
    path = ROOT / "tests" / "fixtures" / "opinion_pooling_reference.json"
    path.write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
