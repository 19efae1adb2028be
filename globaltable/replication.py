"""Replication links: one directed queue per region pair, delivering whole item images after
the link's delay (+ jitter), per-item FIFO, held while the link is paused."""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from typing import Any

from globaltable.metrics import LagHistogram
from globaltable.store import Entry, Key

#: (table, key, entry, ack time in the source, monotonic); the table is the engine's Table
Delivery = tuple[Any, Key, Entry, float]
#: a queued image: (due, sequence, (table, key), entry, ack); `(table, key)` identifies the
#: item for the per-item FIFO rule and is built once per image
Queued = tuple[float, int, tuple[Any, Key], Entry, float]


class ReplicationLink:
    """Source -> target. Jitter draws uniformly from [delay - jitter, delay + jitter] (never
    below 0); an item never overtakes an earlier image of itself on the same link."""

    def __init__(
        self, source: str, target: str, delay_s: float, jitter_s: float, rng: random.Random
    ) -> None:
        self.source = source
        self.target = target
        self.default = (delay_s, jitter_s)
        self.delay_s = delay_s
        self.jitter_s = jitter_s
        self.paused = False
        self.lag = LagHistogram()  # ground truth: ack in the source -> applied in the target
        self._rng = rng
        self._heap: list[Queued] = []
        self._last_due: dict[tuple[Any, Key], float] = {}
        self._seq = 0

    @property
    def name(self) -> str:
        return f"{self.source}->{self.target}"

    @property
    def backlog(self) -> int:
        return len(self._heap)

    def sample_delay(self) -> float:
        jitter = self.jitter_s
        if jitter <= 0:
            return self.delay_s
        return max(0.0, self.delay_s + jitter * (2.0 * self._rng.random() - 1.0))

    def push(self, table: Any, key: Key, entry: Entry, ack: float) -> float:
        """Queue an image; returns when it is due."""
        due = ack + self.sample_delay()
        ident = (table, key)
        last_due = self._last_due
        last = last_due.get(ident)
        if last is not None and last > due:
            due = last
        last_due[ident] = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, ident, entry, ack))
        return due

    def take_due(self, now: float) -> list[Queued]:
        """Dequeue every image due by `now`, in due order (nothing while paused)."""
        heap = self._heap
        if self.paused or not heap or heap[0][0] > now:
            return []
        last_due = self._last_due
        pop = heapq.heappop
        out = []
        while heap and heap[0][0] <= now:
            queued = pop(heap)
            ident = queued[2]
            if last_due.get(ident) == queued[0]:
                del last_due[ident]
            out.append(queued)
        return out

    def drain(self, now: float, apply: Callable[[ReplicationLink, Delivery, float], Any]) -> None:
        """Deliver every image that is due, in due order, one `apply` call each."""
        for _, _, (table, key), entry, ack in self.take_due(now):
            apply(self, (table, key, entry, ack), now)

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap and not self.paused else None

    def state(self) -> dict[str, Any]:
        return {
            "delay_s": self.delay_s,
            "jitter_s": self.jitter_s,
            "paused": self.paused,
            "backlog": self.backlog,
        }


def now() -> float:
    return time.monotonic()
