"""Writes whose value accumulates: counter (ADD) and cart (list_append).

Under MREC replication ships the resulting item, so concurrent increments or appends in two
regions lose all but one side's — the verdict checks them by value as well as by version.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loadgen.ops import Append, Increment
from loadgen.recording import RecordingClient
from loadgen.workloads.base import Workload
from verdict.history import Op


class Counter(Workload):
    """`ADD n :inc` — a like counter or balance incremented in every region."""

    kind = "counter"
    ops = frozenset({"update"})
    per_run = (1, 1)

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        increment: int = Field(1, ge=1, le=1_000_000_000)

    def run(self, calls: RecordingClient, key: str, rng: random.Random) -> None:
        inc = self.options.increment
        rec = calls.record(self.name, key, Op.UPDATE)
        rec["value"] = inc
        self.write(calls, rec, Increment(key=key, vid=rec["id"], attr="n", by=inc))

    def summarize(self, item: dict[str, Any]) -> Any:
        return int(item.get("n", {}).get("N", "0"))


class Cart(Workload):
    """`list_append` of a unique element id (the record id) — a shopping cart."""

    kind = "cart"
    ops = frozenset({"update"})
    per_run = (1, 1)

    def run(self, calls: RecordingClient, key: str, rng: random.Random) -> None:
        rec = calls.record(self.name, key, Op.UPDATE)
        rec["value"] = rec["id"]
        self.write(calls, rec, Append(key=key, vid=rec["id"], attr="cart", element=rec["id"]))

    def summarize(self, item: dict[str, Any]) -> Any:
        return [e.get("S") for e in item.get("cart", {}).get("L", [])]
