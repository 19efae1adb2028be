"""Percentiles: nearest-rank, so every figure is a value that was actually observed."""

from __future__ import annotations

import math
from collections.abc import Sequence

QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


def nearest_rank(sorted_values: Sequence[float], q: float) -> float:
    n = len(sorted_values)
    return sorted_values[max(0, min(n - 1, math.ceil(q * n) - 1))]


def summary(values: Sequence[float]) -> dict[str, float | int] | None:
    """{count, p50, p95, p99, max}; None without samples (a budget on it has no data)."""
    if not values:
        return None
    s = sorted(values)
    out: dict[str, float | int] = {"count": len(s)}
    for name, q in QUANTILES.items():
        out[name] = round(nearest_rank(s, q), 6)
    out["max"] = round(s[-1], 6)
    return out
