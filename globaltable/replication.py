"""Replication links: one directed queue per region pair, delivering whole item images after
the link's delay (+ jitter), per-item FIFO, held while the link is paused."""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from globaltable.metrics import LagHistogram
from globaltable.store import Entry, Key

#: (table, key, entry, ack time in the source, monotonic); the table is the engine's Table
Delivery = tuple[Any, Key, Entry, float]
#: a queued image: ((table, key), entry, ack); `(table, key)` identifies the item for the
#: per-item FIFO rule and is built once per image
Queued = tuple[tuple[Any, Key], Entry, float]
#: images fall due in ticks of this many per second: an image is delivered at the end of the
#: tick its due time falls in (never early, at most one tick late)
TICKS_PER_S = 1000


class ReplicationLink:
    """Source -> target. Jitter draws uniformly from [delay - jitter, delay + jitter] (never
    below 0); an item never overtakes an earlier image of itself on the same link.

    Images wait in one bucket per due tick (a FIFO list), with a heap of the ticks: queueing
    and delivering an image are list appends and iterations, not heap operations per image."""

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
        self.backlog = 0  # images queued, not yet delivered
        self._rng = rng
        self._buckets: dict[int, list[Queued]] = {}
        self._ticks: list[int] = []  # heap of the buckets' ticks
        #: per item: the tick of its latest queued image (or of one already delivered)
        self._last_tick: dict[tuple[Any, Key], int] = {}

    @property
    def name(self) -> str:
        return f"{self.source}->{self.target}"

    def sample_delay(self) -> float:
        jitter = self.jitter_s
        if jitter <= 0:
            return self.delay_s
        return max(0.0, self.delay_s + jitter * (2.0 * self._rng.random() - 1.0))

    def push(self, ident: tuple[Any, Key], entry: Entry, ack: float) -> float:
        """Queue an image of the item `ident` = (table, key); returns when it is due."""
        tick = int((ack + self.sample_delay()) * TICKS_PER_S) + 1
        last_tick = self._last_tick
        last = last_tick.get(ident)
        if last is not None and last > tick:
            tick = last  # the same bucket, after the earlier image: per-item FIFO
        last_tick[ident] = tick
        bucket = self._buckets.get(tick)
        if bucket is None:
            self._buckets[tick] = [(ident, entry, ack)]
            heapq.heappush(self._ticks, tick)
        else:
            bucket.append((ident, entry, ack))
        self.backlog += 1
        return tick / TICKS_PER_S

    def queued(self) -> Iterator[tuple[tuple[Any, Key], Entry]]:
        """Every image waiting on the link: ((table, key), entry)."""
        for bucket in self._buckets.values():
            for ident, entry, _ in bucket:
                yield ident, entry

    def take_due(self, now: float) -> list[Queued]:
        """Dequeue every image due by `now`, in due order (nothing while paused)."""
        ticks = self._ticks
        limit = now * TICKS_PER_S
        if self.paused or not ticks or ticks[0] > limit:
            return []
        out: list[Queued] = []
        while ticks and ticks[0] <= limit:
            out += self._buckets.pop(heapq.heappop(ticks))
        self.backlog -= len(out)
        # `_last_tick` entries of delivered images are stale but harmless (every new image is
        # due after them); forget them in bulk rather than one dict operation per image
        if not self.backlog:
            self._last_tick.clear()
        elif len(self._last_tick) > 2 * self.backlog + 4096:
            self._last_tick = {
                ident: tick for tick in sorted(self._buckets) for ident, _, _ in self._buckets[tick]
            }
        return out

    def drain(self, now: float, apply: Callable[[ReplicationLink, Delivery, float], Any]) -> None:
        """Deliver every image that is due, in due order, one `apply` call each."""
        for (table, key), entry, ack in self.take_due(now):
            apply(self, (table, key, entry, ack), now)

    def retime(self, now: float) -> None:
        """After the link got faster (a delay fault healed): no queued image stays due later
        than one sent now would be. Images past that moment move to its bucket in due order,
        so per-item order holds."""
        cap = int((now + self.delay_s + self.jitter_s) * TICKS_PER_S) + 1
        late = sorted(t for t in self._buckets if t > cap)
        if not late:
            return
        bucket = self._buckets.setdefault(cap, [])
        for tick in late:
            bucket += self._buckets.pop(tick)
        self._ticks = sorted(self._buckets)  # a sorted list is a heap
        for ident, tick in self._last_tick.items():
            if tick > cap:
                self._last_tick[ident] = cap

    def next_due(self) -> float | None:
        return self._ticks[0] / TICKS_PER_S if self._ticks and not self.paused else None

    def state(self) -> dict[str, Any]:
        return {
            "delay_s": self.delay_s,
            "jitter_s": self.jitter_s,
            "paused": self.paused,
            "backlog": self.backlog,
        }


def now() -> float:
    return time.monotonic()
