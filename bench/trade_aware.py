#!/usr/bin/env python3
"""Trade-aware policies, side by side: assetalloc (examples/trade_aware.rs)
against cvxportfolio's SinglePeriodOptimization and
MultiPeriodOptimization (5 periods) on the reference test's data, forecasts,
costs and constraints (tools/reference/trade_aware.py): the bundled 28 Dow
stocks of 2014, a decision every day from the 63rd return, a 5 bps spread
and market impact (b = 1), long-only with cash, capital 1,000,000.

Then a monthly single-period policy on a synthetic factor market (500
assets × 2,520 days with volumes, written by the example): mean-variance
(risk aversion 5 in cvxportfolio's form) on a 10-factor principal-component
covariance, the same costs and constraints. The forecasts are each side's
own, as cvxportfolio estimates them (all history to each date, its
FactorModelCovariance) and as ours does (the last 252 days, FactorModel::pca);
cvxportfolio trades monthly in its own monthly simulation, ours is
simulated daily. So the wealth paths differ; the check is that both
invest.

Both solve with Clarabel at the tolerances each library uses by default
(cvxportfolio: cvxpy's Clarabel defaults; assetalloc: 1e-10, falling back
to 1e-8). Times: ours is the backtest call inside the example (the policy
and the 1/N baseline the engine always adds); cvxportfolio's is
MarketSimulator.backtest on an empty cache. Also reports the relative
difference of final wealth. Writes target/bench/trade_aware.json.

    pip install cvxportfolio==1.5.1 pandas numpy
    python3 bench/trade_aware.py
"""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import cvxportfolio as cvx
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "reference"))
import market  # noqa: E402  (the simulator set-up the references share)
import trade_aware as ref  # noqa: E402  (the reference's policies)

OUT = ROOT / "target" / "bench"
DATA = OUT / "trade_aware"


def peer_synthetic():
    """cvxportfolio's monthly SPO on the example's synthetic market."""
    r = pd.read_csv(DATA / "returns.csv", index_col=0, parse_dates=True)
    volumes = pd.read_csv(DATA / "volumes.csv", index_col=0, parse_dates=True)
    sigma = market.rms_sigma(r)
    frame = market.cvx_returns(r.assign(cash=0.0), volumes)
    cost = dict(a=ref.A, b=ref.B, sigma=sigma)
    base = pathlib.Path(tempfile.mkdtemp(prefix="cvxportfolio-"))
    try:
        sim = cvx.MarketSimulator(returns=frame, volumes=volumes, costs=[cvx.TransactionCost(**cost)], cash_key="cash",
                                  trading_frequency="monthly", base_location=base)
        objective = (cvx.ReturnsForecast() - ref.GAMMA_RISK * cvx.FactorModelCovariance(num_factors=10)
                     - cvx.TransactionCost(volume_hat=volumes, **cost))
        policy = cvx.SinglePeriodOptimization(objective, [cvx.LongOnly(), cvx.LeverageLimit(1)],
                                              include_cash_return=False)
        t0 = time.perf_counter()
        result = sim.backtest(policy, start_time=r.index[251], initial_value=ref.CAPITAL)
        seconds = time.perf_counter() - t0
    finally:
        shutil.rmtree(base, ignore_errors=True)
    invested = result.w.drop(columns="cash").sum(axis=1)
    return seconds, len(result.z) - 1, float(invested.mean())


def main():
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "trade_aware"], cwd=ROOT, check=True)
    exe = ROOT / "target" / "release" / "examples" / "trade_aware"
    mine = json.loads(subprocess.run([str(exe)], cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    rows = []
    for ours, kind in zip(mine, ["spo", "mpo"]):
        theirs = ref.run(kind, solver={})
        rows.append({
            "workload": f"28 Dow stocks, {ours['decisions']} daily decisions, "
            + ("single-period" if kind == "spo" else f"multi-period (H = {ours['horizon']})")
            + ", spread + impact",
            "assetalloc_s": ours["seconds"], "cvxportfolio_s": theirs["seconds"],
            "ratio": theirs["seconds"] / ours["seconds"],
            "final_wealth_relative_difference": abs(ours["final_wealth"] / theirs["wealth"][-1] - 1),
        })
    DATA.mkdir(parents=True, exist_ok=True)
    synth = json.loads(subprocess.run([str(exe), "--synthetic", "500,2520", "--write", str(DATA)], cwd=ROOT, check=True,
                                      capture_output=True, text=True).stdout)
    seconds, decisions, invested = peer_synthetic()
    rows.append({
        "workload": f"synthetic {synth['assets']} assets × {synth['days']} days, monthly single-period, 10-factor "
        f"PCA risk model, spread + impact ({synth['decisions']} and {decisions} decisions)",
        "assetalloc_s": synth["seconds"], "cvxportfolio_s": seconds, "ratio": seconds / synth["seconds"],
        "final_wealth_relative_difference": None, "cvxportfolio_mean_invested": invested,
    })
    (OUT / "trade_aware.json").write_text(json.dumps(rows, indent=1))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
