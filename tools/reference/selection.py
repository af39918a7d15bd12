#!/usr/bin/env python3
"""Combinatorial purged cross-validation splits from skfolio, for the tests.

For several (rows, folds, test folds, purge, embargo) settings, records
skfolio's CombinatorialPurgedCV training indices, test blocks and the path
id of each test block (get_path_ids). Writes
tests/fixtures/selection_reference.json, which tests/selection.rs matches.

    pip install skfolio==1.12.2
    python3 tools/reference/selection.py
"""
import json
import pathlib

import numpy as np
import skfolio
from skfolio.model_selection import CombinatorialPurgedCV

ROOT = pathlib.Path(__file__).resolve().parents[2]
SETTINGS = [
    # rows, folds, test folds, purge, embargo
    (12, 3, 2, 0, 0),
    (12, 3, 2, 1, 0),
    (12, 3, 2, 0, 1),
    (103, 6, 2, 2, 3),
    (250, 10, 2, 5, 5),
    (97, 7, 3, 1, 2),
    (40, 5, 4, 1, 1),
]


def main():
    cases = []
    for rows, folds, k, purge, embargo in SETTINGS:
        cv = CombinatorialPurgedCV(n_folds=folds, n_test_folds=k, purged_size=purge, embargo_size=embargo)
        x = np.zeros((rows, 1))
        splits = []
        path_ids = cv.get_path_ids()
        for i, (train, tests) in enumerate(cv.split(x)):
            splits.append(
                {
                    "train": [int(v) for v in train],
                    "test": [[int(t[0]), int(t[-1]) + 1] for t in tests],
                    "path": [int(p) for p in path_ids[i]],
                }
            )
        cases.append(
            {
                "rows": rows,
                "folds": folds,
                "test_folds": k,
                "purge": purge,
                "embargo": embargo,
                "paths": int(cv.n_test_paths),
                "splits": splits,
            }
        )
    out = {"skfolio": skfolio.__version__, "cases": cases}
    path = ROOT / "tests" / "fixtures" / "selection_reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({len(cases)} settings)")


if __name__ == "__main__":
    main()
