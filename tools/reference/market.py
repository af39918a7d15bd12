#!/usr/bin/env python3
"""Reference wealth paths from cvxportfolio's MarketSimulator for the
realistic-market tests: the bundled 28 Dow stocks of 2014
(data/dow_returns.csv, data/dow_volumes.csv), starting capital 1,000,000,
cash earning the bundled cash return.

Cases (the Rust test tests/market.rs runs the same policy on the same data):
  a  fixed weights (95 % invested), rebalanced on the last trading day of
     each month, TransactionCost(a = 5 bps, b = 1) with sigma the root mean
     square of the last 21 returns up to the decision date;
  b  a long-short book rebalanced monthly, per-asset proportional costs and
     per-asset HoldingCost short fees;
  c  a universe that changes mid-sample (three late listings, two
     delistings), 1/N of the tradable assets every day with
     TransactionCost(a = 10 bps, b = 1).

Timing. The project dates a return at the end of its period and decides at
a date's close; cvxportfolio dates a return at the start of its period and
decides at that time. So cvxportfolio's returns carry the previous price
date (the first being the volumes' first date, 2014-01-02), and one row of
zeros closes the calendar so the last period is simulated.

Writes tests/fixtures/market_reference.json.

    pip install cvxportfolio==1.5.1 pandas numpy
    python3 tools/reference/market.py
"""
import json
import logging
import pathlib
import tempfile

import cvxportfolio as cvx
import numpy as np
import pandas as pd

logging.disable(logging.WARNING)

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOOKBACK = 21
SIGMA_WINDOW = 21
CAPITAL = 1e6

returns = pd.read_csv(ROOT / "data" / "dow_returns.csv", index_col=0, parse_dates=True)
volumes = pd.read_csv(ROOT / "data" / "dow_volumes.csv", index_col=0, parse_dates=True)
assets = [c for c in returns.columns if c != "cash"]
n = len(assets)
dates = returns.index  # the project's return dates
assert (volumes.index[1:] == dates).all()


def monthly_decisions():
    """The project's Schedule::Monthly from the first decision (row
    LOOKBACK - 1): that row, then the last row of each month."""
    t0 = LOOKBACK - 1
    rows = [t for t in range(t0, len(dates) - 1) if t == t0 or dates[t].month != dates[t + 1].month]
    return rows


def cvx_frames(r):
    """cvxportfolio's returns (start-of-period dates, a closing row) and the
    sigma forecasts indexed by decision date."""
    shifted = r.copy()
    shifted.index = volumes.index[:-1]
    closing = pd.DataFrame(0.0, index=[volumes.index[-1]], columns=r.columns)
    cvx_returns = pd.concat([shifted, closing])
    # Root mean square of the last SIGMA_WINDOW returns (those observed) up
    # to and including each decision date.
    sigma = (r[assets] ** 2).rolling(SIGMA_WINDOW, min_periods=1).mean() ** 0.5
    return cvx_returns, sigma


def run(policy, r, vols, costs, min_obs=0):
    cvx_returns, _ = cvx_frames(r)
    min_history = pd.Timedelta(0)
    if min_obs:
        ppy = cvx.utils.periods_per_year_from_datetime_index(cvx_returns.index)
        min_history = pd.Timedelta(days=min_obs / ppy * 365.24)
    with tempfile.TemporaryDirectory() as base:
        sim = cvx.MarketSimulator(
            returns=cvx_returns,
            volumes=vols,
            costs=costs,
            cash_key="cash",
            min_history=min_history,
            base_location=base,
        )
        assert sim.market_data._min_num_obs == min_obs, sim.market_data._min_num_obs
        start = dates[LOOKBACK - 1]
        result = sim.backtest(policy, start_time=start, end_time=volumes.index[-1], initial_value=CAPITAL)
    v = result.v
    return [float(x) for x in v.values], [str(d.date()) for d in v.index]


out = {
    "source": "cvxportfolio 1.5.1 MarketSimulator on data/dow_returns.csv and data/dow_volumes.csv",
    "lookback": LOOKBACK,
    "sigma_window": SIGMA_WINDOW,
    "capital": CAPITAL,
}

# (a) fixed weights, monthly, proportional + impact.
weights_a = np.arange(1, n + 1, dtype=float)
weights_a = 0.95 * weights_a / weights_a.sum()
decision_dates = pd.DatetimeIndex([dates[t] for t in monthly_decisions()])
target = pd.Series(list(weights_a) + [1 - weights_a.sum()], index=assets + ["cash"])
_, sigma = cvx_frames(returns)
costs_a = [cvx.TransactionCost(a=0.0005, b=1.0, sigma=sigma)]
v, vdates = run(cvx.PeriodicRebalance(target, decision_dates), returns, volumes, costs_a)
out["a"] = {"weights": list(weights_a), "a": 0.0005, "b": 1.0, "wealth": v, "dates": vdates}

# (b) long-short, monthly, per-asset proportional costs and short fees.
weights_b = np.array([0.08] * (n // 2) + [-0.04] * (n - n // 2))
a_b = 0.0002 + 0.00002 * np.arange(n)
fees_b = 1.0 + 0.25 * np.arange(n)  # annual percent
target = pd.Series(list(weights_b) + [1 - weights_b.sum()], index=assets + ["cash"])
costs_b = [
    cvx.TransactionCost(a=pd.Series(a_b, index=assets)),
    cvx.HoldingCost(short_fees=pd.Series(fees_b, index=assets)),
]
v, vdates = run(cvx.PeriodicRebalance(target, decision_dates), returns, volumes, costs_b)
out["b"] = {
    "weights": list(weights_b),
    "a": list(a_b),
    "short_fees": list(fees_b / 100),
    "wealth": v,
    "dates": vdates,
}

# (c) a changing universe, 1/N daily.
listings = {assets[3]: 40, assets[10]: 90, assets[17]: 150}  # first return row
delistings = {assets[5]: 120, assets[22]: 200}  # last return row
changing = returns.copy()
for a, first in listings.items():
    changing.iloc[:first, changing.columns.get_loc(a)] = np.nan
for a, last in delistings.items():
    changing.iloc[last + 1 :, changing.columns.get_loc(a)] = np.nan
_, sigma_c = cvx_frames(changing)
costs_c = [cvx.TransactionCost(a=0.001, b=1.0, sigma=sigma_c)]
v, vdates = run(cvx.Uniform(), changing, volumes, costs_c, min_obs=LOOKBACK)
out["c"] = {"listings": listings, "delistings": delistings, "a": 0.001, "b": 1.0, "wealth": v, "dates": vdates}

path = ROOT / "tests" / "fixtures" / "market_reference.json"
path.write_text(json.dumps(out, indent=1))
print(f"wrote {path}: final wealth a {out['a']['wealth'][-1]:.2f}, b {out['b']['wealth'][-1]:.2f}, c {out['c']['wealth'][-1]:.2f}")
