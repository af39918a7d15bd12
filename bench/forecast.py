#!/usr/bin/env python3
"""LSTM training throughput side by side: assetalloc (dfdx, examples/forecast.rs
--throughput) against PyTorch's nn.LSTM on the CPU, same work: 2 layers × 32
hidden + Linear head, window 20, batch 64, MSE, Adam 1e-3, gradient clipping
at norm 1, shuffled mini-batches, for 1 and 20 inputs (= outputs). Both use
the same number of threads (THREADS, default: all cores; Rust through
RAYON_NUM_THREADS, PyTorch through torch.set_num_threads). Prints samples/s
(median over epochs) and the ratio; writes target/bench/forecast.json.

    pip install torch
    python3 bench/forecast.py [THREADS]
"""
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLES, EPOCHS, WINDOW, BATCH, HIDDEN, LAYERS = 8192, 3, 20, 64, 32, 2


class Regressor(torch.nn.Module):
    def __init__(self, n, hidden=HIDDEN, layers=LAYERS):
        super().__init__()
        self.lstm = torch.nn.LSTM(n, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, n)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def torch_rate(n):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    z = torch.tensor(rng.standard_normal((SAMPLES + WINDOW, n)), dtype=torch.float32)
    m = Regressor(n)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    rates = []
    for _ in range(EPOCHS):
        order = torch.randperm(SAMPLES)
        t0 = time.perf_counter()
        for s in range(0, SAMPLES, BATCH):
            idx = order[s : s + BATCH]
            # Windows gathered per batch, as the Rust side does.
            x = torch.stack([z[k : k + WINDOW] for k in idx.tolist()])
            y = z[idx + WINDOW]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(m(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
        rates.append(SAMPLES / (time.perf_counter() - t0))
    return sorted(rates)[len(rates) // 2]


def rust_rates(inputs, threads):
    exe = ROOT / "target" / "release" / "examples" / "forecast"
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run(
        [str(exe), "--throughput", ",".join(map(str, inputs)), "--samples", str(SAMPLES), "--epochs", str(EPOCHS)],
        check=True, capture_output=True, text=True, env=env, cwd=ROOT,
    ).stdout
    return {r["inputs"]: r["samples_per_sec_median"] for r in map(json.loads, out.strip().splitlines())}


def main():
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "forecast"], cwd=ROOT, check=True)
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
    torch.set_num_threads(threads)
    inputs = [1, 20]
    rust = rust_rates(inputs, threads)
    rows = []
    print(f"threads {threads}, torch {torch.__version__}")
    print(f"{'inputs':>6} {'assetalloc/s':>13} {'PyTorch/s':>10} {'ratio':>6}")
    for n in inputs:
        t = torch_rate(n)
        rows.append({"inputs": n, "assetalloc": rust[n], "pytorch": t, "ratio": rust[n] / t})
        print(f"{n:>6} {rust[n]:>13.0f} {t:>10.0f} {rust[n] / t:>6.2f}")
    out = ROOT / "target" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "forecast.json").write_text(json.dumps({"threads": threads, "torch": torch.__version__, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
