"""The record hub: every history record a run makes passes here once, and the parts that
want it subscribe (Locust's `events` are the model: `hub.record.add_listener(fn)`).

Two events: `record` fires with one decoded record (a user's operation in this process, a
lag probe, a final read), `batch` with a distributed worker's records still encoded as JSON
lines plus the counts the master needs without decoding them. The shard writer, the
progress counts, the written-keys set, the lag probes' sampler and the live metrics each
subscribe to what they use; the load itself only fires. Unlike Locust's events, a listener's
exception is not swallowed: a shard that cannot be written must not pass unnoticed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson

from verdict.history import Op, Record

T = TypeVar("T")
#: the operations that change an item (their keys are read back after the run)
WRITES = frozenset({Op.PUT, Op.UPDATE, Op.DELETE})


class Event(Generic[T]):
    """Listeners called in the order they were added, with the one argument fired."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []

    def add_listener(self, listener: Callable[[T], None]) -> Callable[[T], None]:
        self._listeners.append(listener)
        return listener

    def fire(self, item: T) -> None:
        for listener in self._listeners:
            listener(item)


@dataclass(frozen=True)
class Batch:
    """A distributed worker's records as it sent them (docs/architecture.md, hothot_history)."""

    worker: str
    lines: bytes  # JSON lines, each ending in a newline
    count: int
    regions: dict[str, list[int]]  # region -> [operations, errors] among these lines
    keys: list[str] = field(default_factory=list)  # written keys first seen in these lines


class RecordHub:
    """`record` and `batch`, the two ways records arrive (see the module docstring)."""

    def __init__(self) -> None:
        self.record: Event[Record | dict[str, Any]] = Event()
        self.batch: Event[Batch] = Event()
        self._each: Event[dict[str, Any]] | None = None  # batches' records, decoded once

    def sink(self, record: Record | dict[str, Any]) -> None:
        """The hub as the plain `sink(record)` callable users and probes are given."""
        self.record.fire(record)

    def every_record(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """`listener` gets every record, this process's and each distributed worker's: the
        workers' lines are decoded once however many listeners want them (decoding is most
        of what the master spends on a record)."""
        self.record.add_listener(listener)
        if self._each is None:
            self._each = Event()
            self.batch.add_listener(decoded(self._each.fire))
        self._each.add_listener(listener)


class WrittenKeys(set[str]):
    """Keys any write was attempted on (failed and unknown ones included): the final reads
    read each of them in every region."""

    def on_record(self, rec: Record | dict[str, Any]) -> None:
        if rec.get("op") in WRITES:
            self.add(rec["key"])

    def on_batch(self, batch: Batch) -> None:
        self.update(batch.keys)


#: records decoded between yields to the other greenlets (the master's receiving loop)
YIELD_EVERY = 256


def decoded(listener: Callable[[dict[str, Any]], None]) -> Callable[[Batch], None]:
    """A `batch` listener that decodes each line and hands the record to `listener` (the
    live metrics): the master decodes workers' records only for what needs them."""

    def on_batch(batch: Batch) -> None:
        for n, line in enumerate(batch.lines.splitlines(), start=1):
            if n % YIELD_EVERY == 0:
                time.sleep(0)  # gevent: let the chaos timeline and the main loop run
            listener(orjson.loads(line))

    return on_batch
