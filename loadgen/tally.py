"""What the load delivered: operations requested, started and dropped per region and workload,
and what names a bottleneck (in-flight peak, a clock running late, the process's CPU).

Each process that runs load keeps one `LoadTally`; a distributed worker sends its snapshot
with its records and the master merges them (`merge`). The runner saves the merged figures as
`load.json` (docs/verdict.md, "Load"), which the verdict's trust rules read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loadgen.spec import WritersSpec

#: an arrival started this much after its time counts as late (the load clock fell behind)
LATE_S = 0.1


class LoadTally:
    """Counters of one process. `requested`: arrivals that came due (open model); closed,
    every operation is requested by the user that starts it."""

    def __init__(self, regions: Iterable[str], workloads: Iterable[str]) -> None:
        names = list(workloads)
        self._lock = threading.Lock()
        #: region -> workload -> [requested, delivered, dropped]
        self.counts = {r: {w: [0, 0, 0] for w in names} for r in regions}
        self.peak_in_flight = dict.fromkeys(self.counts, 0)
        self.late = dict.fromkeys(self.counts, 0)
        self.max_late_s = dict.fromkeys(self.counts, 0.0)
        self._cpu0 = self._wall0 = 0.0
        self._busy: float | None = None

    def started(self) -> None:
        self._cpu0, self._wall0 = time.process_time(), time.monotonic()

    def stopped(self) -> None:
        """Freeze the CPU figure at the end of the load (final reads are not load)."""
        self._busy = self.cpu_busy()

    def cpu_busy(self) -> float:
        """This process's CPU time over the load's wall time: near 1, it was the bottleneck
        (one Python process runs on one core)."""
        if self._busy is not None:
            return self._busy
        wall = time.monotonic() - self._wall0
        return (time.process_time() - self._cpu0) / wall if self._wall0 and wall > 0 else 0.0

    def delivered(self, region: str, workload: str) -> None:
        """An operation started (closed model: requested too)."""
        with self._lock:
            cell = self.counts[region][workload]
            cell[0] += 1
            cell[1] += 1

    def arrival(self, region: str, workload: str, started: bool, late_s: float) -> None:
        with self._lock:
            cell = self.counts[region][workload]
            cell[0] += 1
            cell[1 if started else 2] += 1
            if late_s > LATE_S:
                self.late[region] += 1
            if late_s > self.max_late_s[region]:
                self.max_late_s[region] = late_s

    def in_flight(self, region: str, n: int) -> None:
        if n > self.peak_in_flight[region]:
            self.peak_in_flight[region] = n

    def snapshot(self) -> dict[str, Any]:
        """JSON-able, cumulative (a worker sends it with each batch; the latest wins)."""
        with self._lock:
            return {
                "cpu_busy": round(self.cpu_busy(), 4),
                "regions": {
                    r: {
                        "workloads": {w: list(c) for w, c in cells.items()},
                        "peak_in_flight": self.peak_in_flight[r],
                        "late": self.late[r],
                        "max_late_s": round(self.max_late_s[r], 4),
                    }
                    for r, cells in self.counts.items()
                },
            }


def merge(snapshots: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Processes' snapshots (by process name) as one: counts summed per region and workload,
    in-flight peaks summed (an upper bound), lateness summed and its maximum kept, CPU per
    process."""
    regions: dict[str, dict[str, Any]] = {}
    for snap in snapshots.values():
        for region, figures in snap.get("regions", {}).items():
            into = regions.setdefault(
                region, {"workloads": {}, "peak_in_flight": 0, "late": 0, "max_late_s": 0.0}
            )
            for workload, cell in figures["workloads"].items():
                have = into["workloads"].setdefault(workload, [0, 0, 0])
                for i, n in enumerate(cell):
                    have[i] += int(n)
            into["peak_in_flight"] += int(figures.get("peak_in_flight", 0))
            into["late"] += int(figures.get("late", 0))
            into["max_late_s"] = max(into["max_late_s"], float(figures.get("max_late_s", 0.0)))
    cpu = {name: snap.get("cpu_busy", 0.0) for name, snap in sorted(snapshots.items())}
    return {"regions": regions, "cpu_busy": cpu}


def describe_load(writers: WritersSpec, regions: int) -> str:
    """Who runs the load, for the run's header: users, or a rate."""
    if not writers.open:
        return f"{writers.users * regions} users"
    if writers.stages:
        peak = max([s.rate for s in writers.stages] + [writers.rate or 0.0])
        shape = f"{len(writers.stages)} rate stages up to {peak:g}/s per region"
    else:
        shape = f"{writers.rate:g}/s per region"
    return f"{shape} (at most {writers.max_in_flight} in flight per region)"


def load_document(
    writers: WritersSpec,
    duration: float,
    elapsed: float,
    figures: dict[str, Any],
    *,
    complete: bool,
) -> dict[str, Any]:
    """load.json: the model and its parameters, then per region what was requested,
    delivered (started) and dropped, overall and per workload, and the processes' CPU.
    The closed model requests nothing ahead: its `requested` is null."""
    regions = {}
    for region, f in figures["regions"].items():
        cells = f["workloads"]
        per = {
            w: {
                "requested": c[0] if writers.open else None,
                "delivered": c[1],
                "dropped": c[2],
            }
            for w, c in cells.items()
        }
        regions[region] = {
            "requested": sum(c[0] for c in cells.values()) if writers.open else None,
            "delivered": sum(c[1] for c in cells.values()),
            "dropped": sum(c[2] for c in cells.values()),
            "peak_in_flight": f["peak_in_flight"],
            "late": f["late"],
            "max_late_s": f["max_late_s"],
            "workloads": per,
        }
    return {
        "model": "open" if writers.open else "closed",
        "rate": writers.rate,
        "stages": [{"for": s.for_, "rate": s.rate} for s in writers.stages or []],
        "users_per_region": writers.users,
        "max_in_flight": writers.max_in_flight if writers.open else None,
        "duration_s": duration,
        "elapsed_s": round(elapsed, 3),
        "complete": complete,
        "regions": regions,
        "cpu_busy": figures["cpu_busy"],
    }
