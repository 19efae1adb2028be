"""A region's last-writer-wins clock: the wall clock plus the skew chaos gives it."""

from __future__ import annotations

import time


class RegionClock:
    """Wall clock + `offset_s`, drifting by `drift_ppm`; with `strobe_period_s` > 0 the offset
    flips between `offset_s` and 0 every period (Jepsen's strobing clock)."""

    __slots__ = ("offset_s", "drift_ppm", "strobe_period_s", "since")

    def __init__(self) -> None:
        self.offset_s = 0.0
        self.drift_ppm = 0.0
        self.strobe_period_s = 0.0
        self.since = time.time()

    def set(self, offset_s: float, drift_ppm: float = 0.0, strobe_period_s: float = 0.0) -> None:
        self.offset_s = offset_s
        self.drift_ppm = drift_ppm
        self.strobe_period_s = strobe_period_s
        self.since = time.time()

    def current_offset(self, wall: float | None = None) -> float:
        wall = time.time() if wall is None else wall
        if not (self.offset_s or self.drift_ppm):
            return 0.0
        elapsed = wall - self.since
        offset = self.offset_s
        if self.strobe_period_s > 0 and int(elapsed / self.strobe_period_s) % 2 == 1:
            offset = 0.0
        return offset + elapsed * self.drift_ppm * 1e-6

    def now(self) -> float:
        wall = time.time()
        if not (self.offset_s or self.drift_ppm):
            return wall
        return wall + self.current_offset(wall)
