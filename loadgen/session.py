"""`LoadSession`: the campaign's users and lag probes running in this process through Locust's
library API, plus `read_final`, the post-quiescence read of every touched key.

Free of campaign and CLI concerns: the runner decides when to start, stop and quiesce.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from locust.env import Environment

from loadgen.conditions import ClientConditions
from loadgen.engine import RegionRate, RegionStats
from loadgen.hub import RecordHub, WrittenKeys
from loadgen.openload import OpenLoad
from loadgen.ops import Answer, Read
from loadgen.plan import LoadPlan
from loadgen.probes import LagProbes
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient, Sink
from loadgen.tally import LoadTally, describe_load, merge
from loadgen.users import WorkloadExceptions, user_classes
from loadgen.workloads import Workload, build_workloads, mix_of
from verdict.history import Op, Record


class LoadSession:
    """The local load engine (`loadgen.engine.LoadEngine`): Locust users (closed model) or
    the arrival schedule (open model, `loadgen.openload`), and the lag probes, all in this
    process. `start()` returns at once; the greenlets run while the caller sleeps
    (gevent-patched `time.sleep`)."""

    def __init__(self, plan: LoadPlan, hub: RecordHub, conditions: ClientConditions) -> None:
        self.plan = plan
        self.conditions = conditions
        self.ids = RecordIds(plan.worker)
        self.workloads = build_workloads(plan.workloads, plan.regions, plan.key_prefix)
        self._raised = WorkloadExceptions()
        self.halted = threading.Event()
        self.tally = LoadTally(plan.regions, self.workloads)
        self.stats = RegionStats(plan.regions)
        self._written = WrittenKeys()
        self.probes = LagProbes(
            plan.regions,
            plan.store,
            self.ids,
            hub.sink,
            conditions,
            interval=plan.observe.probe_interval,
            sample=plan.observe.probe_sample,
            key_prefix=plan.key_prefix,
        )
        for listener in (self._written.on_record, self.stats.on_record, self.probes.offer):
            hub.record.add_listener(listener)
        profile = plan.rate_profile()
        self.open = None if profile is None else OpenLoad(
            plan, profile, hub.sink, conditions, ids=self.ids, mix=mix_of(self.workloads),
            raised=self._raised, tally=self.tally,
        )  # fmt: skip
        classes = [] if self.open else user_classes(
            plan, hub.sink, conditions, ids=self.ids, workloads=self.workloads,
            raised=self._raised, tally=self.tally, halted=self.halted,
        )  # fmt: skip
        self.env = Environment(user_classes=classes, stop_timeout=plan.writers.stop_timeout)
        self.runner = self.env.create_local_runner()
        self._started = False
        self._stopped = False

    @property
    def user_count(self) -> int:
        return self.plan.writers.users * len(self.plan.regions)

    def prepare(self, interrupted: Callable[[], bool]) -> None:
        """Nothing to wait for in one process."""

    def describe(self) -> str:
        return describe_load(self.plan.writers, len(self.plan.regions))

    def start(self) -> None:
        if self._started:
            raise RuntimeError("this load session was already started")
        self._started = True
        self.probes.start()
        if self.open is not None:
            self.open.start()
            return
        self.tally.started()
        self.runner.start(self.user_count, spawn_rate=self.plan.writers.spawn_rate)

    def stop(self) -> None:
        """Stop the load (each operation in flight finishes), then the probes."""
        if self._stopped:
            return
        self._stopped = True
        self.halted.set()  # before Locust's kills, which may land inside a new operation
        if self.open is not None:
            self.open.stop(self.plan.writers.stop_timeout)
        else:
            self.runner.stop()
            self.tally.stopped()
        self.runner.quit()
        self.probes.stop()

    close = stop  # stopping twice does nothing

    def live(self) -> dict[str, RegionRate]:
        """Per-region ops, errors and rates for a progress display."""
        return self.stats.snapshot()

    def exhausted(self) -> str | None:
        return None

    def written_keys(self) -> set[str]:
        """Keys any write was attempted on (failed and unknown ones included)."""
        return set(self._written)

    def raised(self) -> WorkloadExceptions:
        return self._raised

    def lost_workers(self) -> list[str]:
        return []

    def load_figures(self) -> dict[str, Any]:
        return merge({self.plan.worker: self.tally.snapshot()})

    def save(self, report_dir: Path) -> None:
        """No file of its own: the history says everything."""


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
