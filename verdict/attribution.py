"""Tie anomalies to the fault windows active when they happened, and keep first examples.

An anomaly's time is its write's (or read's) invocation; it belongs to every window open at
that instant (a window without a heal stays open to the end) and to "outside" when none is.
A lost update is tied instead to every window that overlaps its exposure, from invocation
until it was overwritten (`verdict.exposure`).
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

    def active(self, t: float, until: float | None = None) -> list[str]:
        """The windows open at `t`, or overlapping [t, until]."""
        last = t if until is None else until
        return [wid for wid, start, end in self._spans if start <= last and t <= end]

    def add(self, kind: str, t: float, n: int = 1, until: float | None = None) -> list[str]:
        ids = self.active(t, until)
        for wid in ids or [OUTSIDE]:
            self.counts[wid][kind] += n
        return ids

    def add_many(self, kind: str, times: np.ndarray, until: np.ndarray | None = None) -> None:
        """`add(kind, t, until=u)` for every t (and u) at once."""
        last = times if until is None else until
        inside = np.zeros(len(times), dtype=bool)
        for wid, start, end in self._spans:
            hit = (last >= start) & (times <= end)
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
    """The earliest examples of each anomaly kind, by time, overall and inside each fault
    window; payloads are built by the caller only for the ones kept."""

    def __init__(
        self, limit: int = 10, spans: list[tuple[float, float]] | None = None, per_span: int = 3
    ) -> None:
        """`limit` earliest of each kind overall, plus the `per_span` earliest inside each
        fault window (`spans`: start, end): in a busy run the earliest overall are often
        start-up races, and the report must also show what each fault did."""
        self.limit = limit
        self.spans = list(spans or [])
        self.per_span = per_span if self.spans else 0
        self._heaps: dict[tuple[str, int], list[tuple[float, int, Any]]] = {}
        self._seq = itertools.count()

    def _slots(
        self, kind: str, t: float, until: float | None = None
    ) -> list[tuple[tuple[str, int], int]]:
        """(heap, capacity) for `t`: the overall heap (-1), then each window holding `t` (or
        overlapping [t, until])."""
        slots = [((kind, -1), self.limit)]
        last = t if until is None else until
        if self.per_span:
            slots += [
                ((kind, i), self.per_span)
                for i, (start, end) in enumerate(self.spans)
                if start <= last and t <= end
            ]
        return slots

    def _open(self, heap_key: tuple[str, int], cap: int, t: float) -> bool:
        heap = self._heaps.get(heap_key)
        return heap is None or len(heap) < cap or -heap[0][0] > t

    def wants(self, kind: str, t: float, until: float | None = None) -> bool:
        return any(self._open(key, cap, t) for key, cap in self._slots(kind, t, until))

    def add(self, kind: str, t: float, payload: Any, until: float | None = None) -> None:
        item = (-t, next(self._seq), payload)
        for key, cap in self._slots(kind, t, until):
            heap = self._heaps.setdefault(key, [])
            if len(heap) < cap:
                heapq.heappush(heap, item)
            elif -heap[0][0] > t:
                heapq.heapreplace(heap, item)

    def items(self) -> dict[str, list[Any]]:
        """Per kind, every example any heap kept, once, by time."""
        kept: dict[str, dict[int, tuple[float, Any]]] = {}
        for (kind, _), heap in self._heaps.items():
            for neg_t, seq, payload in heap:
                kept.setdefault(kind, {})[seq] = (-neg_t, payload)
        return {
            kind: [pay for _, (_, pay) in sorted(found.items(), key=lambda x: (x[1][0], x[0]))]
            for kind, found in kept.items()
        }
