#!/usr/bin/env python3
"""Reference performance metrics from empyrical-reloaded for the backtest
tests: daily simple returns of the bundled S&P 500 index (data/sp500_index.csv),
252 periods a year, risk-free rate 0 and 2 % a year.

Writes tests/fixtures/metrics_reference.json.

    pip install numpy pandas scipy empyrical-reloaded
    python3 tools/reference/metrics.py
"""
import json
import pathlib

import empyrical as ep
import numpy as np
import pandas as pd
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parents[2]
p = pd.read_csv(ROOT / "data" / "sp500_index.csv", index_col=0, parse_dates=True)["SP500"]
r = p.pct_change().dropna()

out = {"source": "data/sp500_index.csv, daily simple returns", "periods": len(r)}
for rf_annual in (0.0, 0.02):
    rf = rf_annual / 252
    out[f"rf_{rf_annual}"] = {
        "cagr": float(ep.annual_return(r)),
        "volatility": float(ep.annual_volatility(r)),
        "sharpe": float(ep.sharpe_ratio(r, risk_free=rf)),
        "sortino": float(ep.sortino_ratio(r, required_return=rf)),
        "max_drawdown": float(-ep.max_drawdown(r)),
        "calmar": float(ep.calmar_ratio(r)),
        "var95": float(-ep.value_at_risk(r, cutoff=0.05)),
        "cvar95": float(-ep.conditional_value_at_risk(r, cutoff=0.05)),
        "skew": float(stats.skew(r)),
        "kurtosis": float(stats.kurtosis(r)),
        "hit_rate": float((r > 0).mean()),
    }
path = ROOT / "tests" / "fixtures" / "metrics_reference.json"
path.write_text(json.dumps(out, indent=1))
print(f"wrote {path}")
