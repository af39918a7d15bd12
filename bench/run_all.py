#!/usr/bin/env python3
"""Runs every side-by-side benchmark and rewrites bench/RESULTS.md.

Each benchmark script in bench/ times assetalloc and its Python peer on the
same data in one process run and writes target/bench/NAME.json. This script
runs each of them --rounds times (default 3), so the two sides alternate in
time (ours, peer, ours, peer, ...), and reports for every workload the
median of each side and the median ratio with its range over the rounds.
The machine, the commit and the library versions head the file.

    pip install -r bench/requirements.txt
    python3 bench/run_all.py                  # every benchmark, 3 rounds
    python3 bench/run_all.py --only optimize,features --rounds 5
    python3 bench/run_all.py --only gpu       # rewrite only the GPU section

With --only, the sections named are measured and replaced and the others
kept as they are; each section states the commit and date it was measured
at, the header the machine and versions of the last run.

The GPU section is not measured here (this machine has no GPU): it renders
the files tools/gpu_run.sh wrote on a GPU machine and bench/gpu/ keeps
(gpu_check.json, pytorch_gpu.json, nvidia-smi.csv, build.json).

bench/RESULTS.md is written by this script only; do not edit it by hand.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as md
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
RESULTS = ROOT / "bench" / "RESULTS.md"
ORDER = ["optimize", "risk_measures", "integer", "estimators", "hierarchical", "factor", "backtest", "market", "trade_aware", "selection", "sweep", "parquet", "features",
         "forecast", "deep", "layers"]
TITLES = {
    "optimize": "Optimisation (`bench/optimize.py`)",
    "risk_measures": "Minimum risk and risk budgets per measure, 8,312 scenarios unless stated (`bench/risk_measures.py`)",
    "integer": "Cardinality and orders (`bench/integer.py`)",
    "estimators": "Covariance and mean estimators, 500 assets (`bench/estimators.py`)",
    "hierarchical": "Hierarchical allocation, 500 assets (`bench/hierarchical.py`)",
    "factor": "Factor-model walk-forward, 500–2,000 assets (`bench/factor.py`)",
    "backtest": "Walk-forward backtest (`bench/backtest.py`)",
    "market": "Realistic-market simulation against cvxportfolio (`bench/market.py`)",
    "trade_aware": "Trade-aware policies against cvxportfolio (`bench/trade_aware.py`)",
    "selection": "Combinatorial purged cross-validation and stacking (`bench/selection.py`)",
    "sweep": "A sweep as a Slurm job array on a one-node cluster (`bench/sweep.py`)",
    "parquet": "Reading a panel from Parquet and from CSV (`bench/parquet.py`)",
    "features": "Rolling features (`bench/features.py`)",
    "forecast": "LSTM training throughput (`bench/forecast.py`)",
    "deep": "Deep allocator training (`bench/deep.py`)",
    "layers": "Differentiable Markowitz layer, forward + backward (`bench/layers.py`)",
}


def estimator_check(r):
    """How an estimator's result compares with skfolio's."""
    if r.get("l1") is None:
        return f"max relative difference {r['max_relative_diff']:.1e}"
    text = f"posterior probabilities equal to {r['l1']:.1e} (L1; skfolio's default solver)"
    if "cvar" in r:
        c = r["cvar"]
        text += (f"; posterior CVaR against the view {c['view']}: ours {c['assetalloc']:.10f}, "
                 f"skfolio's {c['skfolio']:.10f} (it finds the level to 1e-4)")
    return text


def rows_of(name: str, data) -> list[dict]:
    """One benchmark's JSON as rows: workload, peer, both figures with their
    unit, ratio (> 1: assetalloc faster) and a correctness note."""
    if name == "optimize":
        return [
            {
                "workload": r["workload"], "peer": r["peer"], "ours": r["assetalloc_ms"], "theirs": r["peer_ms"],
                "unit": "ms", "ratio": r["ratio"],
                "check": "" if r["max_weight_diff"] is None else f"max weight difference {r['max_weight_diff']:.1e}",
            }
            for r in data
        ]
    if name == "risk_measures":
        def workload(r):
            days = "" if r.get("rows", 8312) == 8312 else f" × {r['rows']:,} days"
            objective = r.get("objective", "min-risk")
            if objective == "min-risk":
                return f"minimum {r['measure']}, 20 stocks{days} (solver alone: {r['clarabel_ms']:.0f} ms)"
            if objective == "dr-cvar":
                return (f"distributionally robust mean–CVaR, ε = 0.01, 20 stocks{days} "
                        f"(Clarabel alone: {r['clarabel_ms']:.0f} ms)")
            return f"equal risk budgets, {r['measure']}, 20 stocks (solver alone: {r['clarabel_ms']:.0f} ms)"

        def check(r):
            if r.get("peer_failed"):
                return "the peer's solve fails (no weights; its time to failure)"
            if "values" in r:
                ours, theirs = r["values"]
                return (f"the peer approximates the OWA (power cones): value ours {ours:.8f}, its {theirs:.8f}; "
                        f"max weight difference {r['max_weight_diff']:.1e}")
            return ("" if r["max_weight_diff"] is None else f"max weight difference {r['max_weight_diff']:.1e}") + (
                " (both below 0)" if r["measure"] in ("flpm", "slpm") else "")

        return [
            {
                "workload": workload(r), "peer": r.get("peer", "Riskfolio-Lib (cvxpy + Clarabel)"),
                "ours": r["assetalloc_ms"], "theirs": r["riskfolio_ms"], "unit": "ms", "ratio": r["ratio"],
                "check": check(r),
            }
            for r in data
        ]
    if name == "integer":
        return data
    if name == "estimators":
        return [
            {
                "workload": r["workload"], "peer": "skfolio", "ours": r["assetalloc_ms"], "theirs": r["skfolio_ms"],
                "unit": "ms", "ratio": r["ratio"],
                "check": estimator_check(r),
            }
            for r in data
        ]
    if name == "hierarchical":
        return [
            {
                "workload": r["workload"], "peer": "skfolio", "ours": r["assetalloc_ms"], "theirs": r["skfolio_ms"],
                "unit": "ms", "ratio": r["ratio"], "check": f"max weight difference {r['max_weight_diff']:.1e}",
            }
            for r in data
        ]
    if name == "backtest":
        worst = max(data["final_wealth_relative_difference"].values())
        return [{
            "workload": "S&P 500, 20 stocks, every 21 days on 252, 10 bps: 1/N, inverse vol, min variance, max Sharpe",
            "peer": "Python loop (numpy, scikit-learn, cvxpy+Clarabel)",
            "ours": data["assetalloc_backtest_seconds"], "theirs": data["python_loop_seconds"], "unit": "s",
            "ratio": data["ratio_backtest"], "check": f"final wealth equal to {worst:.1e} (relative)",
        }]
    if name == "market":
        return [
            {
                "workload": r["workload"] + ", monthly rebalancing, daily simulation",
                "peer": "cvxportfolio MarketSimulator.backtest", "ours": r["assetalloc_s"],
                "theirs": r["cvxportfolio_s"], "unit": "s", "ratio": r["ratio"],
                "check": f"final wealth equal to {r['final_wealth_relative_difference']:.1e} (relative); "
                "ours also simulates the 1/N baseline",
            }
            for r in data
        ]
    if name == "trade_aware":
        return [
            {
                "workload": r["workload"], "peer": "cvxportfolio SPO / MPO (cvxpy + Clarabel)", "ours": r["assetalloc_s"],
                "theirs": r["cvxportfolio_s"], "unit": "s", "ratio": r["ratio"],
                "check": (f"final wealth equal to {r['final_wealth_relative_difference']:.1e} (relative)"
                          if r["final_wealth_relative_difference"] is not None else
                          f"forecasts each side's own; cvxportfolio {r['cvxportfolio_mean_invested']:.0%} invested on average")
                + "; ours also simulates the 1/N baseline",
            }
            for r in data
        ]
    if name == "factor":
        goal = {500: 10, 2000: 60}
        return [
            {
                "workload": r["workload"] + f" ({r['assetalloc_rebalances']} and {r['cvxportfolio_rebalances']} rebalances; "
                "windows: ours 252 days, cvxportfolio's all history)",
                "peer": "cvxportfolio FactorModelCovariance", "ours": r["assetalloc_s"], "theirs": r["cvxportfolio_s"],
                "unit": "s", "ratio": r["ratio"], "check": "both long-only, fully invested",
            }
            if r["kind"] == "cvxportfolio" else
            {
                "workload": f"`examples/backtest.rs --synthetic {r['assets']},{r['days']}` (`--features faer`): monthly minimum variance, "
                f"10-factor PCA model on 252 days ({r['rebalances']} rebalances)",
                "peer": "dense Ledoit–Wolf minimum variance, same command" if r["dense_s"] else "none (goal only)",
                "ours": r["factor_s"], "theirs": r["dense_s"], "unit": "s", "ratio": r["ratio"],
                "check": f"goal < {goal[r['assets']]} s",
            }
            for r in data
        ]
    if name == "selection":
        return [
            {
                "workload": r["workload"], "peer": r.get("peer", "skfolio cross_val_predict"), "ours": r["assetalloc_ms"],
                "theirs": r["skfolio_ms"], "unit": "ms", "ratio": r["ratio"],
                "check": r.get("check") or f"path mean returns equal to {r['max_path_mean_diff']:.1e}",
            }
            for r in data
        ]
    if name == "features":
        return [{
            "workload": data["workload"], "peer": "pandas rolling windows", "ours": data["assetalloc_ms"],
            "theirs": data["pandas_ms"], "unit": "ms", "ratio": data["ratio"],
            "check": f"tables equal to {data['max_relative_difference']:.1e} (relative)",
        }]
    if name == "forecast":
        return [
            {
                "workload": f"2×32 LSTM, window 20, batch 64, {r['inputs']} input(s), {data['threads']} threads",
                "peer": f"PyTorch {data['torch']} nn.LSTM (CPU)", "ours": r["assetalloc"], "theirs": r["pytorch"],
                "unit": "samples/s", "ratio": r["ratio"], "check": "",
            }
            for r in data["rows"]
        ]
    if name == "deep":
        return [{
            "workload": f"CNN+LSTM epoch, S&P 500, {data['samples']} samples, batch 64, {data['threads']} threads",
            "peer": f"PyTorch {data['torch']} (CPU)", "ours": data["assetalloc_s"], "theirs": data["pytorch_s"],
            "unit": "s/epoch", "ratio": data["speed_ratio"], "check": "",
        }]
    if name == "sweep":
        return [{
            "workload": f"200 trials × 45 CPCV splits, mean-variance on 100 synthetic assets × 2,000 days, "
                        f"array of {data['shards']} one-core tasks, submission to gathered result",
            "peer": "the same search in one process (all cores)", "ours": data["array_s"], "theirs": data["single_s"],
            "unit": "s", "ratio": data["single_s"] / data["array_s"],
            "check": "gathered result equal to the single process byte for byte; goal: array ≤ 1.3× one process",
        }]
    if name == "parquet":
        return [{
            "workload": f"{data['rows']:,} days × {data['assets']:,} assets of prices, file to checked panel "
                        f"(Parquet {data['parquet_bytes'] / 1e6:.0f} MB, CSV {data['csv_bytes'] / 1e6:.0f} MB)",
            "peer": "`Load::csv` on the same panel", "ours": data["parquet_s"], "theirs": data["csv_s"], "unit": "s",
            "ratio": data["ratio"], "check": "the same panel from both files; goal ≥ 5×",
        }]
    if name == "layers":
        work = (f"64 problems × 20 assets (long-only, cap 0.2, turnover ≤ 0.5), gradients in μ and L, "
                f"{data['threads']} threads")
        return [
            {
                "workload": work, "peer": f"cvxpylayers {md.version('cvxpylayers')} (diffcp, {solver})",
                "ours": data["assetalloc_s"] * 1e3, "theirs": data[key] * 1e3, "unit": "ms",
                "ratio": data[key] / data["assetalloc_s"],
                "check": f"gradients equal to {data[gap]:.1e} of the largest; goal ≥ 5×",
            }
            for solver, key, gap in [("SCS, its default", "cvxpylayers_scs_s", "grad_gap_vs_scs"),
                                     ("Clarabel", "cvxpylayers_clarabel_s", "grad_gap_vs_clarabel")]
        ]
    raise ValueError(name)


def run(name: str) -> list[dict]:
    cmd = [sys.executable, str(ROOT / "bench" / f"{name}.py")]
    print(f"[run_all] {' '.join(cmd[1:])}", flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return rows_of(name, json.loads((OUT / f"{name}.json").read_text()))


def cpu() -> tuple[str, str]:
    """The CPU model and the vector instruction sets it reports."""
    try:
        info = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown", ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    wanted = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16"]
    return model, " ".join(f for f in wanted if f in flags)


def versions() -> str:
    out = [f"Python {platform.python_version()}"]
    try:
        out.append(subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split("(")[0].strip())
    except OSError:
        pass
    for pkg in ["numpy", "pandas", "scikit-learn", "cvxpy", "clarabel", "pyportfolioopt", "riskfolio-lib", "cvxportfolio", "torch", "cvxpylayers", "diffcp"]:
        try:
            out.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            pass
    return ", ".join(out)


def fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


GPU_DIR = ROOT / "bench" / "gpu"
GPU_TITLE = "## GPU: assetalloc (dfdx + cuBLAS) against PyTorch (cuDNN)"


def gpu_section() -> list[str]:
    """The GPU section from bench/gpu/ (empty when no run was recorded)."""
    try:
        ours = json.loads((GPU_DIR / "gpu_check.json").read_text())
        torch_ = json.loads((GPU_DIR / "pytorch_gpu.json").read_text())
        build = json.loads((GPU_DIR / "build.json").read_text())
        smi = (GPU_DIR / "nvidia-smi.csv").read_text().strip().splitlines()[-1]
    except FileNotFoundError:
        return []
    name, driver, cap, memory = [x.strip() for x in smi.split(",")]
    lines = [
        GPU_TITLE, "",
        f"Recorded by `tools/gpu_run.sh` on one {name} (compute capability {cap}, {memory}, driver {driver}; "
        f"the host's {ours['cpu_threads']} CPU threads for the CPU column), binary built "
        f"{build['built']} from commit {build['commit']}{' with local changes' if build['dirty'] else ''} "
        f"({build['toolkit']}, sm_{build['compute_capability']}, rustc {build['rustc']}); PyTorch {torch_['torch']}, "
        f"CUDA {torch_['cuda']}, cuDNN {torch_['cudnn']}. One run of each side, in the same session; samples/s "
        f"is the median over the epochs after the first of {ours['epochs']}. Rendered from bench/gpu/, not measured "
        "by this script.", "",
        "| equality, CPU against GPU | identical weights: max abs output difference | gradient, max abs difference / max abs | trained 1 epoch | trained "
        f"{ours['epochs']} epochs |",
        "|---|---|---|---|---|",
    ]
    for key in ("forecaster", "deep"):
        r = ours[key]
        grad = r.get("gradient_max_abs_diff_over_max_abs")
        one = r.get("trained_1_epoch_max_abs_diff")
        lines.append(
            f"| {r['workload']} | {r['identical_weights_max_abs_diff']:.1e} | {'' if grad is None else f'{grad:.1e}'} | "
            f"{'' if one is None else f'{one:.1e}'} | {r['trained_max_abs_diff']:.1e} |"
        )
    lines += [
        "", "| training throughput | assetalloc GPU | PyTorch GPU (cuDNN) | assetalloc / PyTorch | assetalloc CPU | GPU / CPU | "
        "GPU step: forward + backward + rest |",
        "|---|---|---|---|---|---|---|",
    ]
    theirs = {(r["hidden"], r["batch"]): r["pytorch_samples_per_s"] for r in torch_["lstm_training"]}
    for r in ours["lstm_training"]:
        t = theirs[(r["hidden"], r["batch"])]
        lines.append(
            f"| LSTM {r['layers']}×{r['hidden']}, window {r['window']}, batch {r['batch']}, {r['inputs']} inputs | "
            f"{fmt(r['gpu_samples_per_s'])} samples/s | {fmt(t)} samples/s | **{r['gpu_samples_per_s'] / t:.2f}×** | "
            f"{fmt(r['cpu_samples_per_s'])} samples/s | {r['gpu_over_cpu']:.2f}× | {step(r)} |"
        )
    d, t = ours["deep"], torch_["deep"]["pytorch_samples_per_s"]
    lines.append(
        f"| {d['workload']} | {fmt(d['gpu_samples_per_s'])} samples/s | {fmt(t)} samples/s | "
        f"**{d['gpu_samples_per_s'] / t:.2f}×** | {fmt(d['cpu_samples_per_s'])} samples/s | {d['gpu_over_cpu']:.2f}× | |"
    )
    return lines + [""]


def step(r: dict) -> str:
    """A GPU training step's milliseconds split as gpu_check timed them."""
    if "gpu_forward_ms" not in r:
        return ""
    fwd, both, total = r["gpu_forward_ms"], r["gpu_forward_backward_ms"], r["gpu_step_ms"]
    return f"{total:.1f} ms = {fwd:.1f} + {both - fwd:.1f} + {max(total - both, 0.0):.1f}"


def rewrite_gpu_section():
    """Replaces the GPU section of bench/RESULTS.md, keeping the rest."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    head = text.split(GPU_TITLE)[0].rstrip("\n") + "\n\n"
    RESULTS.write_text(head + "\n".join(gpu_section()))
    print(f"[run_all] rewrote the GPU section of {RESULTS.relative_to(ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default=",".join(ORDER), help="comma-separated benchmark names")
    args = ap.parse_args()
    if args.only == "gpu":
        rewrite_gpu_section()
        return
    names = [n for n in ORDER if n in args.only.split(",")]
    collected: dict[str, list[list[dict]]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for n in names:
            collected[n].append(run(n))

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    commit = commit.stdout.strip() or "unknown"
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    model, flags = cpu()
    lines = [
        "# Benchmark results",
        "",
        "Written by `python3 bench/run_all.py` (do not edit by hand). Ratio = peer time / assetalloc time "
        "(for throughput: assetalloc / peer), so above 1 means assetalloc is faster; each figure is the median "
        "over the rounds that alternate the two sides, the range in brackets. Each section names the commit "
        "it was measured at.",
        "",
        f"- last run: {date}, commit {commit}",
        f"- CPU: {model}, {os.cpu_count()} cores; vector instructions: {flags or 'unknown'}",
        f"- versions: {versions()}",
        "",
    ]
    sections = {n: section(n, collected[n], commit, date, args.rounds) for n in names}
    kept = kept_sections()
    for n in ORDER:
        if n in sections:
            lines += sections[n]
        elif n in kept:
            lines += kept[n]
    RESULTS.write_text("\n".join(lines + gpu_section()))
    print(f"[run_all] wrote {RESULTS.relative_to(ROOT)} ({', '.join(names)} measured)")


def kept_sections() -> dict[str, list[str]]:
    """The CPU sections of the current file by benchmark name (none when it is absent)."""
    if not RESULTS.exists():
        return {}
    by_title = {f"## {t}": n for n, t in TITLES.items()}
    out: dict[str, list[str]] = {}
    current = None
    text = RESULTS.read_text().splitlines()
    # A file from before sections named their commit: its header's.
    old = {k: v for k, v in (l[2:].split(": ", 1) for l in text if l.startswith("- ") and ": " in l)}
    for line in text:
        if line.startswith("## "):
            current = by_title.get(line)
            if current:
                out[current] = []
        if current:
            out[current].append(line)
    for lines in out.values():
        if not any(l.startswith("Measured at commit") for l in lines) and "commit" in old:
            lines[1:1] = ["", f"Measured at commit {old['commit']}, {old.get('date', 'date unknown')}."]
    return out


def section(n: str, rounds: list[list[dict]], commit: str, date: str, count: int) -> list[str]:
    """One benchmark's table from its rounds."""
    lines = [f"## {TITLES[n]}", "", f"Measured at commit {commit}, {date}, {count} rounds.", "",
             "| workload | peer | assetalloc | peer | ratio (range) | check |", "|---|---|---|---|---|---|"]
    for i, row in enumerate(rounds[0]):
        same = [r[i] for r in rounds]
        ours = statistics.median(r["ours"] for r in same)
        u = row["unit"]
        if row["theirs"] is None:
            # A figure of ours with no peer beside it (a goal in the check).
            lines.append(f"| {row['workload']} | {row['peer']} | {fmt(ours)} {u} | – | – | {row['check']} |")
            continue
        theirs = statistics.median(r["theirs"] for r in same)
        ratios = [r["ratio"] for r in same]
        lines.append(
            f"| {row['workload']} | {row['peer']} | {fmt(ours)} {u} | {fmt(theirs)} {u} | "
            f"**{statistics.median(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f}) | {row['check']} |"
        )
    lines.append("")
    return lines


if __name__ == "__main__":
    main()
