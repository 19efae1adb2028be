"""The report's timeline: what happened per time bucket of a run.

Counts per bucket of operations, failed and unknown writes, conflicts and lost updates (by
invocation), and the acknowledged writes' latency percentiles, from the checker's store.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from verdict.graph import UNKNOWN, VersionStore


def build_timeline(
    s: VersionStore, t0: float, width: float, t_end: float, anomalies: dict[str, Counter[int]]
) -> dict[str, Any]:
    """Counts per bucket of `bucket_s` from `t0`: operations, failed and unknown writes,
    conflicts and lost updates (by invocation). `span_s` is how far the history reaches:
    the last bucket covers only part of its width, and the report plots per-second
    rates so it does not look like an outage."""

    def counts(times: np.ndarray) -> list[int]:
        return np.bincount(((times - t0) // width).astype(np.int64)).tolist()

    tinv = np.frombuffer(s.w_tinv, dtype=np.float64)
    unknown = np.frombuffer(bytes(s.w_flags), dtype=np.uint8) & UNKNOWN != 0
    failed = np.frombuffer(s.failed_t, dtype=np.float64)
    ops = counts(np.concatenate([tinv, np.frombuffer(s.r_t, dtype=np.float64), failed]))
    series = {"failed": counts(failed), "unknown": counts(tinv[unknown])}
    n = max([len(ops) - 1, *anomalies["conflicts"], *anomalies["lost_updates"], 0]) + 1
    n = max(n, *(len(v) for v in series.values()))

    def padded(values: list[int]) -> list[int]:
        return values + [0] * (n - len(values))

    span = t_end - t0
    acknowledged = ~unknown & (np.frombuffer(s.w_tcomp, dtype=np.float64) > 0)
    latency = _bucket_percentiles(
        ((tinv - t0) // width).astype(np.int64)[acknowledged],
        (np.frombuffer(s.w_tcomp, dtype=np.float64) - tinv)[acknowledged],
        n,
    )
    return {
        "t0": t0,
        "bucket_s": width,
        "span_s": max(span, 0.0) if np.isfinite(span) else 0.0,
        "ops": padded(ops),
        **{name: padded(values) for name, values in series.items()},
        "conflicts": [anomalies["conflicts"].get(i, 0) for i in range(n)],
        "lost_updates": [anomalies["lost_updates"].get(i, 0) for i in range(n)],
        **latency,
    }


def _bucket_percentiles(bucket: np.ndarray, seconds: np.ndarray, n: int) -> dict[str, Any]:
    """Per time bucket, the nearest-rank p50 and p99 of acknowledged writes' latency
    (None where no write was acknowledged): the report's latency-over-time plot."""
    out: dict[str, Any] = {}
    if not len(seconds):
        return {"write_latency_p50": [None] * n, "write_latency_p99": [None] * n}
    order = np.lexsort((seconds, bucket))
    ranked = np.maximum(seconds[order], 0.0)
    count = np.bincount(bucket, minlength=n)[:n]
    start = np.searchsorted(bucket[order], np.arange(n), side="left")
    for name, q in (("write_latency_p50", 0.5), ("write_latency_p99", 0.99)):
        rank = np.maximum(np.ceil(q * count).astype(np.int64) - 1, 0)
        at = np.minimum(start + rank, len(ranked) - 1)
        out[name] = [
            round(float(v), 6) if c else None for v, c in zip(ranked[at], count, strict=True)
        ]
    return out
