"""Black-box replication lag (DESIGN §5): heartbeats and sampled writes.

Each region's heartbeat item `hh#hb#<region>` is rewritten every `interval` with a sequence
number; every other region polls it. A sampled fraction of real writes is polled in the other
regions until their vid shows. The writer and the observer are this one process and both
timestamps come from `time.monotonic()`, so clock skew (injected or between machines) cannot
distort the figure — the flaw of heartbeat tables that compare two machines' wall clocks.
A sampled write overwritten before it reaches a region is never seen there and yields no
observation for that region. Visibility is placed midway between the last poll that did not
see the write (or its ack, if later) and the first that did: unbiased for a poll period `poll`,
each figure off by at most half of it, so polls can stay sparse (they cost client CPU).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from loadgen.client import NoAnswer, StoreError
from loadgen.conditions import ClientConditions, ClientFault
from loadgen.ops import VID, Overwrite, Read, Store
from loadgen.recorder import RecordIds
from loadgen.recording import Sink, vid_attrs
from verdict.history import Op, Outcome, Record

HEARTBEAT_PREFIX = "hh#hb#"
#: heartbeats recorded at most per observation (10 min of a 100 ms interval)
MAX_CATCH_UP = 6_000
_CALL_ERRORS = (ClientFault, StoreError, NoAnswer)


def _visible(previous: float | None, ack: tuple[float, float], now: float) -> float:
    """Best monotonic estimate of when a write became visible: midway between the last
    successful poll that did not see it (or its ack, if later) and the first that did."""
    if previous is None:
        return now
    return (max(previous, ack[1]) + now) / 2


def heartbeat_key(region: str, key_prefix: str = "") -> str:
    return f"{key_prefix}{HEARTBEAT_PREFIX}{region}"


class LagProbes:
    """Heartbeat writers, their observers and sampled-write pollers, as daemon threads (green
    threads under Locust)."""

    def __init__(
        self,
        regions: Sequence[str],
        client_for: Callable[[str], Store],
        ids: RecordIds,
        sink: Sink,
        conditions: ClientConditions,
        *,
        interval: float = 0.1,
        sample: float = 0.0,
        give_up_s: float = 30.0,
        max_pending: int = 32,
        key_prefix: str = "",
    ) -> None:
        self.regions = list(regions)
        self.key_prefix = key_prefix
        self._client_for = client_for
        self.ids = ids
        self.sink = sink
        self.conditions = conditions
        self.interval = interval
        self.poll = max(0.02, min(0.05, interval / 2))
        self.sample = sample
        self.give_up_s = give_up_s
        self._pending = threading.BoundedSemaphore(max_pending)
        self._acks: dict[str, dict[int, tuple[float, float]]] = {r: {} for r in self.regions}
        self._stop = threading.Event()
        #: the running threads: heartbeats for the whole run, sample pollers until they end
        #: (a finished poller leaves the set; kept, they were ~7 threads a second of a soak)
        self._threads: set[threading.Thread] = set()
        self._threads_lock = threading.Lock()
        self._rng = random.Random()
        self._clients: dict[str, Store] = {}
        self._clients_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if len(self.regions) < 2:
            return
        for source in self.regions:
            self._spawn(self._heartbeat, source)
            for target in self.regions:
                if target != source:
                    self._spawn(self._observe_heartbeat, source, target)

    def stop(self) -> None:
        self._stop.set()
        with self._threads_lock:
            running = list(self._threads)
        for thread in running:
            thread.join(timeout=2.0)

    def running(self) -> int:
        """Threads still running: a soak's hours must not keep one per sampled write."""
        with self._threads_lock:
            return len(self._threads)

    def _shared_client(self, region: str) -> Store:
        """Sample pollers share one client per region (clients are costly to build)."""
        with self._clients_lock:
            if region not in self._clients:
                self._clients[region] = self._client_for(region)
            return self._clients[region]

    def _spawn(self, fn: Callable[..., None], *args: Any) -> None:
        def run() -> None:
            try:
                fn(*args)
            finally:
                with self._threads_lock:
                    self._threads.discard(thread)

        thread = threading.Thread(target=run, daemon=True, name=f"probe-{fn.__name__}")
        with self._threads_lock:
            self._threads.add(thread)
        thread.start()

    # -- calls -------------------------------------------------------------------------------
    def _get(self, client: Store, region: str, key: str) -> dict[str, Any] | None:
        """The item, {} when absent, None when the call failed."""
        try:
            self.conditions.check(region)
            answer = client.perform(Read(key), measured=False)
        except _CALL_ERRORS:
            return None
        return answer.item or {}

    def _record(
        self, source: str, target: str, key: str, kind: str, ack: tuple[float, float], seen: float
    ) -> None:
        ack_wall, ack_mono = ack
        lag = max(0.0, seen - ack_mono)
        self.sink(
            Record(
                id=self.ids.next(),
                worker=self.ids.worker,
                region=source,
                target=target,
                workload="",
                key=key,
                op=Op.PROBE.value,
                outcome=Outcome.OK.value,
                t_invoke=ack_wall,
                t_complete=ack_wall + lag,
                lag=lag,
                probe=kind,
            )
        )

    # -- heartbeats ----------------------------------------------------------------------------
    def _heartbeat(self, region: str) -> None:
        client = self._client_for(region)
        acks = self._acks[region]
        key, seq = heartbeat_key(region, self.key_prefix), 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            seq += 1
            beat = Overwrite(key=key, vid=None, fields={"seq": {"N": str(seq)}})
            try:
                self.conditions.check(region)
                client.perform(beat, measured=False)
            except _CALL_ERRORS:
                pass
            else:
                acks[seq] = (time.time(), time.monotonic())
                acks.pop(seq - 10_000, None)
            next_at = max(next_at + self.interval, time.monotonic())
            self._stop.wait(next_at - time.monotonic())

    def _observe_heartbeat(self, source: str, target: str) -> None:
        client = self._client_for(target)
        acks = self._acks[source]
        key, last, previous = heartbeat_key(source, self.key_prefix), 0, None
        while not self._stop.wait(self.poll):
            started = time.monotonic()
            item = self._get(client, target, key)
            if item is None:
                continue
            now = (started + time.monotonic()) / 2
            seq = int(item["seq"]["N"]) if "seq" in item else 0
            if seq > last and seq in acks:
                # per-item order holds on a link, so every heartbeat between the one seen last
                # time and this one also arrived since the previous poll: after a partition
                # heals, the held heartbeats' lags (up to the window's length) are observed too
                first = last + 1 if last else seq
                for k in range(max(first, seq - MAX_CATCH_UP + 1), seq + 1):
                    if k in acks:
                        ack = acks[k]
                        self._record(
                            source, target, key, "heartbeat", ack, _visible(previous, ack, now)
                        )
                last = seq
            previous = now

    # -- sampled writes --------------------------------------------------------------------------
    def offer(self, rec: Record) -> None:
        """Called with every completed record; polls a sampled fraction of ok writes."""
        if (
            self.sample <= 0
            or rec.get("outcome") != Outcome.OK
            or rec.get("op") not in (Op.PUT, Op.UPDATE)
            or self._rng.random() >= self.sample
            or not self._pending.acquire(blocking=False)
        ):
            return
        ack = (time.time(), time.monotonic())
        self._spawn(self._poll_sample, dict(rec), ack)

    def _poll_sample(self, rec: Record, ack: tuple[float, float]) -> None:
        try:
            source, vid, key = rec["region"], rec["id"], rec["key"]
            waiting = {r: self._shared_client(r) for r in self.regions if r != source}
            # per target, when the last poll that did not see the write was answered
            missed: dict[str, float | None] = dict.fromkeys(waiting)
            deadline = ack[1] + self.give_up_s
            while waiting and time.monotonic() < deadline and not self._stop.wait(self.poll):
                for target, client in list(waiting.items()):
                    started = time.monotonic()
                    item = self._get(client, target, key)
                    now = (started + time.monotonic()) / 2
                    if item and (
                        item.get(VID, {}).get("S") == vid or vid in vid_attrs(item).values()
                    ):
                        seen = _visible(missed[target], ack, now)
                        self._record(source, target, key, "sample", ack, seen)
                        del waiting[target]
                    else:
                        missed[target] = now
        finally:
            self._pending.release()
