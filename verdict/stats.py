"""Percentiles: nearest-rank, so every figure of the verdict is a value that was actually
observed; the live figures keep theirs in `LogQuantiles` (bounded memory, at most 1 % above)."""

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


#: relative width of `LogQuantiles`' buckets (1 %)
_STEP = math.log(1.01)
#: values up to this share one bucket (`_SMALL`), read as this
_TINY, _SMALL = 1e-6, -(10**9)


class LogQuantiles:
    """Non-negative values (lags, latencies) in 1 %-wide logarithmic buckets: bounded memory
    for a run of any length; a nearest-rank percentile is read as its bucket's upper bound,
    so it is never below the exact figure and at most 1 % above it."""

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0
        self.max = 0.0

    def add(self, value: float) -> None:
        # values up to 1 µs share one bucket read as 1 µs: not below any of them
        bucket = math.ceil(math.log(value) / _STEP) if value > _TINY else _SMALL
        self.buckets[bucket] = self.buckets.get(bucket, 0) + 1
        self.count += 1
        self.max = max(self.max, value)

    def quantile(self, q: float) -> float:
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        # a copy taken at once: a scrape reads while the record stream adds
        for bucket, n in sorted(list(self.buckets.items())):
            seen += n
            if seen >= rank:
                if bucket == _SMALL:
                    return min(self.max, _TINY)
                # the nudge keeps a value on a bucket's very edge under its rounded bound
                return min(self.max, math.exp(bucket * _STEP) * (1 + 1e-12))
        return self.max
