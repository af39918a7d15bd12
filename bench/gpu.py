#!/usr/bin/env python3
"""The GPU workloads of examples/gpu_check.rs in PyTorch with CUDA (nn.LSTM
runs on cuDNN), for the side-by-side ratio; run where PyTorch sees a GPU
(tools/gpu_run.sh runs both).

Same work as gpu_check: a 2-layer LSTM (hidden 32 and 256) + Linear head on
20 inputs, window 20, batch 64 and 1024, MSE, Adam 1e-3, gradient clipping
at norm 1, shuffled mini-batches, max(8192, 32 × batch) samples; and the deep
allocator's CNN+LSTM (bench/deep.py's network and loss) on the bundled
S&P 500, batch 64. The data live on the GPU and each batch's windows are
gathered there (the fastest honest PyTorch loop; assetalloc gathers on the
host and copies each batch over). Samples/s: median over the epochs after
the first, with the GPU synchronised before each clock read.

    python3 bench/gpu.py [OUT.json]
"""
import json
import pathlib
import sys
import time

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from deep import LAMBDA, N_FUTURE, N_TIME, Net, log_returns  # noqa: E402
from forecast import Regressor  # noqa: E402

EPOCHS, WINDOW, INPUTS = 3, 20, 20


def steady(rates):
    rest = rates[1:] if len(rates) > 1 else rates
    return sorted(rest)[len(rest) // 2]


def epochs_rate(dev, n, batch, model, loss_of):
    """Trains `model` with Adam 1e-3 and clipping at norm 1 for EPOCHS epochs
    of `n` shuffled samples; `loss_of(idx)` is a batch's loss. Samples/s."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rates = []
    for _ in range(EPOCHS):
        order = torch.randperm(n, device=dev)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for s in range(0, n, batch):
            opt.zero_grad()
            loss_of(order[s : s + batch]).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        torch.cuda.synchronize()
        rates.append(n / (time.perf_counter() - t0))
    return steady(rates)


def lstm_rate(dev, hidden, batch):
    samples = max(8192, 32 * batch)
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    z = torch.tensor(rng.standard_normal((samples + WINDOW, INPUTS)) * 0.01, dtype=torch.float32, device=dev)
    windows = z.unfold(0, WINDOW, 1).transpose(1, 2)  # [samples + 1, WINDOW, INPUTS], a view
    m = Regressor(INPUTS, hidden, 2).to(dev)
    rate = epochs_rate(dev, samples, batch, m, lambda idx: torch.nn.functional.mse_loss(m(windows[idx]), z[idx + WINDOW]))
    return rate, samples


def deep_rate(dev, batch=64):
    torch.manual_seed(0)
    z = torch.tensor(log_returns() * N_TIME, dtype=torch.float32, device=dev)
    n = z.shape[0] - N_TIME - N_FUTURE + 1
    past = z.unfold(0, N_TIME, 1).transpose(1, 2)  # [.., N_TIME, assets]
    future = z[N_TIME:].unfold(0, N_FUTURE, 1)  # [.., assets, N_FUTURE]
    net = Net(z.shape[1]).to(dev)

    def loss_of(idx):
        p = torch.einsum("bn,bnt->bt", net(past[idx]), future[idx])
        return -(p.mean(1) - LAMBDA * p.var(1, unbiased=True)).mean()

    return epochs_rate(dev, n, batch, net, loss_of), n


def main():
    if not torch.cuda.is_available():
        sys.exit("bench/gpu.py: PyTorch sees no CUDA GPU")
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    rows = []
    for hidden in (32, 256):
        for batch in (64, 1024):
            rate, samples = lstm_rate(dev, hidden, batch)
            rows.append({"layers": 2, "hidden": hidden, "batch": batch, "window": WINDOW, "inputs": INPUTS,
                         "samples": samples, "pytorch_samples_per_s": rate})
            print(f"LSTM 2x{hidden} batch {batch}: {rate:,.0f} samples/s", file=sys.stderr)
    deep, n = deep_rate(dev)
    print(f"deep allocator batch 64: {deep:,.0f} samples/s", file=sys.stderr)
    out = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda,
           "cudnn": torch.backends.cudnn.version(), "epochs": EPOCHS, "lstm_training": rows,
           "deep": {"samples": n, "batch": 64, "pytorch_samples_per_s": deep}}
    text = json.dumps(out, indent=1)
    if len(sys.argv) > 1:
        pathlib.Path(sys.argv[1]).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
