"""The workload protocol: what a workload class (built-in or a user's own) provides.

A workload owns a key space (`<name>#<n>`, after the run's key prefix if any) and performs one operation per `run` call through a
`RecordingClient`, which records it. Everything random comes from the `rng` it is handed (the
user's own generator), never from outcomes or timing, so a seeded run replays each user's
sequence of keys and operations.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from loadgen.recording import VID, RecordingClient
from loadgen.spec import WorkloadSpec
from units.items import item_size
from verdict.history import Op, Record

PAD = "hh_pad"


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

    def summarize(self, item: dict[str, Any]) -> Any:
        """A final read's `value` for this workload's item (counters: the count)."""
        return None

    # -- helpers for subclasses ------------------------------------------------------------
    def pad(self, item: dict[str, Any]) -> dict[str, Any]:
        """The padding attribute that makes `item` about `item_size` bytes ({} if none)."""
        missing = self.spec.item_size - item_size(item) - len(PAD)
        return {PAD: {"S": "x" * missing}} if missing > 0 else {}

    def put(self, calls: RecordingClient, key: str, fields: dict[str, Any]) -> Record:
        """PutItem of the whole item with a fresh vid."""
        rec = calls.record(self.name, key, Op.PUT)
        item = {"pk": {"S": key}, VID: {"S": rec["id"]}, **fields}
        item.update(self.pad(item))
        request = {"Item": item, "ReturnValues": "ALL_OLD"}
        calls.send(rec, "PutItem", request, after=lambda old: item)
        return rec

    def update(
        self,
        calls: RecordingClient,
        rec: Record,
        sets: dict[str, Any],
        *,
        set_raw: str = "",
        extra: str = "",
        values: dict[str, Any] | None = None,
        condition: str | None = None,
        winner_on_failure: bool = False,
        after: Any = None,
        pad_basis: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """UpdateItem `SET hh_vid = :vid[, <set_raw>], <sets> [<extra>]`; `sets` maps
        attribute -> value (names are aliased, so any name works); `after(old)` gives the
        attributes the store computes (ADD, list_append) for `item_bytes`; `pad_basis`: the
        attributes the full item holds besides `sets`, for sizing the padding;
        `winner_on_failure`: a failed condition returns the current item
        (ReturnValuesOnConditionCheckFailure), so the rejection records `blocked_by`."""
        names: dict[str, str] = {}
        vals: dict[str, Any] = {":hh_vid": {"S": rec["id"]}, **(values or {})}
        clauses = [f"{VID} = :hh_vid", *([set_raw] if set_raw else [])]
        for i, (attr, value) in enumerate(sets.items()):
            names[f"#s{i}"] = attr
            vals[f":s{i}"] = value
            clauses.append(f"#s{i} = :s{i}")
        nominal = {"pk": {"S": rec["key"]}, VID: {"S": rec["id"]}, **sets}
        padding = self.pad({**(pad_basis or {}), **nominal})
        if padding:
            clauses.append(f"{PAD} = if_not_exists({PAD}, :hh_pad)")
            vals[":hh_pad"] = padding[PAD]
        expression = "SET " + ", ".join(clauses) + (f" {extra}" if extra else "")
        request: dict[str, Any] = {
            "Key": {"pk": {"S": rec["key"]}},
            "UpdateExpression": expression,
            "ExpressionAttributeValues": vals,
            "ReturnValues": "ALL_OLD",
        }
        if names:
            request["ExpressionAttributeNames"] = names
        if condition:
            request["ConditionExpression"] = condition
        if winner_on_failure:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"

        def image(old: dict[str, Any]) -> dict[str, Any]:
            new = {**old, **nominal, **(after(old) if after else {})}
            return {**padding, **new} if PAD not in old else new

        return calls.send(rec, "UpdateItem", request, after=image)
