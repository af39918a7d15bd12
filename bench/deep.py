#!/usr/bin/env python3
"""Deep-allocator training time per epoch side by side: assetalloc (dfdx,
examples/deep.rs --epoch-time) against the same network in PyTorch on the CPU.

Same work on both sides: the bundled S&P 500 (data/sp500.csv, 20 stocks,
1990–2022) as log returns × 20; every 20-day window with the next 20 days
as its target (8,273 samples); Conv1d(20→64, k=3) + ReLU → MaxPool1d(2) →
LSTM(32) → LSTM(16) → Linear(16→20) + tanh → softmax; Markowitz loss
−mean(w·R̄ − 0.1·wᵀCw); Adam 1e-3; gradient clipping at norm 1; shuffled
batches of 64 gathered per batch. Both use THREADS threads (default: all
cores; Rust through RAYON_NUM_THREADS, PyTorch through torch.set_num_threads).
Prints seconds per epoch (median over EPOCHS) and the ratio; writes
target/bench/deep.json.

    pip install torch
    python3 bench/deep.py [THREADS]
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
N_TIME, N_FUTURE, BATCH, EPOCHS, LAMBDA = 20, 20, 64, 3, 0.1


class Net(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.conv = torch.nn.Conv1d(n, 64, 3)
        self.pool = torch.nn.MaxPool1d(2)
        self.lstm1 = torch.nn.LSTM(64, 32, batch_first=True)
        self.lstm2 = torch.nn.LSTM(32, 16, batch_first=True)
        self.head = torch.nn.Linear(16, n)

    def forward(self, x):
        y = self.pool(torch.relu(self.conv(x.transpose(1, 2)))).transpose(1, 2)
        y, _ = self.lstm1(y)
        y, _ = self.lstm2(y)
        return torch.softmax(torch.tanh(self.head(y[:, -1])), dim=1)


def log_returns():
    prices = np.genfromtxt(ROOT / "data" / "sp500.csv", delimiter=",", skip_header=1)[:, 1:]
    return np.diff(np.log(prices), axis=0)


def torch_epoch_seconds():
    torch.manual_seed(0)
    z = torch.tensor(log_returns() * N_TIME, dtype=torch.float32)
    n_samples = z.shape[0] - N_TIME - N_FUTURE + 1
    net = Net(z.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    times = []
    for _ in range(EPOCHS):
        order = torch.randperm(n_samples)
        t0 = time.perf_counter()
        for s in range(0, n_samples, BATCH):
            idx = order[s : s + BATCH].tolist()
            x = torch.stack([z[k : k + N_TIME] for k in idx])
            fut = torch.stack([z[k + N_TIME : k + N_TIME + N_FUTURE].T for k in idx])
            opt.zero_grad()
            w = net(x)
            p = torch.einsum("bn,bnt->bt", w, fut)
            loss = -(p.mean(1) - LAMBDA * p.var(1, unbiased=True)).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        times.append(time.perf_counter() - t0)
    return n_samples, sorted(times)[len(times) // 2]


def rust_epoch_seconds(threads):
    exe = ROOT / "target" / "release" / "examples" / "deep"
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run(
        [str(exe), "--epoch-time", "--epochs", str(EPOCHS)], check=True, capture_output=True, text=True, env=env, cwd=ROOT
    ).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["samples"], r["seconds_per_epoch_median"]


def main():
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "deep"], cwd=ROOT, check=True)
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
    torch.set_num_threads(threads)
    n_rust, rust = rust_epoch_seconds(threads)
    n_torch, pt = torch_epoch_seconds()
    assert n_rust == n_torch, (n_rust, n_torch)
    print(f"threads {threads}, torch {torch.__version__}, {n_rust} samples per epoch, batch {BATCH}")
    print(f"{'assetalloc s/epoch':>18} {'PyTorch s/epoch':>16} {'speed ratio':>11}")
    print(f"{rust:>18.3f} {pt:>16.3f} {pt / rust:>11.2f}")
    out = ROOT / "target" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "deep.json").write_text(
        json.dumps({"threads": threads, "torch": torch.__version__, "samples": n_rust, "assetalloc_s": rust,
                    "pytorch_s": pt, "speed_ratio": pt / rust}, indent=1)
    )


if __name__ == "__main__":
    main()
