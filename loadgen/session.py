"""`LoadSession`: the campaign's users and lag probes running in this process through Locust's
library API, plus `read_final`, the post-quiescence read of every touched key.

Free of campaign and CLI concerns: the runner decides when to start, stop and quiesce.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from locust.env import Environment

from loadgen.conditions import ClientConditions
from loadgen.ops import Answer, Read
from loadgen.plan import LoadPlan
from loadgen.probes import LagProbes
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient, Sink, counts_as_error
from loadgen.users import WorkloadExceptions, user_classes
from loadgen.workloads import Workload, build_workloads
from verdict.history import Op, Record

#: window of the live ops/s figure
RATE_WINDOW_S = 5.0


@dataclass(frozen=True)
class RegionRate:
    """Live figures of one region for the progress display."""

    ops: int  # operations so far (probes excluded)
    errors: int  # of which fail or unknown
    ops_per_s: float  # over the last RATE_WINDOW_S
    errors_per_s: float


class RegionStats:
    """Counts operations per region as records pass by."""

    def __init__(self, regions: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._totals = {r: [0, 0] for r in regions}
        self._recent: collections.deque[tuple[float, str, int, int]] = collections.deque()

    def count(self, rec: Record) -> None:
        self.add(rec.get("region", ""), 1, int(counts_as_error(rec)))

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


class LoadSession:
    """Users (per_region x regions) and lag probes. `start()` returns at once; Locust's
    greenlets run while the caller sleeps (gevent-patched `time.sleep`)."""

    def __init__(self, plan: LoadPlan, sink: Sink, conditions: ClientConditions) -> None:
        self.plan = plan
        self.conditions = conditions
        self.ids = RecordIds(plan.worker)
        self.workloads = build_workloads(plan.workloads, plan.regions, plan.key_prefix)
        self.raised = WorkloadExceptions()
        self.halted = threading.Event()
        self.stats = RegionStats(plan.regions)
        self._touched: set[str] = set()
        self._sink = sink
        self.probes = LagProbes(
            plan.regions,
            plan.store,
            self.ids,
            sink,
            conditions,
            interval=plan.observe.probe_interval,
            sample=plan.observe.probe_sample,
            key_prefix=plan.key_prefix,
        )
        classes = user_classes(
            plan,
            self._record,
            conditions,
            ids=self.ids,
            workloads=self.workloads,
            raised=self.raised,
            halted=self.halted,
        )
        # a stopping user finishes its operation so that no sent write goes unrecorded
        stop_timeout = plan.writers.timeout * 8 + 1.0
        self.env = Environment(user_classes=classes, stop_timeout=stop_timeout)
        self.runner = self.env.create_local_runner()
        self._started = False

    def _record(self, rec: Record) -> None:
        if rec.get("op") in (Op.PUT, Op.UPDATE, Op.DELETE):
            self._touched.add(rec["key"])
        self.stats.count(rec)
        self._sink(rec)
        self.probes.offer(rec)

    @property
    def user_count(self) -> int:
        return self.plan.writers.per_region * len(self.plan.regions)

    def start(self) -> None:
        if self._started:
            raise RuntimeError("this load session was already started")
        self._started = True
        self.probes.start()
        self.runner.start(self.user_count, spawn_rate=self.plan.writers.spawn_rate)

    def stop(self) -> None:
        """Stop users (each finishes its current operation), then the probes."""
        self.halted.set()  # before Locust's kills, which may land inside a new operation
        self.runner.stop()
        self.runner.quit()
        self.probes.stop()

    def live(self) -> dict[str, RegionRate]:
        """Per-region ops, errors and rates for a progress display."""
        return self.stats.snapshot()

    def touched_keys(self) -> set[str]:
        """Keys any write was attempted on (failed and unknown ones included)."""
        return set(self._touched)


def _summarize(workload: Workload | None) -> Callable[[Record, Answer], None]:
    def finish(rec: Record, answer: Answer) -> None:
        item = answer.item
        if workload is not None and item:
            summary = workload.summarize(item)
            if summary is not None:
                rec["value"] = summary

    return finish


def read_final(
    plan: LoadPlan,
    keys: Iterable[str],
    sink: Sink,
    *,
    workloads: dict[str, Workload] | None = None,
    ids: RecordIds | None = None,
) -> int:
    """ConsistentRead of every key in every region, recorded as `get` records with
    `final: true` (counters: `value` = count; carts: the element ids). Returns records made."""
    built = (
        workloads
        if workloads is not None
        else build_workloads(plan.workloads, plan.regions, plan.key_prefix)
    )
    ids = ids or RecordIds(f"{plan.worker}-final")
    conditions = ClientConditions()  # the final read ignores client-side faults (all healed)
    made = 0
    for region in plan.regions:
        calls = RecordingClient(
            home=region,
            table=plan.table,
            ids=ids,
            sink=sink,
            conditions=conditions,
            client_for=plan.store,
        )
        for key in sorted(keys):
            workload = built.get(key.removeprefix(plan.key_prefix).rsplit("#", 1)[0])
            rec = calls.record(workload.name if workload else "", key, Op.GET)
            rec["final"] = True
            rec["consistent"] = True
            calls.perform(rec, Read(key, consistent=True), finish=_summarize(workload))
            made += 1
    return made
