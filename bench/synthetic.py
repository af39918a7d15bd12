"""The synthetic factor market the 500-asset benchmarks share (imported by
bench/hierarchical.py and bench/factor.py)."""
import numpy as np
import pandas as pd


def factor_market(path, assets, days, factors, factor_vol, drift, seed):
    """Prices of `assets` assets over `days` business days from 2015-01-01:
    `factors` Gaussian factors (s.d. `factor_vol`) with standard-normal
    loadings plus Gaussian noise (mean `drift`, s.d. 0.015), seeded; written
    as CSV at `path`. Returns the simple returns (one row fewer)."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(0.0, 1.0, (assets, factors))
    f = rng.normal(0.0, factor_vol, (days, factors))
    returns = f @ loadings.T + rng.normal(drift, 0.015, (days, assets))
    prices = 100.0 * np.cumprod(1.0 + returns, axis=0)
    dates = pd.bdate_range("2015-01-01", periods=days)
    frame = pd.DataFrame(prices, index=dates, columns=[f"A{i:03d}" for i in range(assets)])
    frame.index.name = "date"
    frame.to_csv(path)
    return frame.pct_change().iloc[1:]
