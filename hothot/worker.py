"""The worker's side of distributed mode: `hothot worker --master HOST[:PORT]`.

A worker knows nothing until the master sends the resolved campaign; then it builds the same
user classes and runs the users Locust's master assigns it (closed model), or runs its share
of the arrival schedule between `hothot_start` and `hothot_stop` (open model), and streams
every record back in paced batches (an unpaced burst of messages starves the master's event
loop). Messages: `hothot.channel`.
"""

from __future__ import annotations

import collections
import itertools
import math
import threading
import time
from typing import TYPE_CHECKING, Any

import gevent
import yaml
from locust.exception import RPCError, RPCSendError

from hothot.campaign import load_plan, parse_campaign
from hothot.target import Target
from loadgen.conditions import ClientConditions
from loadgen.plan import LoadPlan
from loadgen.recording import counts_as_error
from loadgen.tally import LoadTally
from verdict.history import Op, encode

if TYPE_CHECKING:
    from loadgen.openload import OpenLoad
    from loadgen.users import WorkloadExceptions

#: records per message, and the pause between messages while a backlog drains
MAX_BATCH = 2000
PACE_S = 0.02
SEND_EVERY_S = 0.1
#: wait after a failed send (the master is busy: its receive queue is full)
BACKOFF_S = 0.5
WRITES = frozenset({Op.PUT, Op.UPDATE, Op.DELETE})


class HistoryStream:
    """A sink that buffers encoded records and ships them to the master.

    Each batch carries, besides the JSON lines, what the master needs without decoding
    them: operations and errors per region (the progress view), the written keys this
    worker had not reported before (the final reads) and the exceptions its workloads
    raised so far (so a worker lost later still has them reported)."""

    def __init__(
        self,
        runner: Any,
        worker: str,
        raised: WorkloadExceptions | None = None,
        tally: LoadTally | None = None,
    ) -> None:
        self.runner = runner
        self.worker = worker
        self.raised = raised
        self.tally = tally
        self.produced = 0
        self._sent = 0  # records handed to the master so far
        self._lines: list[bytes] = []
        self._tags: list[tuple[str, bool]] = []  # (region, failed) per queued record
        self._known: set[str] = set()  # written keys already queued for the master
        self._fresh: collections.deque[tuple[int, str]] = collections.deque()  # (record, key)

    def __call__(self, record: dict[str, Any]) -> None:
        self._lines.append(encode(record))
        self._tags.append((record.get("region", ""), counts_as_error(record)))
        if record.get("op") in WRITES:
            key = record["key"]
            if key not in self._known:
                self._known.add(key)
                self._fresh.append((self.produced, key))
        self.produced += 1

    def send_batch(self) -> int:
        """Send up to MAX_BATCH records; on a send failure (the master's queue is full) they
        stay queued and -1 is returned, so nothing recorded is dropped."""
        n = min(len(self._lines), MAX_BATCH)
        if not n:
            return 0
        end = self._sent + n
        keys = [key for at, key in itertools.takewhile(lambda f: f[0] < end, self._fresh)]
        regions: dict[str, list[int]] = {}
        for (region, failed), count in collections.Counter(self._tags[:n]).items():
            totals = regions.setdefault(region, [0, 0])
            totals[0] += count
            totals[1] += count if failed else 0
        try:
            self.runner.send_message(
                "hothot_history",
                {"worker": self.worker, "lines": b"".join(self._lines[:n]),
                 "regions": regions, "keys": keys, "produced": self.produced,
                 **self.totals()},
            )  # fmt: skip
        except (RPCError, RPCSendError):
            return -1
        del self._lines[:n], self._tags[:n]
        for _ in keys:
            self._fresh.popleft()
        self._sent = end
        return n

    def totals(self) -> dict[str, Any]:
        """What the worker did so far, sent with every batch (so a worker lost later still
        has it reported): its workloads' exceptions and its load tally."""
        return {
            "raised": self.raised.tally() if self.raised is not None else {},
            "load": self.tally.snapshot() if self.tally is not None else {},
        }

    def drain(self, patience_s: float = 30.0) -> None:
        deadline = time.monotonic() + patience_s
        while self._lines and time.monotonic() < deadline:
            if self.send_batch() < 0:
                time.sleep(BACKOFF_S)
            elif self._lines:
                time.sleep(PACE_S)

    def pump_forever(self) -> None:
        while True:
            self.drain()
            time.sleep(SEND_EVERY_S)


class WorkerProcess:
    def __init__(self, master_host: str, master_port: int, patience_s: float = 60.0) -> None:
        """Connects, waiting up to `patience_s` for the master's answer (ConnectionError when
        none comes: Locust's own wait, 60 tries of 5 s, is silent and would end in a
        traceback)."""
        import locust.runners
        from locust.env import Environment

        locust.runners.CONNECT_TIMEOUT = min(5.0, patience_s)  # seconds per try
        locust.runners.CONNECT_RETRY_COUNT = (
            math.ceil(patience_s / locust.runners.CONNECT_TIMEOUT) - 1
        )
        self.env = Environment(user_classes=[])
        self.runner = self.env.create_worker_runner(master_host, master_port)
        self.conditions = ClientConditions()
        self.stream: HistoryStream | None = None
        self.plan: LoadPlan | None = None
        self.tally: LoadTally | None = None
        self.open: OpenLoad | None = None
        for kind, handler in (
            ("hothot_plan", self._on_plan),
            ("hothot_conditions", self._on_conditions),
            ("hothot_start", self._on_start),
            ("hothot_stop", self._on_stop),
        ):
            self.runner.register_message(kind, handler)
        self.env.events.test_stop.add_listener(self._on_test_stop)
        # only now can the plan be handled: ask for it (a plan sent on connect would arrive
        # while the runner is still being built, before these handlers exist)
        self.runner.send_message("hothot_hello", {})

    def _on_plan(self, environment: Any, msg: Any, **_: Any) -> None:
        from loadgen.openload import OpenLoad
        from loadgen.recorder import RecordIds
        from loadgen.users import WorkloadExceptions, user_classes
        from loadgen.workloads import build_workloads, mix_of

        data = msg.data
        campaign = parse_campaign(yaml.safe_load(data["campaign"]), source="(from master)")
        target = Target(campaign.target.kind, dict(data["endpoints"]))
        self.plan = plan = load_plan(campaign, target, worker=data["worker"])
        workloads = build_workloads(plan.workloads, plan.regions, plan.key_prefix)
        ids, raised = RecordIds(plan.worker), WorkloadExceptions()
        self.tally = tally = LoadTally(plan.regions, workloads)
        self.stream = HistoryStream(self.runner, plan.worker, raised, tally)
        profile = plan.rate_profile()
        if profile is not None:  # clients built now, before the first arrival is due
            self.open = OpenLoad(
                plan, profile, self.stream, self.conditions, ids=ids, mix=mix_of(workloads),
                raised=raised, tally=tally,
            )  # fmt: skip
        else:
            halted = threading.Event()  # set as the stop begins, before Locust's kills
            self.env.events.test_stopping.add_listener(lambda **_: halted.set())
            self.env.user_classes = user_classes(
                plan, self.stream, self.conditions, ids=ids, workloads=workloads,
                raised=raised, tally=tally, halted=halted,
            )  # fmt: skip
            self.env.events.test_start.add_listener(lambda **_: tally.started())
        gevent.spawn(self.stream.pump_forever)

    def _on_start(self, environment: Any, msg: Any, **_: Any) -> None:
        """Open model: this worker's share of the arrivals, from now on."""
        if self.open is not None:
            t0 = time.time() - float(msg.data.get("elapsed_s", 0.0))
            self.open.start(t0, share=int(msg.data["share"]), of=int(msg.data["of"]))

    def _on_stop(self, environment: Any, msg: Any, **_: Any) -> None:
        """Open model: stop arriving, let what is in flight finish, hand everything over
        (in a greenlet of its own: the channel keeps being read meanwhile)."""
        if self.open is None or self.plan is None:
            return
        load, patience = self.open, self.plan.writers.stop_timeout
        until = msg.data.get("until_s")

        def stop() -> None:
            load.stop(patience, None if until is None else float(until))
            self._hand_over()

        gevent.spawn(stop)

    def _on_conditions(self, environment: Any, msg: Any, **_: Any) -> None:
        getattr(self.conditions, msg.data["method"])(*msg.data["args"])

    def _on_test_stop(self, **_: Any) -> None:
        """Closed model: users have stopped (each finished its operation): hand over every
        last record. This runs inside the worker's stop; a message from the master would
        only be read after Locust's post-stop pause, too late. That pause (the users' stop
        timeout again) is dropped: the users are already stopped, and a worker deaf to the
        master for it would outlive the run it served (the master's quit read only after
        ~40 s)."""
        self.env.stop_timeout = 0.0  # the next run's spawn message sets it again
        if self.tally is not None:
            self.tally.stopped()
        self._hand_over()

    def _hand_over(self) -> None:
        """Every record sent, then `hothot_flushed` (retried while the master is busy)."""
        if self.stream is None:
            return
        self.stream.drain()
        for _ in range(20):
            try:
                self.runner.send_message(
                    "hothot_flushed",
                    {"worker": self.stream.worker, "produced": self.stream.produced,
                     **self.stream.totals()},
                )  # fmt: skip
                return
            except (RPCError, RPCSendError):
                time.sleep(BACKOFF_S)

    def wait(self) -> None:
        self.runner.greenlet.join()
