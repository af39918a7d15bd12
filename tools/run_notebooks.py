#!/usr/bin/env python3
"""Execute the project's notebooks headless in the evcxr (Rust) kernel.

For each notebook in notebooks/ (sorted by name, or those named on the
command line) this starts a fresh Rust kernel in notebooks/, runs every cell
top to bottom, stops at the first cell error (exit status 1, the error
printed; a cell that writes to stderr counts as failed, since that is how
evcxr reports an error returned with `?`), and writes under target/notebooks/:

  NAME.ipynb   the executed notebook, outputs included
  NAME.html    a standalone report; plotly charts stay interactive because
               plotly.js is embedded once per report (no network needed)

It prints the time per notebook and the slowest cells, and writes the same
figures to target/notebooks/timings.json.

Every notebook shares one evcxr build directory (target/evcxr, via
EVCXR_TMPDIR) and one `:cache` directory (target/cache, via XDG_CACHE_HOME),
so dependencies compiled for one notebook are reused by the next and by the
next run of this checkout.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import pathlib
import sys
import time
import uuid

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from nbconvert import HTMLExporter

PLOTLY_MIME = "application/vnd.plotly.v1+json"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def plotly_js() -> str:
    """plotly.min.js from the Python plotly package (installed by setup)."""
    import plotly

    path = pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return path.read_text(encoding="utf-8")


def plotly_outputs_to_html(nb) -> int:
    """Give every plotly output a text/html twin that draws it with the
    page's plotly.js; the JSON stays for JupyterLab's own renderer."""
    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_MIME not in data or "text/html" in data:
                continue
            fig = data[PLOTLY_MIME]
            if isinstance(fig, str):
                fig = json.loads(fig)
            div = f"plot-{uuid.uuid4().hex[:12]}"
            payload = json.dumps(fig).replace("</", "<\\/")
            data["text/html"] = (
                f'<div id="{div}" class="plotly-graph-div"></div>'
                f'<script type="text/javascript">(function(){{var f={payload};'
                f'Plotly.newPlot("{div}", f.data || [], f.layout || {{}}, '
                f'Object.assign({{responsive: true}}, f.config || {{}}));}})();</script>'
            )
            n += 1
    return n


def export_html(nb, title: str) -> str:
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    script = f'<script type="text/javascript">{plotly_js()}</script>'
    return body.replace("</head>", script + "\n</head>", 1)


class CellStderrError(Exception):
    """A cell wrote to stderr. evcxr reports an error returned by `?` in
    user code that way, without marking the cell as failed."""


def cell_label(cell, index: int) -> str:
    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
    return f"cell {index}: {first[:70]}"


def run(path: pathlib.Path, out_dir: pathlib.Path, timeout: int, kernel: str) -> dict:
    nb = nbformat.read(path, as_version=4)
    times: list[tuple[float, str]] = []
    started: dict[int, float] = {}

    def on_start(cell, cell_index, **_):
        started[cell_index] = time.monotonic()
        print(f"  … {cell_label(cell, cell_index)}", flush=True)

    def on_done(cell, cell_index, **_):
        t = time.monotonic() - started.get(cell_index, time.monotonic())
        times.append((t, cell_label(cell, cell_index)))
        err = "".join(
            "".join(o.get("text", ""))
            for o in cell.get("outputs", [])
            if o.get("output_type") == "stream" and o.get("name") == "stderr"
        )
        if err.strip():
            raise CellStderrError(f"{cell_label(cell, cell_index)}\n{err}")

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_start,
        on_cell_executed=on_done,
    )
    t0 = time.monotonic()
    error = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, CellStderrError) as e:
        error = e
    total = time.monotonic() - t0

    plotly_outputs_to_html(nb)
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / path.name)
    (out_dir / path.with_suffix(".html").name).write_text(export_html(nb, path.stem), encoding="utf-8")
    result = {
        "notebook": path.name,
        "seconds": round(total, 1),
        "cells": [{"seconds": round(t, 2), "cell": label} for t, label in times],
        "ok": error is None,
    }
    if error is not None:
        result["error"] = str(error)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    ap.add_argument("--out", default=str(ROOT / "target" / "notebooks"))
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per cell (the first :dep compiles)")
    ap.add_argument("--kernel", default="rust")
    args = ap.parse_args()

    os.environ.setdefault("EVCXR_TMPDIR", str(ROOT / "target" / "evcxr"))
    # evcxr's `:cache` keeps compiled dependencies under $XDG_CACHE_HOME/evcxr,
    # keyed by rustc's arguments only. An entry written by a build that was
    # interrupted can hold the metadata without the library, and every later
    # run that hits it fails with "can't find crate". The runner therefore
    # keeps its cache inside this checkout's target/, so a clean clone starts
    # from a clean cache and no interactive session can poison a CI run.
    os.environ.setdefault("XDG_CACHE_HOME", str(ROOT / "target" / "cache"))
    pathlib.Path(os.environ["EVCXR_TMPDIR"]).mkdir(parents=True, exist_ok=True)
    paths = [pathlib.Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    out_dir = pathlib.Path(args.out)
    results = []
    for path in paths:
        print(f"▶ {path.name}", flush=True)
        r = run(path, out_dir, args.timeout, args.kernel)
        results.append(r)
        status = "ok" if r["ok"] else "FAILED"
        print(f"  {status} in {r['seconds']:.1f} s → {out_dir / path.with_suffix('.html').name}", flush=True)
        if not r["ok"]:
            print(r["error"], file=sys.stderr)
            break
    (out_dir / "timings.json").write_text(json.dumps(results, indent=2), encoding="utf-8")

    print("\nTime per notebook:")
    for r in results:
        print(f"  {r['seconds']:8.1f} s  {r['notebook']}{'' if r['ok'] else '  (FAILED)'}")
    cells = sorted(
        ((c["seconds"], r["notebook"], c["cell"]) for r in results for c in r["cells"]), reverse=True
    )
    print("Slowest cells:")
    for t, nb, label in cells[:8]:
        print(f"  {t:8.1f} s  {nb} {html.unescape(label)}")
    failed = [r["notebook"] for r in results if not r["ok"]]
    if failed:
        print(f"notebook failed: {failed[0]}", file=sys.stderr)
        return 1
    print(f"notebooks: {len(results)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
