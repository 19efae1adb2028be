"""Tie anomalies to the fault windows active when they happened, and keep first examples.

An anomaly's time is its write's (or read's) invocation; it belongs to every window open at
that instant (a window without a heal stays open to the end) and to "outside" when none is.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from typing import Any

import numpy as np

from verdict.history import FaultWindow

OUTSIDE = "outside"


class Attribution:
    """Per-window counts of each anomaly kind."""

    def __init__(self, windows: list[FaultWindow]) -> None:
        self.windows = windows
        self._spans = [(w["id"], w["start"], w["heal"] or float("inf")) for w in windows]
        self.counts: dict[str, Counter[str]] = {w["id"]: Counter() for w in windows}
        self.counts[OUTSIDE] = Counter()

    def active(self, t: float) -> list[str]:
        return [wid for wid, start, end in self._spans if start <= t <= end]

    def add(self, kind: str, t: float, n: int = 1) -> list[str]:
        ids = self.active(t)
        for wid in ids or [OUTSIDE]:
            self.counts[wid][kind] += n
        return ids

    def add_many(self, kind: str, times: np.ndarray) -> None:
        """`add(kind, t)` for every t at once."""
        inside = np.zeros(len(times), dtype=bool)
        for wid, start, end in self._spans:
            hit = (times >= start) & (times <= end)
            if hit.any():
                self.counts[wid][kind] += int(hit.sum())
                inside |= hit
        if not inside.all():
            self.counts[OUTSIDE][kind] += int((~inside).sum())

    def as_json(self) -> list[dict[str, Any]]:
        out = []
        for w in self.windows:
            out.append({**w, "anomalies": dict(self.counts[w["id"]])})
        out.append({"id": OUTSIDE, "anomalies": dict(self.counts[OUTSIDE])})
        return out


class Examples:
    """The `limit` earliest examples of each anomaly kind, by time; payloads are built by the
    caller only for the ones kept."""

    def __init__(self, limit: int = 10) -> None:
        self.limit = limit
        self._heaps: dict[str, list[tuple[float, int, Any]]] = {}
        self._seq = itertools.count()

    def wants(self, kind: str, t: float) -> bool:
        heap = self._heaps.get(kind)
        return heap is None or len(heap) < self.limit or -heap[0][0] > t

    def add(self, kind: str, t: float, payload: Any) -> None:
        heap = self._heaps.setdefault(kind, [])
        item = (-t, next(self._seq), payload)
        if len(heap) < self.limit:
            heapq.heappush(heap, item)
        elif -heap[0][0] > t:
            heapq.heapreplace(heap, item)

    def items(self) -> dict[str, list[Any]]:
        return {
            kind: [p for _, _, p in sorted(heap, key=lambda x: (-x[0], x[1]))]
            for kind, heap in self._heaps.items()
        }
