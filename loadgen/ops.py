"""Store-neutral operations: what a workload does, not how a store spells it.

Jepsen's client protocol is the model: a workload states its operation (overwrite the item,
set attributes, increment, append, read; optionally only if the version read is still there,
or only if the item's timestamp is older) and each target kind supplies the calls that perform
it (`loadgen.dynamo.DynamoStore`: DynamoDB requests; `loadgen.pgstore.PgStore`: SQL on a
pglogical mesh). Values keep DynamoDB's typed encoding (`{"S": "x"}`, `{"N": "3"}`, ...): it
is the one value format hothot records and summarizes, whatever the store.

Every write carries its version id `vid` (the history record's id), stored as `hh_vid`; with
`versioned` attribute sets, each attribute set also gets `hh_vid_<attr>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

#: an item: attribute -> DynamoDB-typed value
Item = dict[str, Any]
#: attribute carrying a write's version id; `hh_vid_<attr>` for attribute-level writes
VID = "hh_vid"
#: the padding attribute that brings items to the workload's `item_size`
PAD = "hh_pad"


@dataclass(frozen=True)
class VersionIs:
    """Write only if the item's `hh_vid` is still `vid` (None: only if the item is absent):
    optimistic locking on the version read. The check sees the local replica only."""

    vid: str | None


@dataclass(frozen=True)
class NewerThan:
    """Write only if the item's `attr` is absent or older than `value` (the application's own
    last-writer-wins on its clock); a rejection names the winning item's vid."""

    attr: str
    value: float


Guard = VersionIs | NewerThan


@dataclass(frozen=True, kw_only=True)
class Write:
    """A write of `key` installing version `vid` (None: an uninstrumented write, e.g. a lag
    heartbeat). `padding` is the padding attribute ({} or {PAD: ...}), kept once written."""

    key: str
    vid: str | None
    padding: Item = field(default_factory=dict)
    guard: Guard | None = None

    def nominal(self) -> Item:
        """The attributes this write sets whatever the item held: key, version, fields."""
        out: Item = {"pk": {"S": self.key}}
        if self.vid is not None:
            out[VID] = {"S": self.vid}
        return out

    def image(self, old: Item) -> Item:
        """The item after this write, given the item it replaced ({} when absent)."""
        new = {**old, **self.nominal(), **self.computed(old)}
        return {**self.padding, **new} if PAD not in old else new

    def computed(self, old: Item) -> Item:
        """Attributes whose new value depends on the old item."""
        return {}


@dataclass(frozen=True, kw_only=True)
class Overwrite(Write):
    """Replace the whole item with `fields` (PutItem)."""

    fields: Item

    def nominal(self) -> Item:
        return {**super().nominal(), **self.fields}

    def image(self, old: Item) -> Item:
        return {**self.nominal(), **self.padding}


@dataclass(frozen=True, kw_only=True)
class SetAttributes(Write):
    """Set `fields` and leave the item's other attributes alone; `versioned`: each field
    also records this write's vid in `hh_vid_<attr>` (judged per attribute)."""

    fields: Item
    versioned: bool = False

    def sets(self) -> Item:
        """The attributes set, version attributes included, in the order they are sent."""
        if not self.versioned:
            return dict(self.fields)
        out: Item = {}
        for attr, value in self.fields.items():
            out[attr] = value
            out[f"{VID}_{attr}"] = {"S": self.vid}
        return out

    def nominal(self) -> Item:
        return {**super().nominal(), **self.sets()}


@dataclass(frozen=True, kw_only=True)
class Increment(Write):
    """Add `by` to the number `attr` (absent: 0)."""

    attr: str
    by: int

    def computed(self, old: Item) -> Item:
        return {self.attr: {"N": str(int(old.get(self.attr, {}).get("N", "0")) + self.by)}}


@dataclass(frozen=True, kw_only=True)
class Append(Write):
    """Append the string `element` to the list `attr` (absent: empty)."""

    attr: str
    element: str

    def computed(self, old: Item) -> Item:
        return {self.attr: {"L": [*old.get(self.attr, {}).get("L", []), {"S": self.element}]}}


@dataclass(frozen=True)
class Read:
    """Read the item; `consistent`: a strongly consistent read of the local replica."""

    key: str
    consistent: bool = False


Op = Write | Read


@dataclass
class Answer:
    """What a store says about a performed operation. `old`: the item a write replaced (None:
    it was absent) — at least its version attributes; `sized`: `old` is the whole item, so
    item sizes can be recorded (DynamoDB's cost model needs them); `item`: what a read found
    (None: absent); `capacity`: units consumed, when the store counts them."""

    old: Item | None = None
    item: Item | None = None
    capacity: float | None = None
    sized: bool = True


class Store(Protocol):
    """One region of a target, as every workload, probe and final read sees it. `perform`
    raises `loadgen.client.StoreError` (the operation did not happen; `ConditionFailed` for a
    guard that did not hold, with the current item when the store gives it) or
    `OutcomeUnknown` (it may have happened). `measured=False` asks for no old item and no
    capacity (lag heartbeats and polls)."""

    region: str

    def perform(self, op: Op, *, measured: bool = True) -> Answer: ...
