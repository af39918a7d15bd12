#!/usr/bin/env python3
"""Reference fixtures for the LSTM tests, from PyTorch's nn.LSTM.

For each case: a seeded `nn.LSTM(I, H, L, batch_first=True)` + `nn.Linear(H, O)`
on the last hidden state, a fixed input batch and target; records the
weights (safetensors, PyTorch's state_dict names), the hidden-state
sequence, the final (h, c) of every layer, the head's output, the MSE loss
and every parameter's gradient. Everything in float32.

Writes tests/fixtures/lstm_<case>.safetensors and tests/fixtures/lstm_reference.json.

    pip install torch safetensors
    python3 tools/reference/lstm.py

With `--verify DIR` it instead loads DIR/model.safetensors written by
`cargo run --release --example forecast -- --export DIR` into PyTorch and
checks its predictions on DIR/inputs.json against the Rust ones.
"""
import json
import pathlib
import sys

import torch
from safetensors.torch import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"


class Regressor(torch.nn.Module):
    def __init__(self, inputs, hidden, layers, outputs):
        super().__init__()
        self.lstm = torch.nn.LSTM(inputs, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, outputs)

    def forward(self, x):
        seq, (h, c) = self.lstm(x)
        return self.head(seq[:, -1]), seq, h, c


CASES = {
    # name: (inputs, hidden, layers, outputs, batch, time)
    "small": (3, 5, 2, 2, 4, 7),
    "default": (4, 32, 2, 4, 16, 20),
}


def flat(t):
    return [float(f"{v:.9g}") for v in t.detach().reshape(-1).tolist()]


def reference():
    out = {}
    for name, (i, h, l, o, b, t) in CASES.items():
        torch.manual_seed(7)
        m = Regressor(i, h, l, o)
        x = torch.randn(b, t, i)
        y = torch.randn(b, o)
        pred, seq, hn, cn = m(x)
        loss = torch.nn.functional.mse_loss(pred, y)
        loss.backward()
        state = {k: v.detach().contiguous() for k, v in m.state_dict().items()}
        save_file(state, str(FIX / f"lstm_{name}.safetensors"))
        out[name] = {
            "inputs": i, "hidden": h, "layers": l, "outputs": o, "batch": b, "time": t,
            "x": flat(x), "y": flat(y),
            "sequence": flat(seq), "h_n": flat(hn), "c_n": flat(cn),
            "prediction": flat(pred), "loss": float(loss.detach()),
            "grads": {k: flat(p.grad) for k, p in m.named_parameters()},
        }
    (FIX / "lstm_reference.json").write_text(json.dumps(out))
    print("wrote", FIX / "lstm_reference.json", "torch", torch.__version__)


def verify(d):
    d = pathlib.Path(d)
    io = json.loads((d / "inputs.json").read_text())
    state = load_file(str(d / "model.safetensors"))
    m = Regressor(io["inputs"], io["hidden"], io["layers"], io["outputs"])
    m.load_state_dict(state, strict=True)
    x = torch.tensor(io["x"], dtype=torch.float32).reshape(io["batch"], io["time"], io["inputs"])
    with torch.no_grad():
        pred = m(x)[0].reshape(-1)
    rust = torch.tensor(io["prediction"], dtype=torch.float32)
    diff = float((pred - rust).abs().max())
    print(f"PyTorch loaded the Rust-trained model strictly; max |prediction difference| = {diff:.3e}")
    sys.exit(0 if diff < 1e-5 else 1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        verify(sys.argv[2])
    else:
        reference()
