"""Timing the peers' side (imported by the benchmark scripts)."""
import time

import numpy as np


def median_time(f, repeat):
    """The median seconds of `repeat` calls of `f`, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), result
