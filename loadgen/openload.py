"""The open model in one process: k6's arrival-rate executors on gevent.

Per region a clock greenlet walks the arrival schedule (`loadgen.arrivals`) and, at each
arrival's time, hands it to a free slot: a greenlet runs that one operation with the
arrival's own generator and gives the slot back. An arrival that finds every slot busy is
**dropped and counted**, never queued, so memory stays bounded and the delivered rate never
silently falls behind the requested one. A distributed worker runs the arrivals of its share
(i mod n) with its share of the slots.

Slots share store clients, one per `LoadPlan.slots_per_store` slots (a DynamoDB client keeps
64 connections; a PostgreSQL store holds one), instead of one per Locust user as in the
closed model.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterator

import gevent
from gevent.pool import Group

from loadgen.arrivals import Arrival, RateProfile, operation_rng, schedule
from loadgen.conditions import ClientConditions
from loadgen.failover import failover_target
from loadgen.ops import Store
from loadgen.plan import LoadPlan
from loadgen.recorder import RecordIds
from loadgen.recording import HomeDown, RecordingClient, Sink
from loadgen.tally import LoadTally
from loadgen.users import WorkloadExceptions, run_operation
from loadgen.workloads import Workload


class OpenLoad:
    """Arrivals of every region of `plan`, this process's `share` of `of` (see module doc)."""

    def __init__(
        self,
        plan: LoadPlan,
        profile: RateProfile,
        sink: Sink,
        conditions: ClientConditions,
        *,
        ids: RecordIds,
        mix: list[Workload],
        raised: WorkloadExceptions,
        tally: LoadTally,
    ) -> None:
        """Builds the first client of every region now: building one takes a while (boto3
        loads its model), and arrivals that pile up meanwhile would be dropped."""
        self.plan, self.profile, self.sink, self.conditions = plan, profile, sink, conditions
        self.ids, self.mix, self.raised, self.tally = ids, mix, raised, tally
        self.share, self.of, self.slots = 0, 1, 0
        self._clients: dict[tuple[str, int], Store] = {}
        self._home_down: dict[str, HomeDown] = {}
        for region in plan.regions:
            self._client(region, 0)
        self._free: dict[str, deque[RecordingClient]] = {}
        self._arrivals: dict[str, Iterator[Arrival]] = {}
        self._waiting: dict[str, Arrival | None] = {}
        self._clocks: list[gevent.Greenlet] = []
        self._operations = Group()
        self.t0 = 0.0
        #: schedule time (seconds after t0) at which arrivals stop: set by `stop`
        self.until = float("inf")

    def _slot(self, region: str, j: int) -> RecordingClient:
        group = j // self.plan.slots_per_store
        return RecordingClient(
            home=region,
            table=self.plan.table,
            ids=self.ids,
            sink=self.sink,
            conditions=self.conditions,
            client_for=lambda r: self._client(r, group),
            failover_to=failover_target(self.plan.writers.failover, region, self.plan.regions),
            home_down=self._home_down.setdefault(region, HomeDown()),
        )

    def _client(self, region: str, group: int) -> Store:
        client = self._clients.get((region, group))
        if client is None:
            client = self._clients[region, group] = self.plan.store(region)
        return client

    def start(self, t0: float | None = None, share: int = 0, of: int = 1) -> None:
        """Arrivals count from `t0` (wall clock; now when None); this process runs those
        whose index is `share` mod `of`, with its part of the slots."""
        self.t0 = time.time() if t0 is None else t0
        self.share, self.of = share, of
        self.slots = max(1, math.ceil(self.plan.writers.max_in_flight / of))
        self._free = {
            r: deque(self._slot(r, j) for j in range(self.slots)) for r in self.plan.regions
        }
        self.tally.started()
        weights = [w.spec.weight for w in self.mix]
        for region in self.plan.regions:
            self._arrivals[region] = schedule(self.profile, self.plan.seed, region, weights)
            self._waiting[region] = None
            self._clocks.append(gevent.spawn(self._clock, region))

    def _mine(self, arrivals: Iterator[Arrival]) -> Iterator[Arrival]:
        for arrival in arrivals:
            if arrival.index % self.of == self.share:
                yield arrival

    def _clock(self, region: str) -> None:
        free, mix = self._free[region], self.mix
        for arrival in self._mine(self._arrivals[region]):
            self._waiting[region] = arrival
            delay = self.t0 + arrival.t - time.time()
            if delay > 0:
                time.sleep(delay)  # gevent-patched: the operations run meanwhile
            if arrival.t >= self.until:
                return
            self._waiting[region] = None
            late = time.time() - self.t0 - arrival.t
            workload = mix[arrival.workload]
            if not free:
                self.tally.arrival(region, workload.name, False, late)
                continue
            slot = free.pop()  # the slot freed last: stores of idle slots are never made
            self.tally.arrival(region, workload.name, True, late)
            self.tally.in_flight(region, self.slots - len(free))
            self._operations.spawn(self._run, region, slot, arrival)

    def _run(self, region: str, slot: RecordingClient, arrival: Arrival) -> None:
        rng = operation_rng(self.plan.seed, region, arrival.index)
        try:
            run_operation(self.mix[arrival.workload], slot, rng, region, self.raised)
        finally:
            self._free[region].append(slot)

    def stop(self, patience_s: float, until: float | None = None) -> None:
        """No arrival from `until` on (schedule time; default: now). Arrivals before it that
        the clock has not reached (it fell behind, or this worker started a little after the
        master) are run first if the clock gets there within a second, else counted dropped;
        operations in flight finish (up to `patience_s`, so no sent write goes
        unrecorded)."""
        self.until = time.time() - self.t0 if until is None else until
        gevent.joinall(self._clocks, timeout=max(0.0, self.t0 + self.until - time.time()) + 1.0)
        gevent.killall(self._clocks)
        self._clocks.clear()
        for region, arrivals in self._arrivals.items():
            self._count_missed(region, arrivals, self.until)
        self._operations.join(timeout=patience_s)
        self._operations.kill()
        self.tally.stopped()

    def _count_missed(self, region: str, arrivals: Iterator[Arrival], elapsed: float) -> None:
        pending = self._waiting.get(region)
        mine = self._mine(arrivals)
        arrival = pending if pending is not None else next(mine, None)
        while arrival is not None and arrival.t < elapsed:
            late = elapsed - arrival.t
            self.tally.arrival(region, self.mix[arrival.workload].name, False, late)
            arrival = next(mine, None)

    def in_flight(self) -> int:
        return sum(self.slots - len(free) for free in self._free.values())
