"""Client-side fault state that every user consults before each call (DESIGN §9).

On AWS hothot cannot skew DynamoDB's clock or take a region down; it can skew the clock of the
writers (what `client_lww` timestamps with) and make a region unreachable *from the writers*.
Such calls fail before anything is sent, so their outcome is a certain `fail`, never `unknown`.
The chaos part's `client` injector drives this object; its method names are the interface.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


class ClientFault(Exception):
    """A call refused on the client side: it never left the process."""

    def __init__(self, fault: str, region: str) -> None:
        super().__init__(f"{fault} ({region})")
        self.fault = fault
        self.region = region

    @property
    def code(self) -> str:
        """The history's `error` for such a call."""
        return f"ClientFault:{self.fault}"


@dataclass(frozen=True)
class SkewedClock:
    """offset + drift since `since`; with a strobe period the offset flips between `offset_s`
    and 0 every period (Jepsen's strobing clock), as the emulator's region clocks do."""

    offset_s: float
    drift_ppm: float
    strobe_period_s: float
    since: float

    def read(self, wall: float) -> float:
        elapsed = wall - self.since
        offset = self.offset_s
        if (
            self.strobe_period_s > 0
            and (elapsed % self.strobe_period_s) >= self.strobe_period_s / 2
        ):
            offset = 0.0
        return wall + offset + elapsed * self.drift_ppm * 1e-6


class ClientConditions:
    """Per-region clock, outage, partition and latency as the writers experience them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clocks: dict[str, SkewedClock] = {}
        self._outages: set[str] = set()
        self._partitions: set[frozenset[str]] = set()
        self._latency: dict[str, float] = {}

    # -- the writers' clock ----------------------------------------------------------------
    def now(self, region: str) -> float:
        """The wall clock of `region`'s writers, skew included."""
        wall = time.time()
        clock = self._clocks.get(region)
        return clock.read(wall) if clock else wall

    def set_clock(
        self, region: str, offset_s: float, drift_ppm: float = 0.0, strobe_period_s: float = 0.0
    ) -> None:
        if strobe_period_s < 0:
            raise ValueError(f"strobe_period_s must be >= 0, got {strobe_period_s}")
        with self._lock:
            self._clocks[region] = SkewedClock(offset_s, drift_ppm, strobe_period_s, time.time())

    def clear_clock(self, region: str) -> None:
        with self._lock:
            self._clocks.pop(region, None)

    # -- reachability ----------------------------------------------------------------------
    def set_outage(self, region: str, on: bool) -> None:
        with self._lock:
            (self._outages.add if on else self._outages.discard)(region)

    def set_partition(self, regions: list[str] | tuple[str, ...], on: bool) -> None:
        """Writers homed in one of `regions` cannot reach the others (matters for failover
        and for probes, which observe one region from another)."""
        if len(set(regions)) < 2:
            raise ValueError(f"a partition needs at least two distinct regions, got {regions!r}")
        pairs = {frozenset((a, b)) for a in regions for b in regions if a != b}
        with self._lock:
            if on:
                self._partitions |= pairs
            else:
                self._partitions -= pairs

    def set_latency(self, region: str, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must be >= 0, got {seconds}")
        with self._lock:
            if seconds:
                self._latency[region] = seconds
            else:
                self._latency.pop(region, None)

    def reachable(self, region: str, origin: str | None = None) -> bool:
        if region in self._outages:
            return False
        return (
            origin is None
            or origin == region
            or frozenset((origin, region)) not in self._partitions
        )

    def check(self, region: str, origin: str | None = None) -> None:
        """Before a call to `region` by a writer homed in `origin`: raise `ClientFault` when it
        cannot be sent, sleep the injected latency otherwise."""
        if region in self._outages:
            raise ClientFault("outage", region)
        if (
            origin is not None
            and origin != region
            and frozenset((origin, region)) in self._partitions
        ):
            raise ClientFault("partition", region)
        delay = self._latency.get(region)
        if delay:
            time.sleep(delay)

    def clear(self) -> None:
        """Heal everything (end of run, Ctrl-C)."""
        with self._lock:
            self._clocks.clear()
            self._outages.clear()
            self._partitions.clear()
            self._latency.clear()
