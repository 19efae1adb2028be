"""Locust users pinned to regions: one User class per region, `fixed_count` users each.

Each user owns a `random.Random` seeded from (campaign seed, region, user index), so its
sequence of workloads, keys and operation parameters replays exactly from the seed (outcomes
and timing never feed the generator). Importing this module imports Locust, which
monkey-patches gevent: only the modules that run Locust import it.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

from locust import User, constant, task

from loadgen.conditions import ClientConditions
from loadgen.failover import failover_target
from loadgen.plan import LoadPlan, user_rng
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient, Sink
from loadgen.workloads import Workload, build_workloads


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
            client_for=cls.plan.client,
            failover_to=failover_target(cls.plan.writers.failover, cls.home, cls.plan.regions),
        )

    @task
    def operate(self) -> None:
        workload = self.rng.choices(self.mix, weights=self.weights)[0]
        key = workload.choose_key(self.rng, self.home)
        workload.run(self.calls, key, self.rng)


def user_classes(
    plan: LoadPlan,
    sink: Sink,
    conditions: ClientConditions,
    *,
    ids: RecordIds | None = None,
    workloads: dict[str, Workload] | None = None,
) -> list[type[User]]:
    """One Locust User class per region, `plan.writers.per_region` users each."""
    built = workloads if workloads is not None else build_workloads(plan.workloads, plan.regions)
    mix = [w for w in built.values() if w.spec.weight > 0]
    if not mix:
        raise ValueError("every workload has weight 0: there is nothing to run")
    shared = {
        "plan": plan,
        "sink": staticmethod(sink),
        "conditions": conditions,
        "ids": ids or RecordIds(plan.worker),
        "mix": mix,
        "weights": [w.spec.weight for w in mix],
        "wait_time": constant(plan.writers.think_time),
        "fixed_count": plan.writers.per_region,
    }
    return [
        type(
            f"Writer_{region.replace('-', '_')}",
            (RegionWriter,),
            {**shared, "home": region, "indices": itertools.count(), "abstract": False},
        )
        for region in plan.regions
    ]
