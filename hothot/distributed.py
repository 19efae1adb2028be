"""Distributed mode on Locust's master/worker channel (issue 8).

The master (this process) owns everything that must be one: the target, the chaos timeline,
the lag probes (one monotonic clock), the history shards, live metrics, the final reads and the
verdict. Workers only run users. They get the resolved campaign over Locust's message channel
when they connect, stream their records back in paced batches, and apply client-side faults
the master broadcasts. The verdict therefore needs nothing from the workers' disks.

Messages (all small dicts; history travels as pre-encoded JSON lines):
  worker → master  hothot_hello       {}                 handlers ready: send the plan
  master → worker  hothot_plan        {campaign, endpoints, worker}
  master → worker  hothot_conditions  {method, args}     client-side fault state
  worker → master  hothot_history     {worker, lines, regions, keys, produced, raised}
                   lines: JSON lines; regions: {region: [ops, errors]} of those lines;
                   keys: written keys first seen in them; produced: the worker's total so far;
                   raised: {workload: [count, first exception]} its workloads' own code
                   raised so far
  worker → master  hothot_flushed     {worker, produced, raised}  users stopped, all
                   records sent (sent after the last batch; the master awaits it before the
                   verdict)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from hothot.campaign import Campaign
from hothot.runner import CampaignRun
from hothot.target import Target, stop_processes
from loadgen.conditions import ClientConditions
from loadgen.engine import EngineError, RegionRate, RegionStats
from loadgen.hub import Batch, RecordHub, WrittenKeys
from loadgen.plan import LoadPlan
from loadgen.users import WorkloadExceptions
from verdict.analyze import CAMPAIGN_FILE, WORKERS_FILE

#: how long the master waits for the expected workers to connect
CONNECT_TIMEOUT_S = 60.0
#: how long the master waits for every worker to hand over its last records
FLUSH_TIMEOUT_S = 15.0


def parse_hostport(text: str, default_port: int = 5557) -> tuple[str, int]:
    """HOST[:PORT] (an empty HOST is loopback); PORT 0 only means "any free port" to a bind."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, str(default_port)
    if not port.isdigit() or int(port) > 65535 or not (host or sep) or host.strip() != host:
        raise ValueError(f"expected HOST[:PORT] with PORT in 0..65535, got {text!r}")
    return host or "127.0.0.1", int(port)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class BroadcastConditions(ClientConditions):
    """The master's client conditions: applied locally (the probes run here) and sent to
    every worker, so the chaos client injector reaches users wherever they run."""

    def __init__(self) -> None:
        super().__init__()
        self.runner: Any = None
        self._calls: list[tuple[str, list[Any]]] = []

    def _broadcast(self, method: str, *args: Any) -> None:
        self._calls.append((method, list(args)))
        if self.runner is not None:
            self.runner.send_message("hothot_conditions", {"method": method, "args": list(args)})

    def replay_to(self, client_id: str) -> None:
        """A worker joining late gets the faults already applied."""
        for method, args in self._calls:
            self.runner.send_message(
                "hothot_conditions", {"method": method, "args": args}, client_id=client_id
            )

    def set_clock(self, region: str, offset_s: float, drift_ppm: float = 0.0,
                  strobe_period_s: float = 0.0) -> None:  # fmt: skip
        super().set_clock(region, offset_s, drift_ppm, strobe_period_s)
        self._broadcast("set_clock", region, offset_s, drift_ppm, strobe_period_s)

    def clear_clock(self, region: str) -> None:
        super().clear_clock(region)
        self._broadcast("clear_clock", region)

    def set_outage(self, region: str, on: bool) -> None:
        super().set_outage(region, on)
        self._broadcast("set_outage", region, on)

    def set_partition(self, regions: list[str] | tuple[str, ...], on: bool) -> None:
        super().set_partition(regions, on)
        self._broadcast("set_partition", list(regions), on)

    def set_latency(self, region: str, seconds: float) -> None:
        super().set_latency(region, seconds)
        self._broadcast("set_latency", region, seconds)


@dataclass
class WorkerTally:
    """What the master knows of one worker's history."""

    received: int = 0
    produced: int = 0  # as last reported by the worker
    flushed: bool = False


class HistoryReceiver:
    """The master's end of the history stream: each worker's batch goes to the record hub
    as it came (JSON lines plus counts: shards, progress and final reads need no decoding);
    the receiver keeps what it knows of each worker."""

    def __init__(self, hub: RecordHub) -> None:
        self.hub = hub
        self.tallies: dict[str, WorkerTally] = {}
        #: each worker's latest tally of the exceptions its workloads raised (cumulative)
        self.raised: dict[str, dict[str, list[Any]]] = {}

    def register(self, runner: Any) -> None:
        runner.register_message("hothot_history", self.on_history)
        runner.register_message("hothot_flushed", self.on_flushed)

    def on_history(self, environment: Any, msg: Any, **_: Any) -> None:
        data = msg.data
        worker, lines = data["worker"], data["lines"]
        tally = self.tallies.setdefault(worker, WorkerTally())
        received = lines.count(b"\n")
        self.hub.batch.fire(Batch(worker, lines, received, data["regions"], data["keys"]))
        tally.received += received
        tally.produced = max(tally.produced, int(data.get("produced", 0)))
        self._note_raised(worker, data)

    def on_flushed(self, environment: Any, msg: Any, **_: Any) -> None:
        tally = self.tallies.setdefault(msg.data["worker"], WorkerTally())
        tally.produced = max(tally.produced, int(msg.data.get("produced", 0)))
        tally.flushed = True
        self._note_raised(msg.data["worker"], msg.data)

    def _note_raised(self, worker: str, data: dict[str, Any]) -> None:
        if data.get("raised"):
            self.raised[worker] = data["raised"]

    def raised_tallies(self) -> list[dict[str, list[Any]]]:
        """The workers' tallies, in worker order (w1's first exception wins)."""
        return [self.raised[worker] for worker in sorted(self.raised)]

    def workers_file(self, lost: list[str]) -> dict[str, dict[str, Any]]:
        """workers.json: records received and reported per worker, and which were lost."""
        return {
            name: {
                "records_received": t.received,
                "records_reported": t.produced,
                "unsent": max(0, t.produced - t.received),
                "lost": name in lost or not t.flushed,
            }
            for name, t in sorted(self.tallies.items())
        }


@dataclass
class Master:
    """Where and how the master listens, and which workers it waits for."""

    host: str
    port: int
    local_workers: int
    expect: int


class DistributedEngine:
    """The distributed load engine (`loadgen.engine.LoadEngine`): a Locust master whose
    workers run the users; the lag probes run here, on one monotonic clock."""

    def __init__(
        self,
        plan: LoadPlan,
        hub: RecordHub,
        conditions: BroadcastConditions,
        master: Master,
        *,
        campaign_text: str,
        target: Target,
        note: Callable[[str], None],
        hurried: Callable[[], bool],
    ) -> None:
        from loadgen.probes import LagProbes
        from loadgen.recorder import RecordIds
        from loadgen.workloads import build_workloads

        self.plan, self.hub, self.conditions, self.master = plan, hub, conditions, master
        self.campaign_text, self.target = campaign_text, target
        self.note, self.hurried = note, hurried
        self.workloads = build_workloads(plan.workloads, plan.regions)
        self.ids = RecordIds("master")
        self.receiver = HistoryReceiver(hub)
        self.stats = RegionStats(plan.regions)
        self._written = WrittenKeys()
        hub.batch.add_listener(self.stats.on_batch)
        hub.batch.add_listener(self._written.on_batch)
        self.probes = LagProbes(
            plan.regions, plan.client, plan.table, self.ids, hub.sink, conditions,
            interval=plan.observe.probe_interval, sample=0.0,
        )  # fmt: skip
        self.runner: Any = None
        self.processes: list[subprocess.Popen[bytes]] = []
        self._lost: list[str] = []

    def prepare(self, interrupted: Callable[[], bool]) -> None:
        """The master listening, its local workers spawned, every expected worker in."""
        self.runner = self._listen()
        self.conditions.runner = self.runner
        self.receiver.register(self.runner)
        self.runner.register_message("hothot_hello", self._on_hello)
        self._spawn_local_workers()
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while self.runner.worker_count < self.master.expect:
            if interrupted():
                raise EngineError("interrupted while waiting for workers")
            if time.monotonic() > deadline:
                raise EngineError(
                    f"only {self.runner.worker_count} of {self.master.expect} workers connected"
                    f" to {self.master.host}:{self.master.port} within {CONNECT_TIMEOUT_S:g}s"
                )
            time.sleep(0.2)

    def _listen(self) -> Any:
        from locust.env import Environment
        from locust.exception import RPCError

        from loadgen.users import user_classes

        classes = user_classes(self.plan, self.hub.sink, self.conditions, ids=self.ids,
                               workloads=self.workloads)  # fmt: skip
        # Locust hands this to the workers: a stopping user finishes its operation, so no
        # write that was sent goes unrecorded
        env = Environment(user_classes=classes, stop_timeout=self.plan.writers.timeout * 8 + 1.0)
        try:
            return env.create_master_runner(
                master_bind_host=self.master.host, master_bind_port=self.master.port
            )
        except RPCError as exc:  # the port is taken, or the host is not this machine's
            raise EngineError(
                f"--master-bind {self.master.host}:{self.master.port}: {exc}"
            ) from None

    def _on_hello(self, environment: Any, msg: Any, **_: Any) -> None:
        client_id = msg.node_id
        worker = f"w{self.runner.get_worker_index(client_id) + 1}"
        # known from now on: one that sends no record (every call raised) is still awaited
        # at the end, with its tally of raised exceptions
        self.receiver.tallies.setdefault(worker, WorkerTally())
        self.runner.send_message(
            "hothot_plan",
            {"campaign": self.campaign_text, "endpoints": self.target.endpoints, "worker": worker},
            client_id=client_id,
        )
        self.conditions.replay_to(client_id)

    def _spawn_local_workers(self) -> None:
        for _ in range(self.master.local_workers):
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "hothot", "worker", "--master",
                     f"{self.master.host}:{self.master.port}"],
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # Ctrl-C reaches the master, which stops them
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            )  # fmt: skip

    def describe(self) -> str:
        users = self.plan.writers.per_region * len(self.plan.regions)
        return f"{users} users on {self.runner.worker_count} workers"

    def start(self) -> None:
        self.probes.start()
        self.runner.start(
            self.plan.writers.per_region * len(self.plan.regions),
            spawn_rate=self.plan.writers.spawn_rate,
        )

    def live(self) -> dict[str, RegionRate]:
        return self.stats.snapshot()

    def exhausted(self) -> str | None:
        """Every worker is gone, so nothing is writing any more (the rest of the run would
        measure nothing; the verdict is marked partial)."""
        if self.runner.worker_count == 0:
            return "every worker was lost: ending the load now (the verdict will be partial)"
        return None

    def stop(self) -> None:
        self.runner.stop()
        self._lost = self._collect()
        self.probes.stop()

    def _collect(self) -> list[str]:
        """Wait for every worker's last records; a worker that does not hand them over is
        lost (its shard is kept, marked partial, and its unsent count reported)."""
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        while time.monotonic() < deadline and not self.hurried():
            tallies = self.receiver.tallies
            if tallies and all(t.flushed for t in tallies.values()):
                break
            time.sleep(0.1)
        lost = [name for name, t in self.receiver.tallies.items() if not t.flushed]
        for name in lost:
            t = self.receiver.tallies[name]
            self.note(
                f"worker {name} was lost: {t.received} records received, at least "
                f"{max(0, t.produced - t.received)} unsent"
            )
        return lost

    def written_keys(self) -> set[str]:
        return set(self._written)

    def raised(self) -> WorkloadExceptions:
        return WorkloadExceptions.merged(self.receiver.raised_tallies())

    def lost_workers(self) -> list[str]:
        return list(self._lost)

    def save(self, report_dir: Path) -> None:
        data = self.receiver.workers_file(self._lost)
        (report_dir / WORKERS_FILE).write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))

    def close(self) -> None:
        self.probes.stop()
        if self.runner is not None:
            self.runner.quit()
        stop_processes(self.processes)


class DistributedRun(CampaignRun):
    """`hothot run --workers N`: a Locust master plus N local worker processes (and any remote
    `hothot worker --master HOST:PORT` that joins). The phases are CampaignRun's; only the
    engine differs."""

    own_shard = "master"

    def __init__(
        self,
        campaign: Campaign,
        *,
        report_dir: str | Path | None = None,
        local_workers: int = 0,
        expect_workers: int | None = None,
        bind: str = "127.0.0.1:5557",
        console: Console | None = None,
    ) -> None:
        super().__init__(campaign, report_dir=report_dir, console=console)
        self.conditions: BroadcastConditions = BroadcastConditions()
        expect = max(local_workers, expect_workers or 0)
        #: why the master cannot listen where asked (told by `execute`, before any target)
        self.bind_error = ""
        try:
            host, port = parse_hostport(bind)
            if port == 0:
                port = free_port(host)
        except (ValueError, OSError) as exc:
            host, port = bind, 0
            self.bind_error = f"--master-bind: {exc}"
        self.master = Master(host, port, local_workers, expect)

    def preflight(self) -> str:
        return self.bind_error

    def make_engine(self, plan: LoadPlan, target: Target) -> DistributedEngine:
        return DistributedEngine(
            plan, self.hub, self.conditions, self.master,
            campaign_text=(self.report_dir / CAMPAIGN_FILE).read_text(encoding="utf-8"),
            target=target, note=self.note, hurried=lambda: self.interruption.hurried,
        )  # fmt: skip
