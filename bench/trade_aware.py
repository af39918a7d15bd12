#!/usr/bin/env python3
"""Trade-aware policies, side by side: assetalloc (examples/trade_aware.rs)
against cvxportfolio's SinglePeriodOptimization and
MultiPeriodOptimization (5 periods) on the reference test's data, forecasts,
costs and constraints (tools/reference/trade_aware.py): the bundled 28 Dow
stocks of 2014, a decision every day from the 63rd return, a 5 bps spread
and market impact (b = 1), long-only with cash, capital 1,000,000.

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
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "reference"))
import trade_aware as ref  # noqa: E402  (the reference's policies)

OUT = ROOT / "target" / "bench"


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
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "trade_aware.json").write_text(json.dumps(rows, indent=1))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
