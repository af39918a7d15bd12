#!/usr/bin/env python3
"""Reference fixture for the deep-allocator tests, from PyTorch.

The study's network in PyTorch — Conv1d over time (ReLU), MaxPool1d,
LSTM (full sequence), LSTM (last state), Linear + tanh, softmax — with small
sizes, a seeded fixed input batch and future-return windows. Records the
weights (under assetalloc's names and layout: `conv.weight` is PyTorch's
[F, C, K] permuted to [F, K, C] and flattened to [F, K*C]), the softmax
weights, both losses (Markowitz with λ and L2, and Sharpe) and every
parameter's gradient under each. Computed in float64; the Rust side runs in
float32.

Writes tests/fixtures/deep_reference.json.

    pip install torch
    python3 tools/reference/deep.py
"""
import json
import pathlib

import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "deep_reference.json"

N, T, NF, F, K, POOL, H1, H2, B = 3, 9, 5, 4, 3, 2, 5, 3, 4
LAMBDA, L2 = 0.7, 0.05


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(N, F, K)
        self.pool = torch.nn.MaxPool1d(POOL)
        self.lstm1 = torch.nn.LSTM(F, H1, batch_first=True)
        self.lstm2 = torch.nn.LSTM(H1, H2, batch_first=True)
        self.head = torch.nn.Linear(H2, N)

    def forward(self, x):  # x [B, T, N]
        y = torch.relu(self.conv(x.transpose(1, 2)))  # [B, F, T-K+1]
        y = self.pool(y).transpose(1, 2)  # [B, T', F]
        y, _ = self.lstm1(y)
        y, _ = self.lstm2(y)
        return torch.softmax(torch.tanh(self.head(y[:, -1])), dim=1)


def moments(w, future):  # future [B, N, NF]
    p = torch.einsum("bn,bnt->bt", w, future)
    return p.mean(1), p.var(1, unbiased=True)


def markowitz(w, future):
    m, v = moments(w, future)
    return -(m - LAMBDA * v - L2 * (w**2).sum(1)).mean()


def sharpe(w, future):
    m, v = moments(w, future)
    return -(m / torch.sqrt(v + 1e-8)).mean()


def ours(name, t):
    """A parameter in assetalloc's layout, flattened."""
    if name == "conv.weight":
        t = t.permute(0, 2, 1).reshape(F, K * N)
    return t.detach().reshape(-1).tolist()


def main():
    torch.manual_seed(7)
    torch.set_default_dtype(torch.float64)
    net = Net()
    # Scaled daily returns (×20): a standard deviation of about 0.4.
    x = 0.4 * torch.randn(B, T, N)
    future = 0.4 * torch.randn(B, N, NF) + 0.05
    out = {
        "config": dict(assets=N, n_time=T, n_future=NF, filters=F, kernel=K, pool=POOL, hidden1=H1, hidden2=H2,
                       batch=B, risk_aversion=LAMBDA, l2=L2),
        "params": {k: ours(k, v) for k, v in net.named_parameters()},
        "x": x.reshape(-1).tolist(),
        "future": future.reshape(-1).tolist(),
    }
    w = net(x)
    out["weights"] = w.detach().reshape(-1).tolist()
    for name, f in [("markowitz", markowitz), ("sharpe", sharpe)]:
        net.zero_grad()
        loss = f(net(x), future)
        loss.backward()
        out[f"loss_{name}"] = loss.item()
        out[f"grads_{name}"] = {k: ours(k, v.grad) for k, v in net.named_parameters()}
    OUT.write_text(json.dumps(out, indent=1))
    print(f"wrote {OUT.relative_to(ROOT)}: {sum(p.numel() for p in net.parameters())} parameters")


if __name__ == "__main__":
    main()
