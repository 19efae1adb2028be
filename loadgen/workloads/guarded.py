"""Optimistic locking: read, then write only if the version read is still there."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field

from loadgen.client import CONDITION_FAILED
from loadgen.ops import Read, SetAttributes, VersionIs
from loadgen.recording import RecordingClient
from loadgen.workloads.base import Workload
from verdict.history import Op, Outcome


class Guarded(Workload):
    """ConsistentRead GetItem, then UpdateItem conditioned on the `hh_vid` read. The condition
    sees only the local replica, so two regions can both pass it: the guard does not prevent
    cross-region lost updates. Condition failures are retried (re-read) up to `max_attempts`,
    each try's record carrying its `attempt`."""

    kind = "guarded"
    ops = frozenset({"get", "update"})

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        max_attempts: int = Field(3, ge=1, le=100)

    def most_calls(self) -> tuple[int, int] | None:
        """A read and a write per attempt."""
        return 2 * self.options.max_attempts, self.options.max_attempts

    def run(self, calls: RecordingClient, key: str, rng: random.Random) -> None:
        data = {"S": f"g-{rng.randrange(1_000_000)}"}
        for attempt in range(1, self.options.max_attempts + 1):
            read = calls.record(self.name, key, Op.GET)
            read["consistent"] = True
            if calls.perform(read, Read(key, consistent=True)) is None:
                return
            rec = calls.record(self.name, key, Op.UPDATE)
            rec["attempt"] = attempt
            guard = VersionIs(read.get("vid"))
            self.write(
                calls,
                rec,
                SetAttributes(key=key, vid=rec["id"], fields={"data": data}, guard=guard),
            )
            if rec["outcome"] != Outcome.FAIL or rec.get("error") != CONDITION_FAILED:
                return
