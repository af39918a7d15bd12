"""Writes every notebook under notebooks/ from its generator (python3 tools/nbgen/all.py)."""
import pathlib
import runpy
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
for gen in sorted(HERE.glob("nb[0-9][0-9].py")):
    runpy.run_path(str(gen), run_name="__main__")
    print(f"wrote from {gen.name}")
