"""The workload protocol: what a workload class (built-in or a user's own) provides.

A workload owns a key space (`<name>#<n>`, after the run's key prefix if any) and performs one
operation per `run` call through a `RecordingClient`, which records it. Operations are
store-neutral (`loadgen.ops`): the target kind decides the calls. Everything random comes from
the `rng` it is handed (the
user's own generator), never from outcomes or timing, so a seeded run replays each user's
sequence of keys and operations.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from loadgen.ops import PAD, Answer, Item, Overwrite, Write
from loadgen.recording import RecordingClient
from units.items import item_size
from verdict.history import Op, Record

if TYPE_CHECKING:  # hints only: loadgen.spec imports this package to check a kind
    from loadgen.spec import WorkloadSpec

W = TypeVar("W", bound=Write)


class KeyChooser:
    """Uniform or zipf choice of an index in `range(n)`; zipf puts the hot keys first."""

    def __init__(self, n: int, distribution: str = "uniform", s: float = 1.1) -> None:
        if n < 1:
            raise ValueError(f"a key space needs at least one key, got {n}")
        self.n = n
        self._cum: list[float] | None = None
        if distribution == "zipf":
            self._cum = list(itertools.accumulate(1.0 / (i + 1) ** s for i in range(n)))
        elif distribution != "uniform":
            raise ValueError(f"unknown key distribution {distribution!r}")

    def choose(self, rng: random.Random) -> int:
        if self._cum is None:
            return rng.randrange(self.n)
        return min(bisect.bisect_left(self._cum, rng.random() * self._cum[-1]), self.n - 1)


class Workload:
    """Base class of every workload. Subclasses set `kind`, may define `Options` (a pydantic
    model of their own options) and implement `run`."""

    kind: ClassVar[str] = ""
    #: False for workloads that only read (their keys are not final-read)
    writes: ClassVar[bool] = True
    #: put before every key (`build_workloads` sets the run's; `key` adds it)
    key_prefix: str = ""
    #: the operations a run may make: a latency budget on another op is refused; a user's
    #: own workload may make any
    ops: ClassVar[frozenset[str]] = frozenset({"put", "update", "delete", "get"})
    #: at most (operations, of which writes) one run makes; None: unknown (a user's own)
    per_run: ClassVar[tuple[int, int] | None] = None

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def __init__(self, spec: WorkloadSpec, regions: Sequence[str]) -> None:
        self.spec = spec
        self.name = spec.name
        self.regions = list(regions)
        self.options = self.Options.model_validate(spec.options)
        self.keys = KeyChooser(spec.keys, spec.key_distribution, spec.zipf_s)

    def bind(self, workloads: dict[str, Workload]) -> None:
        """Called once all workloads of the plan exist (readers pick their targets here)."""

    def key(self, n: int) -> str:
        """Key `n` of this workload's key space: `<run's key prefix><name>#<n>`."""
        return f"{self.key_prefix}{self.name}#{n}"

    def choose_key(self, rng: random.Random, home: str) -> str:
        return self.key(self.keys.choose(rng))

    def run(self, calls: RecordingClient, key: str, rng: random.Random) -> None:
        raise NotImplementedError

    def most_calls(self) -> tuple[int, int] | None:
        """`per_run`, or what this instance's options allow: abort_on_fail bounds what the
        rest of an open-model run can still do with it."""
        return self.per_run

    def summarize(self, item: dict[str, Any]) -> Any:
        """A final read's `value` for this workload's item (counters: the count)."""
        return None

    # -- helpers for subclasses ------------------------------------------------------------
    def pad(self, item: Item) -> Item:
        """The padding attribute that makes `item` about `item_size` bytes ({} if none)."""
        missing = self.spec.item_size - item_size(item) - len(PAD)
        return {PAD: {"S": "x" * missing}} if missing > 0 else {}

    def padded(self, op: W, basis: Item | None = None) -> W:
        """`op` with the padding that brings the item it writes to `item_size`; `basis`: the
        attributes the full item holds besides what `op` sets."""
        return replace(op, padding=self.pad({**(basis or {}), **op.nominal()}))

    def put(self, calls: RecordingClient, key: str, fields: Item) -> Record:
        """Overwrite the whole item with `fields` and a fresh vid."""
        rec = calls.record(self.name, key, Op.PUT)
        calls.perform(rec, self.padded(Overwrite(key=key, vid=rec["id"], fields=fields)))
        return rec

    def write(
        self, calls: RecordingClient, rec: Record, op: Write, basis: Item | None = None
    ) -> Answer | None:
        """Perform `op` (built with `vid=rec["id"]`), padded to `item_size`."""
        return calls.perform(rec, self.padded(op, basis))
