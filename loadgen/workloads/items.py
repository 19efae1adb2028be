"""Whole-item and attribute-level writes: profile, split_attributes, home_region, client_lww."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from loadgen.ops import VID, NewerThan, SetAttributes
from loadgen.recording import RecordingClient
from loadgen.workloads.base import KeyChooser, Workload
from verdict.history import Op

if TYPE_CHECKING:  # hints only: loadgen.spec imports this package to check a kind
    from loadgen.spec import WorkloadSpec


def _profile_fields(rng: random.Random) -> dict[str, dict[str, str]]:
    n = rng.randrange(1_000_000)
    return {"name": {"S": f"user-{n}"}, "email": {"S": f"u{n}@example.com"}}


class Profile(Workload):
    """PutItem of the whole item: a user profile saved from whichever region served the user."""

    kind = "profile"
    ops = frozenset({"put"})
    per_run = (1, 1)

    def run(self, calls: RecordingClient, key: str, rng: random.Random) -> None:
        self.put(calls, key, _profile_fields(rng))


class SplitAttributes(Workload):
    """UpdateItem of one attribute; region i writes attribute i (address in one region, phone
    in another) with probability `affinity`, else another one — per-item LWW then drops one
    of two concurrent attribute updates."""

    kind = "split_attributes"
    ops = frozenset({"update"})
    per_run = (1, 1)

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        attributes: list[str] = Field(
            default_factory=lambda: ["address", "phone"], min_length=1, max_length=100
        )
        affinity: float = Field(
            0.8, ge=0, le=1, description="chance a region writes its own attribute"
        )

    def run(self, calls: RecordingClient, key: str, rng: random.Random) -> None:
        attributes = self.options.attributes
        own = attributes[self.regions.index(calls.home) % len(attributes)]
        others = [a for a in attributes if a != own] or [own]
        draw, other = rng.random(), rng.choice(others)
        attr = own if draw < self.options.affinity else other
        rec = calls.record(self.name, key, Op.UPDATE)
        rec["attrs"] = {attr: rec["id"]}
        value = {"S": f"{attr}-{rng.randrange(1_000_000):06d}"}
        rec["value"] = {attr: value["S"]}  # what a lost update of it loses, for the evidence
        vid = {"S": rec["id"]}
        basis = {}  # the item holds every attribute once each has been written
        for a in attributes:
            basis.update({a: {"S": f"{a}-000000"}, f"{VID}_{a}": vid})
        op = SetAttributes(key=key, vid=rec["id"], fields={attr: value}, versioned=True)
        self.write(calls, rec, op, basis)


class HomeRegion(Workload):
    """Each key is owned by one region (key n by region n mod R) and written only there — the
    classic way to avoid conflicts, until a failover sends writers elsewhere."""

    kind = "home_region"
    ops = frozenset({"put"})
    per_run = (1, 1)

    def __init__(self, spec: WorkloadSpec, regions: Sequence[str]) -> None:
        super().__init__(spec, regions)
        count = len(self.regions)
        if spec.keys < count:
            raise ValueError(
                f"workload {spec.name!r}: home_region needs at least one key per region "
                f"({count} regions, keys: {spec.keys})"
            )
        self._owned = {
            region: KeyChooser(
                max(1, len(range(i, spec.keys, count))), spec.key_distribution, spec.zipf_s
            )
            for i, region in enumerate(self.regions)
        }

    def choose_key(self, rng: random.Random, home: str) -> str:
        index = self.regions.index(home)
        return self.key(self._owned[home].choose(rng) * len(self.regions) + index)

    def run(self, calls: RecordingClient, key: str, rng: random.Random) -> None:
        self.put(calls, key, _profile_fields(rng))


class ClientLww(Workload):
    """The application's own last-writer-wins: apply only if the writer's timestamp `hh_ts` is
    newer than the stored one. A skewed writer clock makes stale writes win; a rejected
    write records the vid of the write that beat it (`blocked_by`), which the verdict
    checks against the harness clock."""

    kind = "client_lww"
    ops = frozenset({"update"})
    per_run = (1, 1)

    def run(self, calls: RecordingClient, key: str, rng: random.Random) -> None:
        rec = calls.record(self.name, key, Op.UPDATE)
        data = {"S": f"v-{rng.randrange(1_000_000)}"}
        ts = calls.now()
        rec["client_ts"] = ts
        fields = {"data": data, "hh_ts": {"N": repr(ts)}}
        guard = NewerThan("hh_ts", ts)
        self.write(calls, rec, SetAttributes(key=key, vid=rec["id"], fields=fields, guard=guard))
