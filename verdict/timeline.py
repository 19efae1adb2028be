"""The report's timeline: what happened per time bucket of a run.

Counts per bucket of operations, failed and unknown writes, conflicts and lost updates (by
invocation), and the acknowledged writes' latency percentiles. A store's part of it
(`TimelineParts`) adds up with the other parts of a history judged in key buckets: counts are
summed and every acknowledged write's latency is kept, so the percentiles are exact.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verdict.graph import UNKNOWN, VersionStore


def _empty(dtype: Any) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass
class TimelineParts:
    """Per bucket: operations, failed and unknown writes; per acknowledged write its bucket
    and latency."""

    ops: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    failed: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    unknown: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    latency_bucket: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    latency: np.ndarray = field(default_factory=lambda: _empty(np.float64))

    @classmethod
    def of(cls, s: VersionStore, t0: float, width: float) -> TimelineParts:
        def bucket(times: np.ndarray) -> np.ndarray:
            return ((times - t0) // width).astype(np.int64)

        tinv = np.frombuffer(s.w_tinv, dtype=np.float64)
        tcomp = np.frombuffer(s.w_tcomp, dtype=np.float64)
        unknown = np.frombuffer(bytes(s.w_flags), dtype=np.uint8) & UNKNOWN != 0
        failed = np.frombuffer(s.failed_t, dtype=np.float64)
        ops = np.concatenate([tinv, np.frombuffer(s.r_t, dtype=np.float64), failed])
        acknowledged = ~unknown & (tcomp > 0)
        return cls(np.bincount(bucket(ops)), np.bincount(bucket(failed)),
                   np.bincount(bucket(tinv[unknown])), bucket(tinv)[acknowledged],
                   (tcomp - tinv)[acknowledged])  # fmt: skip

    @classmethod
    def merge(cls, parts: list[TimelineParts]) -> TimelineParts:
        def add(arrays: list[np.ndarray]) -> np.ndarray:
            n = max((len(a) for a in arrays), default=0)
            return sum((np.pad(a, (0, n - len(a))) for a in arrays), np.zeros(n, np.int64))

        return cls(add([p.ops for p in parts]), add([p.failed for p in parts]),
                   add([p.unknown for p in parts]),
                   np.concatenate([p.latency_bucket for p in parts] or [_empty(np.int64)]),
                   np.concatenate([p.latency for p in parts] or [_empty(np.float64)]))  # fmt: skip


def build_timeline(
    parts: TimelineParts, t0: float, width: float, t_end: float,
    anomalies: dict[str, Counter[int]],
) -> dict[str, Any]:  # fmt: skip
    """Counts per bucket of `bucket_s` from `t0`: operations, failed and unknown writes,
    conflicts and lost updates (by invocation). `span_s` is how far the history reaches:
    the last bucket covers only part of its width, and the report plots per-second
    rates so it does not look like an outage."""
    ops = parts.ops.tolist()
    series = {"failed": parts.failed.tolist(), "unknown": parts.unknown.tolist()}
    n = max([len(ops) - 1, *anomalies["conflicts"], *anomalies["lost_updates"], 0]) + 1
    n = max(n, *(len(v) for v in series.values()))

    def padded(values: list[int]) -> list[int]:
        return values + [0] * (n - len(values))

    span = t_end - t0
    latency = _bucket_percentiles(parts.latency_bucket, parts.latency, n)
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
