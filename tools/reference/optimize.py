#!/usr/bin/env python3
"""Reference figures for the estimate/optimize tests, from independent
implementations: numpy, scikit-learn's Ledoit-Wolf, cvxpy with the Clarabel
solver, and PyPortfolioOpt.

Data: the bundled S&P 500 panel (data/sp500.csv), full period, daily simple
returns. Moments for the optimisers: sample mean and sample covariance
(ddof = 1), annualised with 252 periods a year.

Writes tests/fixtures/optimize_reference.json.

    pip install numpy pandas scikit-learn cvxpy clarabel pyportfolioopt
    python3 tools/reference/optimize.py
"""
import json
import pathlib

import cvxpy as cp
import numpy as np
import pandas as pd
from pypfopt import EfficientFrontier
from sklearn.covariance import ledoit_wolf

ROOT = pathlib.Path(__file__).resolve().parents[2]
K = 252.0

prices = pd.read_csv(ROOT / "data" / "sp500.csv", index_col=0, parse_dates=True)
R = prices.pct_change().dropna().to_numpy()
T, N = R.shape
assets = list(prices.columns)

mu_d = R.mean(axis=0)
S_d = np.cov(R, rowvar=False, ddof=1)

# Ledoit-Wolf towards a scaled identity: scikit-learn.
lw_id, lw_id_delta = ledoit_wolf(R)


def lw_constant_correlation(X):
    """Ledoit & Wolf (2003), "Honey, I shrunk the sample covariance matrix"."""
    t, n = X.shape
    Xc = X - X.mean(axis=0)
    S = Xc.T @ Xc / t
    sd = np.sqrt(np.diag(S))
    corr = S / np.outer(sd, sd)
    rbar = (corr.sum() - n) / (n * (n - 1))
    F = rbar * np.outer(sd, sd)
    np.fill_diagonal(F, np.diag(S))
    Y = Xc**2
    pi_mat = Y.T @ Y / t - S**2
    pi_hat = pi_mat.sum()
    theta = (Xc**3).T @ Xc / t - np.diag(S)[:, None] * S
    np.fill_diagonal(theta, 0.0)
    rho_hat = np.trace(pi_mat) + rbar * np.sum(np.outer(1 / sd, sd) * theta)
    gamma_hat = np.linalg.norm(F - S, "fro") ** 2
    delta = max(0.0, min(1.0, (pi_hat - rho_hat) / gamma_hat / t))
    return delta * F + (1 - delta) * S, delta


lw_cc, lw_cc_delta = lw_constant_correlation(R)

# EWMA, half-life 63 days: weights 2^(-age/63), normalised; unbiased weighting.
h = 63.0
lam = 0.5 ** (1 / h)
w = lam ** np.arange(T - 1, -1, -1)
w = w / w.sum()
ew_mu = w @ R
Xc = R - ew_mu
ew_cov = (Xc * w[:, None]).T @ Xc / (1 - w @ w)

mu = mu_d * K
S = S_d * K


def solve(objective, constraints):
    prob = cp.Problem(objective, constraints)
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    assert prob.status == "optimal", prob.status
    return prob


x = cp.Variable(N)
Sp = cp.psd_wrap(S)
long_only = [cp.sum(x) == 1, x >= 0]

solve(cp.Minimize(cp.quad_form(x, Sp)), long_only)
w_minvar = x.value.copy()

# True max-Sharpe (r_f = 0): min y'Sy s.t. mu'y = 1, y >= 0; w = y / sum(y).
y = cp.Variable(N)
solve(cp.Minimize(cp.quad_form(y, Sp)), [mu @ y == 1, y >= 0])
w_maxsharpe = y.value / y.value.sum()

ef = EfficientFrontier(pd.Series(mu, index=assets), pd.DataFrame(S, index=assets, columns=assets), solver="CLARABEL")
ef.max_sharpe(risk_free_rate=0.0)
w_maxsharpe_pypfopt = np.array([ef.clean_weights(cutoff=0, rounding=None)[a] for a in assets])

mv = {}
for lam_ in (1.0, 10.0, 100.0):
    solve(cp.Maximize(mu @ x - 0.5 * lam_ * cp.quad_form(x, Sp)), long_only)
    mv[str(lam_)] = x.value.tolist()

# Frontier: minimum variance at 5 target returns from the min-variance
# portfolio's return to 95 % of the highest asset mean.
r_lo = float(mu @ w_minvar)
r_hi = float(0.95 * mu.max())
frontier = []
for target in np.linspace(r_lo, r_hi, 5):
    solve(cp.Minimize(cp.quad_form(x, Sp)), long_only + [mu @ x >= target])
    frontier.append({"target": float(target), "weights": x.value.tolist()})

out = {
    "source": "data/sp500.csv, daily simple returns, full period",
    "assets": assets,
    "periods_per_year": K,
    "observations": T,
    "sample_mean": mu_d.tolist(),
    "sample_cov": S_d.tolist(),
    "ledoit_wolf_identity": {"cov": lw_id.tolist(), "shrinkage": float(lw_id_delta)},
    "ledoit_wolf_constant_correlation": {"cov": lw_cc.tolist(), "shrinkage": float(lw_cc_delta)},
    "ewma_halflife_63": {"mean": ew_mu.tolist(), "cov": ew_cov.tolist()},
    "min_variance": w_minvar.tolist(),
    "max_sharpe": w_maxsharpe.tolist(),
    "max_sharpe_pypfopt": w_maxsharpe_pypfopt.tolist(),
    "mean_variance": mv,
    "frontier": frontier,
}
path = ROOT / "tests" / "fixtures" / "optimize_reference.json"
path.write_text(json.dumps(out, indent=1))
print(f"wrote {path}")
print("max-Sharpe: cvxpy vs PyPortfolioOpt max |dw| =", np.abs(w_maxsharpe - w_maxsharpe_pypfopt).max())
