#!/usr/bin/env python3
"""Reference backtests of cvxportfolio's SinglePeriodOptimization and
MultiPeriodOptimization for the trade-aware policies (tests/trade_aware.rs
runs the same policies on the same data and forecasts).

Data: the bundled 28 Dow stocks of 2014 (data/dow_returns.csv,
data/dow_volumes.csv), cash earning nothing, starting capital 1,000,000,
a decision every day from the 63rd return on.

Forecasts, the same for both libraries, at each decision date's close:
  mu     the mean of the last 63 returns (up to and including the date),
         times 0.2 (a forecast shrunk toward zero);
  Sigma  their sample covariance (ddof 1).
Policy: maximise  mu'w - gamma_risk w'Sigma w - gamma_trade cost(z)
long-only with cash (LongOnly, LeverageLimit(1)), gamma_risk = 5,
TransactionCost(a = 5 bps, b = 1) with sigma the root mean square of the
last 21 returns up to the decision date and the decision date's volume.
The simulator charges the same TransactionCost.

Cases: spo (one period), mpo (5 periods, forecasts decaying by 0.7 a step
as ReturnsForecast's `decay` makes them), and long_short: one period,
weights in [-0.1, 0.3], gross leverage at most 1.5, cash at least 0, and
HoldingCost short fees of 1 % + 0.25 % · i a year on asset i (per period
at 252 periods a year in the policy, over calendar days in the
simulator). Each records the wealth path and the post-trade weights of
every decision.

Writes tests/fixtures/trade_aware_reference.json.

    pip install cvxportfolio==1.5.1 pandas numpy
    python3 tools/reference/trade_aware.py
"""
import json
import pathlib
import sys
import tempfile
import time

import cvxportfolio as cvx
import numpy as np
import pandas as pd

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from market import CAPITAL, backtest, load_dow, rms_sigma, simulator  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOOKBACK = 63
SHRINK = 0.2
GAMMA_RISK = 5.0
A = 0.0005
B = 1.0
HORIZON = 5
DECAY = 0.7
SOLVER = dict(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11, max_iter=500)


def data():
    returns, volumes = load_dow()
    returns["cash"] = 0.0
    assets = [c for c in returns.columns if c != "cash"]
    return returns, volumes, assets


def forecasts(returns, assets):
    r = returns[assets]
    mu = SHRINK * r.rolling(LOOKBACK).mean()
    cov = r.rolling(LOOKBACK).cov(ddof=1)
    return mu.dropna(), cov.dropna()


def short_fees(assets):
    """Annual short fees in percent, by asset."""
    return pd.Series(1.0 + 0.25 * np.arange(len(assets)), index=assets)


def policy(kind, returns, volumes, assets, solver=SOLVER):
    mu, cov = forecasts(returns, assets)
    sigma = rms_sigma(returns[assets])
    cost = cvx.TransactionCost(a=A, b=B, sigma=sigma, volume_hat=volumes[assets])
    constraints = [cvx.LongOnly(), cvx.LeverageLimit(1)]
    if kind == "long_short":
        hold = cvx.HoldingCost(short_fees=short_fees(assets), periods_per_year=252)
        objective = cvx.ReturnsForecast(r_hat=mu) - GAMMA_RISK * cvx.FullCovariance(Sigma=cov) - cost - hold
        constraints = [cvx.LeverageLimit(1.5), cvx.LongCash(), cvx.MinWeights(-0.1), cvx.MaxWeights(0.3)]
        return cvx.SinglePeriodOptimization(objective, constraints, include_cash_return=False, **solver)
    if kind == "spo":
        objective = cvx.ReturnsForecast(r_hat=mu) - GAMMA_RISK * cvx.FullCovariance(Sigma=cov) - cost
        return cvx.SinglePeriodOptimization(objective, constraints, include_cash_return=False, **solver)
    objective = cvx.ReturnsForecast(r_hat=mu, decay=DECAY) - GAMMA_RISK * cvx.FullCovariance(Sigma=cov) - cost
    return cvx.MultiPeriodOptimization(
        objective, constraints, planning_horizon=HORIZON, include_cash_return=False, **solver
    )


def run(kind, solver=SOLVER):
    returns, volumes, assets = data()
    costs = [cvx.TransactionCost(a=A, b=B, sigma=rms_sigma(returns[assets]))]
    if kind == "long_short":
        costs.append(cvx.HoldingCost(short_fees=short_fees(assets)))
    with tempfile.TemporaryDirectory() as base:
        sim = simulator(returns, volumes, costs, base=base)
        t0 = time.perf_counter()
        result = backtest(sim, policy(kind, returns, volumes, assets, solver), returns, volumes, lookback=LOOKBACK)
        seconds = time.perf_counter() - t0
    # The last row is the closing date, with no decision.
    post = (result.w + result.z)[assets].iloc[:-1]
    assert not post.isna().any().any()
    return {
        "wealth": [float(x) for x in result.v.values],
        "dates": [str(d.date()) for d in result.v.index],
        "weights": [[float(x) for x in row] for row in post.values],
        "seconds": seconds,
    }


def main():
    out = {
        "source": "cvxportfolio 1.5.1 SinglePeriodOptimization / MultiPeriodOptimization on data/dow_*.csv",
        "lookback": LOOKBACK,
        "shrink": SHRINK,
        "gamma_risk": GAMMA_RISK,
        "a": A,
        "b": B,
        "sigma_window": 21,
        "horizon": HORIZON,
        "decay": DECAY,
        "capital": CAPITAL,
    }
    out["short_fees"] = [float(x) / 100 for x in short_fees(data()[2]).values]
    for kind in ["spo", "mpo", "long_short"]:
        out[kind] = run(kind)
        print(f"{kind}: final wealth {out[kind]['wealth'][-1]:.2f} in {out[kind]['seconds']:.1f} s")
    path = ROOT / "tests" / "fixtures" / "trade_aware_reference.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
