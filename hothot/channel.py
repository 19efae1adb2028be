"""Distributed mode's messages on Locust's master/worker channel, and the master's end of them
(`hothot.worker` is the workers' end; `hothot.distributed` runs the master).

The master (that process) owns everything that must be one: the target, the chaos timeline,
the lag probes (one monotonic clock), the history shards, live metrics, the final reads and the
verdict. Workers only run the load. They get the resolved campaign over Locust's message
channel when they connect, stream their records back in paced batches, and apply client-side
faults the master broadcasts. The verdict therefore needs nothing from the workers' disks.

Messages (all small dicts; history travels as pre-encoded JSON lines):
  worker → master  hothot_hello       {}                 handlers ready: send the plan
  master → worker  hothot_plan        {campaign, endpoints, worker}
  master → worker  hothot_conditions  {method, args}     client-side fault state
  master → worker  hothot_start       {share, of, elapsed_s}  open model: run arrivals i
                   with i mod `of` == `share`; the schedule is `elapsed_s` old at sending
  master → worker  hothot_stop        {until_s}          open model: no arrival from schedule
                   time `until_s` on; finish the operations in flight, hand everything over
                   (then hothot_flushed)
  worker → master  hothot_history     {worker, lines, regions, keys, produced, raised, load}
                   lines: JSON lines; regions: {region: [ops, errors]} of those lines;
                   keys: written keys first seen in them; produced: the worker's total so far;
                   raised: {workload: [count, first exception]} its workloads' own code
                   raised so far; load: its `loadgen.tally.LoadTally` snapshot so far
  worker → master  hothot_flushed     {worker, produced, raised, load}  load stopped, all
                   records sent (sent after the last batch; the master awaits it before the
                   verdict)

The closed model's users are started and stopped by Locust itself (`runner.start/stop`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loadgen.conditions import ClientConditions
from loadgen.hub import Batch, RecordHub


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
        #: each worker's latest LoadTally snapshot (cumulative)
        self.load: dict[str, dict[str, Any]] = {}

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
        self._note_totals(worker, data)

    def on_flushed(self, environment: Any, msg: Any, **_: Any) -> None:
        tally = self.tallies.setdefault(msg.data["worker"], WorkerTally())
        tally.produced = max(tally.produced, int(msg.data.get("produced", 0)))
        tally.flushed = True
        self._note_totals(msg.data["worker"], msg.data)

    def _note_totals(self, worker: str, data: dict[str, Any]) -> None:
        if data.get("raised"):
            self.raised[worker] = data["raised"]
        if data.get("load"):
            self.load[worker] = data["load"]

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
