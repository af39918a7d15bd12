#!/usr/bin/env python3
"""Differentiable Markowitz layer side by side: assetalloc's MarkowitzLayer
(examples/deep.rs --layer-time) against cvxpylayers on the same CPU.

Same work on both sides: a batch of 64 seeded problems of 20 assets,

    maximise  mu'w - (gamma/2) ||L'w||^2
    s.t.      sum(w) = 1, 0 <= w <= 0.2, ||w - w_prev||_1 <= 0.5,

gamma = 5; the forward pass solves all 64, the backward pass gives the
gradients of sum(c * w) with respect to mu and L (Sigma = LL'). cvxpylayers
(JAX interface, float64) runs with diffcp's default solver (SCS, as a user
gets it) and with Clarabel; assetalloc runs in float32 on Clarabel, the
problems spread over the cores. Both sides' gradients are compared (largest
difference relative to the largest entry) so the timed work is the same.
Medians of REPEAT runs after one warm-up; writes target/bench/layers.json.

    pip install "cvxpylayers[jax]==1.2.0" diffcp==1.1.9
    python3 bench/layers.py
"""
import json
import os
import pathlib
import subprocess
import time

import cvxpy as cp
import jax
import jax.numpy as jnp
import numpy as np
from cvxpylayers.jax import CvxpyLayer

jax.config.update("jax_enable_x64", True)

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
N, B, GAMMA, CAP, TAU, REPEAT = 20, 64, 5.0, 0.2, 0.5, 10


def problems():
    rng = np.random.default_rng(2024)
    mu = rng.normal(0.0, 0.2, (B, N))
    factor = rng.normal(size=(B, N, N)) / np.sqrt(N) + 0.3 * np.eye(N)
    prev = rng.dirichlet(np.ones(N), size=B)
    cot = rng.normal(size=(B, N))
    return mu, factor, prev, cot


def cvxpylayers_time(mu, factor, prev, cot, solver_args):
    w = cp.Variable(N)
    m, f, p = cp.Parameter(N), cp.Parameter((N, N)), cp.Parameter(N)
    prob = cp.Problem(
        cp.Maximize(m @ w - 0.5 * GAMMA * cp.sum_squares(f.T @ w)),
        [cp.sum(w) == 1, w >= 0, w <= CAP, cp.norm1(w - p) <= TAU],
    )
    layer = CvxpyLayer(prob, parameters=[m, f, p], variables=[w])
    args = [jnp.array(mu), jnp.array(factor), jnp.array(prev)]

    def loss(m_, f_):
        (x,) = layer(m_, f_, args[2], solver_args=solver_args)
        return jnp.sum(jnp.array(cot) * x)

    grad = jax.grad(loss, argnums=(0, 1))
    g = grad(*args[:2])
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        g = grad(*args[:2])
        jax.block_until_ready(g)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2], [np.asarray(x) for x in g]


def rust_time(path):
    exe = ROOT / "target" / "release" / "examples" / "deep"
    out = subprocess.run([str(exe), "--layer-time", str(path), "--repeat", str(REPEAT + 1)], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["seconds_median"], [np.array(r["grad_mu"]).reshape(B, N), np.array(r["grad_factor"]).reshape(B, N, N)], r


def gap(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def main():
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "deep"], cwd=ROOT, check=True)
    mu, factor, prev, cot = problems()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "layer_problems.json"
    path.write_text(json.dumps({"n": N, "batch": B, "gamma": GAMMA, "cap": CAP, "turnover": TAU,
                                "mu": mu.ravel().tolist(), "factor": factor.ravel().tolist(),
                                "previous": prev.ravel().tolist(), "cotangent": cot.ravel().tolist()}))
    ours, g_ours, info = rust_time(path)
    scs, g_scs = cvxpylayers_time(mu, factor, prev, cot, {})
    clar, g_clar = cvxpylayers_time(mu, factor, prev, cot, {"solve_method": "Clarabel"})
    rows = {
        "assetalloc_s": ours,
        "cvxpylayers_scs_s": scs,
        "cvxpylayers_clarabel_s": clar,
        "ratio_scs": scs / ours,
        "ratio_clarabel": clar / ours,
        "grad_gap_vs_clarabel": max(gap(g_ours[0], g_clar[0]), gap(g_ours[1], g_clar[1])),
        "grad_gap_vs_scs": max(gap(g_ours[0], g_scs[0]), gap(g_ours[1], g_scs[1])),
        "degenerate": info["degenerate"],
        "dependent": info["dependent"],
        "solves": info["solves"],
        "threads": os.cpu_count(),
    }
    print(json.dumps(rows, indent=1))
    (OUT / "layers.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
