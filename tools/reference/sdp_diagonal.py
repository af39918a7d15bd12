#!/usr/bin/env python3
"""The largest diagonal share of a correlation matrix, from cvxpy.

For correlation matrices C of seeded factor models (20, 50 and 100 assets,
three factors plus specific noise, and 50 assets of one strong factor),
solves the semidefinite program max sum(e) s.t. C - diag(e) PSD, e >= 0 (through
its dual) on Clarabel through cvxpy. Writes tests/fixtures/sdp_diagonal_reference.json
(each C and the optimal value), which the variance measure's unit test
matches at 1e-6 relative.

    pip install cvxpy==1.9.3
    python3 tools/reference/sdp_diagonal.py
"""
import json
import pathlib

import cvxpy as cp
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def correlation(n, factors, specific, seed):
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, 1.0, size=(n, factors))
    cov = b @ b.T + np.diag(rng.uniform(0.5, 1.5, n) * specific)
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def main():
    cases = []
    for n, k, s, seed in [(20, 3, 1.0, 1), (50, 3, 1.0, 2), (100, 3, 1.0, 3), (50, 1, 0.1, 4)]:
        c = np.round(correlation(n, k, s, seed), 12)
        # The dual, min tr(C Z) s.t. diag(Z) >= 1, Z PSD, which Clarabel
        # solves to its tolerances (the primal form ends "inaccurate").
        z = cp.Variable((n, n), PSD=True)
        prob = cp.Problem(cp.Minimize(cp.trace(c @ z)), [cp.diag(z) >= 1])
        prob.solve(solver=cp.CLARABEL)
        assert prob.status == "optimal", prob.status
        lam = np.linalg.eigvalsh(c).min()
        print(n, k, prob.status, prob.value, "λ_min share", n * lam)
        cases.append({"n": n, "correlation": c.tolist(), "value": prob.value})
    path = ROOT / "tests" / "fixtures" / "sdp_diagonal_reference.json"
    path.write_text(json.dumps({"source": f"cvxpy {cp.__version__} on Clarabel", "cases": cases}) + "\n")


if __name__ == "__main__":
    main()
