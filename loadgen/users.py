"""Locust users pinned to regions: one User class per region, `fixed_count` users each.

Each user owns a `random.Random` seeded from (campaign seed, region, user index), so its
sequence of workloads, keys and operation parameters replays exactly from the seed (outcomes
and timing never feed the generator). Importing this module imports Locust, which
monkey-patches gevent: only the modules that run Locust import it.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from gevent import GreenletExit
from locust import User, constant, task
from locust.exception import InterruptTaskSet, RescheduleTask, StopUser

from loadgen.conditions import ClientConditions
from loadgen.failover import failover_target
from loadgen.plan import LoadPlan, user_rng
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient, Sink
from loadgen.tally import LoadTally
from loadgen.workloads import Workload, build_workloads, mix_of

log = logging.getLogger(__name__)

#: how Locust (and the process) steer users: never a workload's own failure
_CONTROL_FLOW = (GreenletExit, StopUser, InterruptTaskSet, RescheduleTask, KeyboardInterrupt)


class WorkloadExceptions:
    """Exceptions raised by workload code itself (store errors are failed records, not
    these): counted per workload with the first one kept, each kind logged once, so one
    buggy workload neither floods the log nor ends the run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.first: dict[str, str] = {}
        self._logged: set[tuple[str, type[BaseException]]] = set()

    def note(self, workload: str, exc: BaseException) -> None:
        kind = (workload, type(exc))
        with self._lock:
            self.counts[workload] = self.counts.get(workload, 0) + 1
            self.first.setdefault(workload, describe_exception(exc))
            new = kind not in self._logged
            self._logged.add(kind)
        if new:
            log.warning(
                "workload %s raised %s (each kind is logged once; the run goes on)",
                workload,
                describe_exception(exc),
                exc_info=exc,
            )

    def tally(self) -> dict[str, tuple[int, str]]:
        """Count and first exception per workload, for a distributed worker to send."""
        with self._lock:
            return {name: (n, self.first[name]) for name, n in self.counts.items()}

    @classmethod
    def merged(cls, tallies: Iterable[Mapping[str, Sequence[Any]]]) -> WorkloadExceptions:
        """Several workers' tallies as one: counts summed, the first exception of the first
        tally that names the workload."""
        merged = cls()
        for tally in tallies:
            for name, (n, first) in tally.items():
                merged.counts[name] = merged.counts.get(name, 0) + int(n)
                merged.first.setdefault(name, str(first))
        return merged

    def lines(self) -> list[str]:
        """One line per workload that raised, for the end of the run."""
        return [
            f"workload {name} raised {n} exception{'s' * (n != 1)} (first: {self.first[name]})"
            for name, n in sorted(self.counts.items())
        ]

    def never_ran(self, ran: Collection[str]) -> list[str]:
        """Why each workload that raised and is not in `ran` (the workloads that recorded an
        operation) gave the verdict nothing to judge."""
        return [
            f"workload {name} never ran: every call raised {self.first[name]}"
            for name in sorted(self.counts)
            if name not in ran
        ]


def describe_exception(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_operation(
    workload: Workload,
    calls: RecordingClient,
    rng: random.Random,
    home: str,
    raised: WorkloadExceptions,
) -> None:
    """One operation of `workload` from `home` (both models): what the workload's own code
    raises is counted, never allowed to end the run; Locust's control flow passes."""
    try:
        key = workload.choose_key(rng, home)
        workload.run(calls, key, rng)
    except _CONTROL_FLOW:
        raise
    except BaseException as exc:  # SystemExit too: user code must not end the run
        raised.note(workload.name, exc)


class RegionWriter(User):
    """One writer (or reader) pinned to `home`; subclasses per region are made below."""

    abstract = True
    home: ClassVar[str]
    plan: ClassVar[LoadPlan]
    sink: ClassVar[Sink]
    conditions: ClassVar[ClientConditions]
    ids: ClassVar[RecordIds]
    mix: ClassVar[list[Workload]]
    weights: ClassVar[list[float]]
    indices: ClassVar[itertools.count[int]]
    raised: ClassVar[WorkloadExceptions]
    tally: ClassVar[LoadTally | None]
    #: set before Locust stops the users: no user starts another operation. Locust kills a
    #: user that is in its think time, and the kill can land after the user woke and sent a
    #: write (the store applied it, the history would not have it)
    halted: ClassVar[threading.Event]

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        cls = type(self)
        self.index = next(cls.indices)
        self.rng = user_rng(cls.plan.seed, cls.home, self.index)
        self.calls = RecordingClient(
            home=cls.home,
            table=cls.plan.table,
            ids=cls.ids,
            sink=cls.sink,
            conditions=cls.conditions,
            client_for=cls.plan.store,
            failover_to=failover_target(cls.plan.writers.failover, cls.home, cls.plan.regions),
        )

    @task
    def operate(self) -> None:
        cls = type(self)
        if cls.halted.is_set():
            return
        workload = self.rng.choices(self.mix, weights=self.weights)[0]
        if cls.tally is not None:
            cls.tally.delivered(cls.home, workload.name)
        run_operation(workload, self.calls, self.rng, self.home, cls.raised)


def user_classes(
    plan: LoadPlan,
    sink: Sink,
    conditions: ClientConditions,
    *,
    ids: RecordIds | None = None,
    workloads: dict[str, Workload] | None = None,
    raised: WorkloadExceptions | None = None,
    tally: LoadTally | None = None,
    halted: threading.Event | None = None,
) -> list[type[User]]:
    """One Locust User class per region, `plan.writers.users` users each (the closed
    model); exceptions the workloads raise are counted in `raised`, operations in `tally`;
    once `halted` is set no user starts another operation."""
    built = (
        workloads
        if workloads is not None
        else build_workloads(plan.workloads, plan.regions, plan.key_prefix)
    )
    mix = mix_of(built)
    shared = {
        "plan": plan,
        "sink": staticmethod(sink),
        "conditions": conditions,
        "ids": ids or RecordIds(plan.worker),
        "raised": raised if raised is not None else WorkloadExceptions(),
        "tally": tally,
        "halted": halted if halted is not None else threading.Event(),
        "mix": mix,
        "weights": [w.spec.weight for w in mix],
        "wait_time": constant(plan.writers.think_time),
        "fixed_count": plan.writers.users,
    }
    return [
        type(
            f"Writer_{region.replace('-', '_')}",
            (RegionWriter,),
            {**shared, "home": region, "indices": itertools.count(), "abstract": False},
        )
        for region in plan.regions
    ]
