"""Replication lag per link from probe records, and convergence after each healed fault.

Probes measure lag with one process's monotonic clock (docs/verdict.md), so neither injected clock
skew nor skew between load machines distorts them. Convergence after a heal is the time until
a probe written after the heal was visible on every link: per-item order on a link means the
held backlog has drained by then.
"""

from __future__ import annotations

from typing import Any

from units import link_name
from verdict.graph import VersionStore
from verdict.history import FaultWindow
from verdict.stats import summary


def lag_by_link(store: VersionStore) -> dict[str, dict[str, float | int]]:
    names = store.regions.names
    out = {}
    for (a, b), lags in sorted(store.lags.items()):
        s = summary(lags)
        if s is not None:
            out[link_name(names[a], names[b])] = s
    return out


def convergence(store: VersionStore, windows: list[FaultWindow]) -> list[dict[str, Any]]:
    """Per healed window: seconds from heal to a post-heal probe visible on every link."""
    out = []
    for win in windows:
        heal = win["heal"]
        if heal is None:
            continue
        worst: float | None = None
        slowest = None
        for link, times in store.probe_t.items():
            lags = store.lags[link]
            first = min(
                (t + lag for t, lag in zip(times, lags, strict=True) if t >= heal), default=None
            )
            if first is None:
                continue
            took = max(0.0, first - heal)
            if worst is None or took > worst:
                worst, slowest = took, link
        names = store.regions.names
        out.append(
            {
                "window": win["id"],
                "fault": win["fault"],
                "target": win["target"],
                "heal": heal,
                "converged_s": None if worst is None else round(worst, 6),
                "slowest_link": None
                if slowest is None
                else link_name(*(names[i] for i in slowest)),
            }
        )
    return out
