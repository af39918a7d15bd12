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


def load_dow():
    returns = pd.read_csv(ROOT / "data" / "dow_returns.csv", index_col=0, parse_dates=True)
    volumes = pd.read_csv(ROOT / "data" / "dow_volumes.csv", index_col=0, parse_dates=True)
    return returns, volumes


def monthly_decisions(dates, lookback=LOOKBACK):
    """The project's Schedule::Monthly from the first decision (row
    lookback - 1): that row, then the last row of each month."""
    t0 = lookback - 1
    return [t for t in range(t0, len(dates) - 1) if t == t0 or dates[t].month != dates[t + 1].month]


def cvx_returns(r, volumes):
    """cvxportfolio's returns: each row dated at the start of its period
    (the previous price date, the volumes' dates), then a closing row of
    zeros. `r` ends with the cash column."""
    assert (volumes.index[1:] == r.index).all()
    shifted = r.copy()
    shifted.index = volumes.index[:-1]
    closing = pd.DataFrame(0.0, index=[volumes.index[-1]], columns=r.columns)
    return pd.concat([shifted, closing])


def rms_sigma(r, window=SIGMA_WINDOW):
    """Root mean square of the last `window` returns observed up to and
    including each decision date (the project's impact sigma)."""
    return (r**2).rolling(window, min_periods=1).mean() ** 0.5


def simulator(r, volumes, costs, min_obs=0, base=None):
    """A MarketSimulator on the project's returns `r` (last column cash)."""
    min_history = pd.Timedelta(0)
    frame = cvx_returns(r, volumes)
    if min_obs:
        ppy = cvx.utils.periods_per_year_from_datetime_index(frame.index)
        min_history = pd.Timedelta(days=min_obs / ppy * 365.24)
    sim = cvx.MarketSimulator(
        returns=frame, volumes=volumes, costs=costs, cash_key=r.columns[-1], min_history=min_history, base_location=base
    )
    assert sim.market_data._min_num_obs == min_obs, sim.market_data._min_num_obs
    return sim


def backtest(sim, policy, r, volumes, lookback=LOOKBACK):
    """The policy from the project's first decision date to the last date."""
    return sim.backtest(policy, start_time=r.index[lookback - 1], end_time=volumes.index[-1], initial_value=CAPITAL)


def run(policy, r, volumes, costs, min_obs=0):
    with tempfile.TemporaryDirectory() as base:
        result = backtest(simulator(r, volumes, costs, min_obs, base), policy, r, volumes)
    v = result.v
    return [float(x) for x in v.values], [str(d.date()) for d in v.index]


def main():
    returns, volumes = load_dow()
    assets = [c for c in returns.columns if c != "cash"]
    n = len(assets)
    dates = returns.index
    out = {
        "source": "cvxportfolio 1.5.1 MarketSimulator on data/dow_returns.csv and data/dow_volumes.csv",
        "lookback": LOOKBACK,
        "sigma_window": SIGMA_WINDOW,
        "capital": CAPITAL,
    }

    # (a) fixed weights, monthly, proportional + impact.
    weights_a = np.arange(1, n + 1, dtype=float)
    weights_a = 0.95 * weights_a / weights_a.sum()
    decision_dates = pd.DatetimeIndex([dates[t] for t in monthly_decisions(dates)])
    target = pd.Series(list(weights_a) + [1 - weights_a.sum()], index=assets + ["cash"])
    costs_a = [cvx.TransactionCost(a=0.0005, b=1.0, sigma=rms_sigma(returns[assets]))]
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
    costs_c = [cvx.TransactionCost(a=0.001, b=1.0, sigma=rms_sigma(changing[assets]))]
    v, vdates = run(cvx.Uniform(), changing, volumes, costs_c, min_obs=LOOKBACK)
    out["c"] = {"listings": listings, "delistings": delistings, "a": 0.001, "b": 1.0, "wealth": v, "dates": vdates}

    path = ROOT / "tests" / "fixtures" / "market_reference.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}: final wealth a {out['a']['wealth'][-1]:.2f}, b {out['b']['wealth'][-1]:.2f}, c {out['c']['wealth'][-1]:.2f}")


if __name__ == "__main__":
    main()
