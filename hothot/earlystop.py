"""Stopping a run that reaches nothing: every operation failing for `writers.abort_when_all_fail`.

A target that is never reached (a name that does not resolve, no route from a private subnet,
AccessDenied on every write) fails each operation at once; going on for the campaign's whole
duration only piles up failures. The runner's progress loop hands this check the live
per-region counts every quarter second; once no operation has succeeded for the configured
time (and some were attempted), it gives the reason to stop the load early. The verdict then
judges what was recorded (a run whose operations mostly failed is not trusted).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any


class AllFailing:
    """`check(stats)` returns why to stop once every operation since `window_s` ago failed."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._seen = (0, 0)  # operations and errors at the last check
        self._failing_since: float | None = None

    def check(self, stats: Mapping[str, Any]) -> str | None:
        """`stats`: region -> live figures with cumulative `ops` and `errors`."""
        if self.window_s <= 0:
            return None
        ops = sum(int(s.ops) for s in stats.values())
        errors = sum(int(s.errors) for s in stats.values())
        new_ops, new_errors = ops - self._seen[0], errors - self._seen[1]
        self._seen = (ops, errors)
        now = time.monotonic()
        if new_ops == 0:
            return None  # nothing finished since: no news either way
        if new_errors < new_ops:
            self._failing_since = None
            return None
        if self._failing_since is None:
            self._failing_since = now
        if now - self._failing_since < self.window_s:
            return None
        return (
            f"every operation of the last {self.window_s:g}s failed ({errors} of {ops} so far "
            "failed or had an unknown outcome): the target is not being reached; stopping the "
            "load early (writers.abort_when_all_fail)"
        )
