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
from hothot.report_files import write_report_file
from hothot.runner import EXIT_INTERRUPTED, EXIT_INVALID, CampaignRun, load_plan
from hothot.target import stop_processes
from loadgen.conditions import ClientConditions
from loadgen.recorder import ShardWriter
from loadgen.session import RegionStats

WORKERS_FILE = "workers.json"
#: how long the master waits for the expected workers to connect
CONNECT_TIMEOUT_S = 60.0
#: records handled between yields of the master's receiving greenlet
YIELD_EVERY = 256
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
    """The master's end of the history stream: each worker's batch of JSON lines goes to its
    shard as it is, its per-region counts to the progress view and its written keys to the
    final reads. The lines are decoded only to feed live metrics (`observe`), when served."""

    def __init__(
        self, report_dir: Path, regions: list[str], observe: Callable[[Any], None] | None
    ) -> None:
        self.report_dir = report_dir
        self.observe = observe
        self.tallies: dict[str, WorkerTally] = {}
        self.shards: dict[str, ShardWriter] = {}
        self.touched: set[str] = set()
        self.stats = RegionStats(regions)
        #: each worker's latest tally of the exceptions its workloads raised (cumulative)
        self.raised: dict[str, dict[str, list[Any]]] = {}

    def register(self, runner: Any) -> None:
        runner.register_message("hothot_history", self.on_history)
        runner.register_message("hothot_flushed", self.on_flushed)

    def shard(self, worker: str) -> ShardWriter:
        shard = self.shards.get(worker)
        if shard is None:
            shard = self.shards[worker] = ShardWriter(self.report_dir, worker)
        return shard

    def on_history(self, environment: Any, msg: Any, **_: Any) -> None:
        data = msg.data
        worker, lines = data["worker"], data["lines"]
        tally = self.tallies.setdefault(worker, WorkerTally())
        received = lines.count(b"\n")
        self.shard(worker).append_lines(lines, received)
        for region, (ops, errors) in data["regions"].items():
            self.stats.add(region, ops, errors)
        self.touched.update(data["keys"])
        tally.received += received
        tally.produced = max(tally.produced, int(data.get("produced", 0)))
        self._note_raised(worker, data)
        if self.observe is not None:
            observe = self.observe
            for n, line in enumerate(lines.splitlines(), start=1):
                if n % YIELD_EVERY == 0:
                    time.sleep(0)  # gevent: let the chaos timeline and the main loop run
                observe(orjson.loads(line))

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

    def close(self) -> None:
        for shard in self.shards.values():
            shard.close()


class DistributedRun(CampaignRun):
    """`hothot run --workers N`: a Locust master plus N local worker processes (and any remote
    `hothot worker --master HOST:PORT` that joins)."""

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
        self.conditions = BroadcastConditions()
        self.local_workers = local_workers
        self.expect = max(local_workers, expect_workers or 0)
        #: why the master cannot listen where asked (told by `execute`, before any target)
        self.bind_error = ""
        try:
            self.bind_host, self.bind_port = parse_hostport(bind)
            if self.bind_port == 0:
                self.bind_port = free_port(self.bind_host)
        except (ValueError, OSError) as exc:
            self.bind_host, self.bind_port = bind, 0
            self.bind_error = f"--master-bind: {exc}"
        # no live-metrics endpoint: the master never decodes the workers' records
        served = campaign.observe.metrics_port is not None
        self.receiver = HistoryReceiver(
            self.report_dir, list(campaign.target.regions), self.live_observer() if served else None
        )
        self.processes: list[subprocess.Popen[bytes]] = []

    def _spawn_local_workers(self) -> None:
        for _ in range(self.local_workers):
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "hothot", "worker", "--master",
                     f"{self.bind_host}:{self.bind_port}"],
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # Ctrl-C reaches the master, which stops them
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            )  # fmt: skip

    def _write_workers_file(self, lost: list[str]) -> None:
        data = {
            name: {
                "records_received": t.received,
                "records_reported": t.produced,
                "unsent": max(0, t.produced - t.received),
                "lost": name in lost or not t.flushed,
            }
            for name, t in sorted(self.receiver.tallies.items())
        }
        write_report_file(
            self.report_dir / WORKERS_FILE, orjson.dumps(data, option=orjson.OPT_INDENT_2)
        )

    def shard_writers(self) -> list[ShardWriter]:
        return list(self.receiver.shards.values())

    # -- the whole run ---------------------------------------------------------------------
    def execute(self) -> int:
        from locust.env import Environment
        from locust.exception import RPCError

        from loadgen.probes import LagProbes
        from loadgen.recorder import RecordIds
        from loadgen.session import read_final
        from loadgen.users import WorkloadExceptions, user_classes
        from loadgen.workloads import build_workloads

        if self.bind_error:
            self.console.print(f"[red]{self.bind_error}[/red]")
            return EXIT_INVALID
        self.interruption.install()
        runner: Any = None
        probes: LagProbes | None = None
        try:
            target = self.begin()
            if target is None:
                return EXIT_INVALID
            plan = load_plan(self.campaign, target, worker="master")
            master_shard = self.receiver.shard("master")
            observe = self.live_observer()

            def sink(record: dict[str, Any]) -> None:
                master_shard.append(record)
                observe(record)

            workloads = build_workloads(plan.workloads, plan.regions, plan.key_prefix)
            ids = RecordIds("master")
            classes = user_classes(plan, sink, self.conditions, ids=ids, workloads=workloads)
            # Locust hands this to the workers: a stopping user finishes its operation, so no
            # write that was sent goes unrecorded
            env = Environment(user_classes=classes, stop_timeout=plan.writers.timeout * 8 + 1.0)
            try:
                runner = env.create_master_runner(
                    master_bind_host=self.bind_host, master_bind_port=self.bind_port
                )
            except RPCError as exc:  # the port is taken, or the host is not this machine's
                self.console.print(
                    f"[red]--master-bind {self.bind_host}:{self.bind_port}: {exc}[/red]"
                )
                return EXIT_INVALID
            self.conditions.runner = runner
            self.receiver.register(runner)
            resolved = (self.report_dir / "campaign.yaml").read_text(encoding="utf-8")

            def on_hello(environment: Any, msg: Any, **_: Any) -> None:
                client_id = msg.node_id
                worker = f"w{runner.get_worker_index(client_id) + 1}"
                # known from now on: one that sends no record (every call raised) is still
                # awaited at the end, with its tally of raised exceptions
                self.receiver.tallies.setdefault(worker, WorkerTally())
                runner.send_message(
                    "hothot_plan",
                    {"campaign": resolved, "endpoints": target.endpoints, "worker": worker},
                    client_id=client_id,
                )
                self.conditions.replay_to(client_id)

            runner.register_message("hothot_hello", on_hello)
            self.start_metrics()
            self._spawn_local_workers()
            if not self._await_workers(runner):
                return EXIT_INTERRUPTED if self.interruption.asked else EXIT_INVALID
            timeline = self.build_timeline()
            probes = LagProbes(
                plan.regions, plan.store, ids, sink, self.conditions,
                interval=plan.observe.probe_interval, sample=0.0, key_prefix=plan.key_prefix,
            )  # fmt: skip
            users = plan.writers.per_region * len(plan.regions)
            self.console.print(
                f"[bold]{self.campaign.name}[/bold]: {users} users on {runner.worker_count} "
                f"workers against {target.kind} ({', '.join(plan.regions)}) for "
                f"{self.campaign.duration:g}s, {len(self.schedule)} faults → {self.report_dir}"
            )
            t0 = time.time()
            timeline.start(t0)
            probes.start()
            runner.start(users, spawn_rate=plan.writers.spawn_rate)
            self._watch(
                t0,
                self.receiver.stats.snapshot,
                timeline,
                lambda: self.unwritable() or _no_worker_left(runner),
            )
            runner.stop()
            lost = self._collect(runner)
            probes.stop()
            probes = None
            self.metrics.load_ended()
            timeline.stop()
            self.settle()
            if not self.interruption.hurried:
                read_final(plan, self.receiver.touched, sink, workloads=workloads, ids=ids)
            self.receiver.close()
            self.check_written()
            self._write_workers_file(lost)
            self.fetch_truth()
            code = self.judge(partial=self.interruption.asked or bool(lost))
            raised = WorkloadExceptions.merged(self.receiver.raised_tallies())
            code = self.report_raised(raised, code)
            return EXIT_INTERRUPTED if self.interruption.asked else code
        finally:
            if probes is not None:
                probes.stop()
            if runner is not None:
                runner.quit()
            stop_processes(self.processes)
            self.receiver.close()
            self.close()
            self.interruption.uninstall()

    def _await_workers(self, runner: Any) -> bool:
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while runner.worker_count < self.expect:
            if self.interruption.asked:
                return False
            if time.monotonic() > deadline:
                self.console.print(
                    f"[red]only {runner.worker_count} of {self.expect} workers connected to "
                    f"{self.bind_host}:{self.bind_port} within {CONNECT_TIMEOUT_S:g}s[/red]"
                )
                return False
            time.sleep(0.2)
        return True

    def _collect(self, runner: Any) -> list[str]:
        """Wait for every worker's last records; a worker that does not hand them over is
        lost (its shard is kept, marked partial, and its unsent count reported)."""
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        while time.monotonic() < deadline and not self.interruption.hurried:
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


def _no_worker_left(runner: Any) -> str | None:
    """Why to end the load early: every worker is gone, so nothing is writing any more
    (the rest of the run would measure nothing; the verdict is marked partial)."""
    if runner.worker_count == 0:
        return "every worker was lost: ending the load now (the verdict will be partial)"
    return None
