"""Shared by the notebook generators: every notebook under notebooks/ is
written by one tools/nbgen/nbNN.py, the only place its cells are edited."""
import pathlib

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = pathlib.Path(__file__).resolve().parents[2]
md = new_markdown_cell
code = new_code_cell

METADATA = {
    "kernelspec": {"display_name": "Rust", "language": "rust", "name": "rust"},
    "language_info": {
        "codemirror_mode": "rust",
        "file_extension": ".rs",
        "mimetype": "text/rust",
        "name": "Rust",
        "pygment_lexer": "rust",
        "version": "",
    },
}


def write(name, cells):
    """Writes notebooks/NAME.ipynb from the cells (no outputs)."""
    nb = new_notebook(cells=cells, metadata=METADATA)
    # Stable cell ids, so regenerating an unchanged notebook changes nothing.
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"
    nbformat.write(nb, ROOT / "notebooks" / f"{name}.ipynb")
