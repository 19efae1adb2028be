"""Live terminal progress of a run: elapsed vs duration, ops/s and errors per region, faults.

rich renders it; when stdout is not a terminal (CI logs) a plain line is printed every few
seconds instead, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text


@dataclass
class RegionCounts:
    ops: int = 0
    errors: int = 0
    ops_per_s: float = 0.0  # over the recent window the load session keeps
    errors_per_s: float = 0.0
    dropped: int = 0  # open model: arrivals that found no free slot


@dataclass
class Snapshot:
    elapsed: float
    duration: float
    regions: Mapping[str, RegionCounts]
    faults: list[str] = field(default_factory=list)


class RunProgress:
    """Feed it snapshots (counts and recent rates per region, active faults)."""

    def __init__(self, title: str, console: Console | None = None, plain_every_s: float = 5.0):
        self.title = title
        self.console = console or Console(stderr=True)
        self._live: Live | None = None
        self._plain_every = plain_every_s
        self._last_plain = 0.0

    def __enter__(self) -> RunProgress:
        if self.console.is_terminal:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def update(self, snap: Snapshot) -> None:
        if self._live is not None:
            self._live.update(self._render(snap))
            return
        now = time.monotonic()
        if now - self._last_plain >= self._plain_every:
            self._last_plain = now
            print(self._plain(snap), file=sys.stderr, flush=True)

    def _plain(self, snap: Snapshot) -> str:
        parts = [f"{self.title} {snap.elapsed:5.1f}/{snap.duration:g}s"]
        for region, counts in snap.regions.items():
            dropped = f", {counts.dropped} dropped" if counts.dropped else ""
            parts.append(f"{region} {counts.ops_per_s:.0f} ops/s ({counts.errors} err{dropped})")
        parts.append("faults: " + (", ".join(snap.faults) or "none"))
        return " | ".join(parts)

    def _render(self, snap: Snapshot) -> Group:
        bar = Table.grid(expand=True)  # a bare ProgressBar does not end its line: the
        bar.add_row(  # table's header row would follow it on the same line and be cut off
            ProgressBar(total=max(snap.duration, 1e-9), completed=min(snap.elapsed, snap.duration))
        )
        head = Text(f"{self.title}  {snap.elapsed:5.1f}s / {snap.duration:g}s")
        table = Table(box=None, pad_edge=False)
        dropping = any(c.dropped for c in snap.regions.values())
        cols = ("region", "ops/s", "errors/s", "ops", "errors") + (("dropped",) if dropping else ())
        for col in cols:
            table.add_column(col, justify="right" if col != "region" else "left")
        for region, counts in snap.regions.items():
            rate, err_rate = counts.ops_per_s, counts.errors_per_s
            style = "red" if err_rate > 0 else ""
            table.add_row(
                region,
                f"{rate:,.0f}",
                Text(f"{err_rate:,.1f}", style=style),
                f"{counts.ops:,}",
                f"{counts.errors:,}",
                *((Text(f"{counts.dropped:,}", style="red"),) if dropping else ()),
            )
        faults = Text(
            "active faults: " + (", ".join(snap.faults) or "none"),
            style="bold yellow" if snap.faults else "dim",
        )
        return Group(head, bar, table, faults)


def snapshot(
    elapsed: float,
    duration: float,
    stats: Mapping[str, Any],
    faults: list[str],
    dropped: Mapping[str, int] | None = None,
) -> Snapshot:
    """A progress snapshot from a load engine's `live()` figures, its dropped arrivals per
    region (open model) and the active faults."""
    dropped = dropped or {}
    return Snapshot(
        elapsed=elapsed,
        duration=duration,
        regions={
            r: RegionCounts(s.ops, s.errors, s.ops_per_s, s.errors_per_s, dropped.get(r, 0))
            for r, s in sorted(stats.items())
        },
        faults=faults,
    )
