"""Distributed mode (issue 8): `hothot run --workers N` / `--expect-workers N` runs this process
as a Locust master whose workers run the load (messages: `hothot.channel`)."""

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
from hothot.channel import BroadcastConditions, HistoryReceiver, WorkerTally
from hothot.report_files import write_report_file
from hothot.runner import CampaignRun
from hothot.target import Target, stop_processes
from loadgen.arrivals import ArrivalCounter, schedule
from loadgen.engine import EngineError, RegionRate, RegionStats
from loadgen.hub import RecordHub, WrittenKeys
from loadgen.plan import LoadPlan
from loadgen.tally import describe_load, merge
from loadgen.users import WorkloadExceptions
from loadgen.workloads import mix_of
from verdict.report_dir import CAMPAIGN_FILE, WORKERS_FILE

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
        self.workloads = build_workloads(plan.workloads, plan.regions, plan.key_prefix)
        self.ids = RecordIds("master")
        self.receiver = HistoryReceiver(hub)
        self.stats = RegionStats(plan.regions)
        self._written = WrittenKeys()
        hub.batch.add_listener(self.stats.on_batch)
        hub.batch.add_listener(self._written.on_batch)
        self.probes = LagProbes(
            plan.regions, plan.store, self.ids, hub.sink, conditions,
            interval=plan.observe.probe_interval, sample=0.0, key_prefix=plan.key_prefix,
        )  # fmt: skip
        self.runner: Any = None
        self.processes: list[subprocess.Popen[bytes]] = []
        self._lost: list[str] = []
        #: client id -> worker name (w1, w2, ...), as each said hello
        self.names: dict[str, str] = {}
        #: open model: the schedule's arrivals that came due, per region
        self.requested: dict[str, ArrivalCounter] = {}
        self.t0 = 0.0

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
        env = Environment(user_classes=classes, stop_timeout=self.plan.writers.stop_timeout)
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
        worker = self.names[client_id] = f"w{self.runner.get_worker_index(client_id) + 1}"
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
        load = describe_load(self.plan.writers, len(self.plan.regions))
        return f"{load} on {self.runner.worker_count} workers"

    def start(self) -> None:
        self.probes.start()
        profile = self.plan.rate_profile()
        if profile is None:
            users = self.plan.writers.users * len(self.plan.regions)
            self.runner.start(users, spawn_rate=self.plan.writers.spawn_rate)
            return
        self.t0 = time.time()
        weights = [w.spec.weight for w in mix_of(self.workloads)]
        self.requested = {
            region: ArrivalCounter(schedule(profile, self.plan.seed, region, weights), len(weights))
            for region in self.plan.regions
        }
        ready = {node.id for node in self.runner.clients.ready}
        shares = sorted((int(n[1:]), c) for c, n in self.names.items() if c in ready)
        for share, (_, client_id) in enumerate(shares):
            self.runner.send_message(
                "hothot_start",
                {"share": share, "of": len(shares), "elapsed_s": time.time() - self.t0},
                client_id=client_id,
            )  # fmt: skip

    def live(self) -> dict[str, RegionRate]:
        for counter in self.requested.values():
            counter.advance(time.time() - self.t0)
        return self.stats.snapshot()

    def exhausted(self) -> str | None:
        """Every worker is gone, so nothing is writing any more (the rest of the run would
        measure nothing; the verdict is marked partial)."""
        if self.runner.worker_count == 0:
            return "every worker was lost: ending the load now (the verdict will be partial)"
        return None

    def stop(self) -> None:
        if self.requested:
            until = time.time() - self.t0
            for counter in self.requested.values():  # due until now: requested
                counter.advance(until)
            for client_id in self.names:
                self.runner.send_message("hothot_stop", {"until_s": until}, client_id=client_id)
        else:
            self.runner.stop()
        self._lost = self._collect()
        self.probes.stop()

    def load_figures(self) -> dict[str, Any]:
        """The workers' tallies merged; the open model's `requested` is the master's own
        count of the schedule, so a lost worker's share shows as not delivered."""
        figures = merge(self.receiver.load)
        mix = [w.name for w in mix_of(self.workloads)]
        for region, counter in self.requested.items():
            into = figures["regions"].setdefault(
                region, {"workloads": {}, "peak_in_flight": 0, "late": 0, "max_late_s": 0.0}
            )
            for name, due in zip(mix, counter.due, strict=True):
                into["workloads"].setdefault(name, [0, 0, 0])[0] = due
        return figures

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
        write_report_file(report_dir / WORKERS_FILE, orjson.dumps(data, option=orjson.OPT_INDENT_2))

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
        accept_partial: bool = False,
    ) -> None:
        super().__init__(
            campaign, report_dir=report_dir, console=console, accept_partial=accept_partial
        )
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
