"""Tie anomalies to the fault windows active when they happened, and keep first examples.

An anomaly's time is its write's (or read's) invocation; it belongs to every window open at
that instant (a window without a heal stays open to the end) and to "outside" when none is.
A lost update is tied instead to every window that overlaps its exposure, from invocation
until it was overwritten (`verdict.exposure`).
"""

from __future__ import annotations

import heapq
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
            out.append({**w, "anomalies": dict(sorted(self.counts[w["id"]].items()))})
        out.append({"id": OUTSIDE, "anomalies": dict(sorted(self.counts[OUTSIDE].items()))})
        return out


class Examples:
    """The earliest examples of each anomaly kind, overall and inside each fault window:
    earliest by time, then by rank (the order the checker judges in: keys in the order the
    history first names them, then rejections, then stale reads, by record). That order is
    total, so the examples kept from parts of a history (key buckets) and merged are the
    ones the whole history keeps. Payloads are built by the caller only for the ones kept."""

    def __init__(
        self, limit: int = 10, spans: list[tuple[float, float]] | None = None, per_span: int = 3
    ) -> None:
        """`limit` earliest of each kind overall, plus the `per_span` earliest inside each
        fault window (`spans`: start, end): in a busy run the earliest overall are often
        start-up races, and the report must also show what each fault did."""
        self.limit = limit
        self.spans = list(spans or [])
        self.per_span = per_span if self.spans else 0
        #: (kind, window or -1) -> a heap of (-t, -rank, payload, until): the latest on top
        self._heaps: dict[tuple[str, int], list[tuple[float, int, Any, float | None]]] = {}

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
        """Would an example at `t` (exposed until `until`), ranked after every one added so
        far, be kept?"""
        return any(self._open(key, cap, t) for key, cap in self._slots(kind, t, until))

    def add(self, kind: str, t: float, payload: Any, rank: int, until: float | None = None) -> None:
        item = (-t, -rank, payload, until)
        for key, cap in self._slots(kind, t, until):
            heap = self._heaps.setdefault(key, [])
            if len(heap) < cap:
                heapq.heappush(heap, item)
            elif (-heap[0][0], -heap[0][1]) > (t, rank):
                heapq.heapreplace(heap, item)

    def candidates(self) -> list[tuple[str, float, int, Any, float | None]]:
        """Every example a heap kept, once: (kind, t, rank, payload, until)."""
        kept: dict[tuple[str, int], tuple[float, Any, float | None]] = {}
        for (kind, _), heap in self._heaps.items():
            for neg_t, neg_rank, payload, until in heap:
                kept[kind, -neg_rank] = (-neg_t, payload, until)
        return [
            (kind, t, rank, payload, until) for (kind, rank), (t, payload, until) in kept.items()
        ]

    def items(self) -> dict[str, list[Any]]:
        """Per kind, every example any heap kept, once, by time then rank."""
        by_kind: dict[str, list[tuple[float, int, Any]]] = {}
        for kind, t, rank, payload, _ in self.candidates():
            by_kind.setdefault(kind, []).append((t, rank, payload))
        return {
            kind: [payload for _, _, payload in sorted(found, key=lambda x: (x[0], x[1]))]
            for kind, found in by_kind.items()
        }
