"""The load engine: what the runner drives, whatever runs the users (Locust's `Runner` is the
model: a local one and a master of workers behind one interface).

`loadgen.session.LoadSession` runs the load in this process; `hothot.distributed`'s engine is
a Locust master whose workers run it. Either fires every record into the run's
`loadgen.hub.RecordHub`; the runner alone decides the phase order (docs/architecture.md).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from loadgen.hub import Batch
from loadgen.recording import counts_as_error

if TYPE_CHECKING:
    from loadgen.recorder import RecordIds
    from loadgen.users import WorkloadExceptions
    from loadgen.workloads import Workload

#: window of the live ops/s figure
RATE_WINDOW_S = 5.0


class EngineError(Exception):
    """The load cannot start (workers did not connect, the master cannot listen): exit 2."""


class LoadEngine(Protocol):
    """Start, watch and stop a campaign's load; records go to the hub it was given."""

    #: the workloads as built (read_final summarises counters and carts with them)
    workloads: dict[str, Workload]
    #: this process's record ids (the final reads draw from them)
    ids: RecordIds

    def prepare(self, interrupted: Callable[[], bool]) -> None:
        """Everything before the first operation; raises EngineError when it cannot start."""

    def describe(self) -> str:
        """Who runs the load, for the run's header line."""

    def start(self) -> None: ...

    def live(self) -> dict[str, RegionRate]:
        """Per-region counts and recent rates, for the progress view."""

    def exhausted(self) -> str | None:
        """Why the load cannot go on (every worker lost), or None."""

    def stop(self) -> None:
        """Every operation finished and its record fired, probes stopped."""

    def written_keys(self) -> set[str]: ...

    def raised(self) -> WorkloadExceptions:
        """Exceptions the workloads' own code raised, everywhere the load ran."""

    def lost_workers(self) -> list[str]:
        """Workers whose records did not all arrive (the history is partial)."""

    def load_figures(self) -> dict[str, Any]:
        """`loadgen.tally.merge` of every process's LoadTally (requested, delivered,
        dropped per region and workload; CPU per process)."""

    def save(self, report_dir: Path) -> None:
        """The engine's own files in the report directory (workers.json)."""

    def close(self) -> None:
        """Whatever still runs stopped (idempotent; also after a failed start)."""


@dataclass(frozen=True)
class RegionRate:
    """Live figures of one region for the progress display."""

    ops: int  # operations so far (probes excluded)
    errors: int  # of which fail or unknown
    ops_per_s: float  # over the last RATE_WINDOW_S
    errors_per_s: float


class RegionStats:
    """Counts operations per region as records pass by (a record-hub listener)."""

    def __init__(self, regions: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._totals = {r: [0, 0] for r in regions}
        self._recent: collections.deque[tuple[float, str, int, int]] = collections.deque()

    def on_record(self, rec: dict[str, Any]) -> None:
        """A user's operation counts; lag probes and final reads do not."""
        if rec.get("op") == "probe" or rec.get("final"):
            return
        self.add(rec.get("region", ""), 1, int(counts_as_error(rec)))

    def on_batch(self, batch: Batch) -> None:
        for region, (ops, errors) in batch.regions.items():
            self.add(region, ops, errors)

    def add(self, region: str, ops: int, errors: int) -> None:
        """Operations counted elsewhere (a distributed worker's batch), one entry for all."""
        now = time.monotonic()
        with self._lock:
            totals = self._totals.setdefault(region, [0, 0])
            totals[0] += ops
            totals[1] += errors
            self._recent.append((now, region, ops, errors))

    def snapshot(self) -> dict[str, RegionRate]:
        now = time.monotonic()
        with self._lock:
            while self._recent and self._recent[0][0] < now - RATE_WINDOW_S:
                self._recent.popleft()
            window: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
            for _, region, ops, errors in self._recent:
                window[region][0] += ops
                window[region][1] += errors
            return {
                region: RegionRate(
                    ops=ops,
                    errors=errors,
                    ops_per_s=window[region][0] / RATE_WINDOW_S,
                    errors_per_s=window[region][1] / RATE_WINDOW_S,
                )
                for region, (ops, errors) in self._totals.items()
            }
