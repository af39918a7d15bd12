#!/usr/bin/env python3
"""Reference gradients of the differentiable Markowitz layer, from
cvxpylayers (JAX interface, diffcp).

Each case is the program the layer solves,

    maximise  mu'w - (gamma/2) ||L'w||^2
    s.t.      sum(w) = 1, lower <= w <= upper, group limits,
              ||w - w_prev||_1 <= tau   (where a case has a cap),

with Sigma = L L' given through its factor L (the form cvxpylayers needs to
keep the problem DPP). For a seeded mu, L, w_prev and a cotangent c, it
records w* and the gradients of c'w* with respect to mu and L. Cases cover
bounds at their caps and floors, a binding group, a binding turnover cap
with assets left at their previous weights, and the closed form (budget
only).

Writes tests/fixtures/markowitz_layer_reference.json.

    pip install "cvxpylayers[jax]==1.2.0" diffcp==1.1.9 cvxpy==1.9.3
    python3 tools/reference/markowitz_layer.py
"""
import json
import pathlib

import cvxpy as cp
import jax
import jax.numpy as jnp
import numpy as np
from cvxpylayers.jax import CvxpyLayer

jax.config.update("jax_enable_x64", True)

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "markowitz_layer_reference.json"
# Tight solves, so the reference's own error stays well under the tests'
# tolerance.
SOLVER = {"solve_method": "Clarabel", "tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12}


def case(name, n, seed, gamma, lower, upper, groups=(), tau=None, mu_scale=0.3):
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.0, mu_scale, n)
    factor = rng.normal(size=(n, n)) / np.sqrt(n) + 0.3 * np.eye(n)
    prev = rng.dirichlet(np.ones(n))
    cot = rng.normal(size=n)
    w = cp.Variable(n)
    m = cp.Parameter(n)
    f = cp.Parameter((n, n))
    params = [m, f]
    cons = [cp.sum(w) == 1]
    if lower is not None:
        cons.append(w >= lower)
    if upper is not None:
        cons.append(w <= upper)
    for _, members, lo, hi in groups:
        cons += [cp.sum(w[members]) <= hi, cp.sum(w[members]) >= lo]
    if tau is not None:
        p = cp.Parameter(n)
        params.append(p)
        cons.append(cp.norm1(w - p) <= tau)
    prob = cp.Problem(cp.Maximize(m @ w - 0.5 * gamma * cp.sum_squares(f.T @ w)), cons)
    assert prob.is_dpp()
    layer = CvxpyLayer(prob, parameters=params, variables=[w])
    args = [jnp.array(mu), jnp.array(factor)] + ([jnp.array(prev)] if tau is not None else [])

    def loss(mu_, f_):
        (x,) = layer(mu_, f_, *args[2:], solver_args=SOLVER)
        return jnp.dot(jnp.array(cot), x)

    (x,) = layer(*args, solver_args=SOLVER)
    g_mu, g_f = jax.grad(loss, argnums=(0, 1))(args[0], args[1])
    x = np.asarray(x)
    active = int(np.sum(np.isclose(x, upper if upper is not None else np.inf, atol=1e-6)))
    active += int(np.sum(np.isclose(x, lower if lower is not None else -np.inf, atol=1e-6)))
    return {
        "name": name,
        "n": n,
        "gamma": gamma,
        "lower": lower,
        "upper": upper,
        "groups": [{"name": g, "members": mem, "lower": lo, "upper": hi} for g, mem, lo, hi in groups],
        "turnover": tau,
        "mu": mu.tolist(),
        "factor": factor.ravel().tolist(),
        "previous": prev.tolist(),
        "cotangent": cot.tolist(),
        "weights": x.tolist(),
        "grad_mu": np.asarray(g_mu).tolist(),
        "grad_factor": np.asarray(g_f).ravel().tolist(),
        "bounds_at_limit": active,
    }


def main():
    cases = [
        case("closed_form", 6, 1, 2.0, None, None),
        case("long_only_capped", 8, 2, 1.0, 0.0, 0.3, mu_scale=0.5),
        case("long_short", 8, 3, 3.0, -0.2, 0.4),
        case("group", 10, 4, 1.5, 0.0, 0.35, groups=[("first_three", [0, 1, 2], 0.1, 0.3)]),
        case("turnover", 8, 5, 2.0, 0.0, 0.5, tau=0.3, mu_scale=0.6),
    ]
    for c in cases:
        print(c["name"], "weights", np.round(c["weights"], 4), "at limit", c["bounds_at_limit"])
    OUT.write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
