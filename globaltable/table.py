"""A global table: its definition, one replica per region, and what each replica derives from
the images it applies (secondary indexes, a stream, TTL expiries).

`observe` is called once per image a replica applies, local writes and replicated ones alike
(the engine skips it for tables that need none, the hot path); each feature keeps its own
per-region state from it, which is what makes an index or a stream lag with its replica.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from globaltable.capacity import consumed, write_units
from globaltable.errors import DynamoError
from globaltable.indexes import IndexSpec, IndexStore, apply_to_index, check_index_keys
from globaltable.store import Entry, Key, KeySchema, Replica
from globaltable.truth import TruthLog

#: observer(region, key, previous version in that replica, new version, new item or None,
#: origin: "local" | "replicated" | "ttl")
Observer = Callable[[str, Key, Entry | None, Entry, dict[str, Any] | None, str], None]


@dataclass(eq=False)  # identity: a re-created table is another table
class Table:
    name: str
    schema: KeySchema
    definition: dict[str, Any]  # AttributeDefinitions, KeySchema, BillingMode... as created
    replicas: dict[str, Replica]
    created: float = field(default_factory=time.time)
    truth: TruthLog = field(default_factory=TruthLog)
    table_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    indexes: dict[str, IndexSpec] = field(default_factory=dict)
    #: region -> index -> that replica's copy of the index
    index_stores: dict[str, dict[IndexSpec, IndexStore]] = field(default_factory=dict)
    #: more per-image observers (streams, TTL), keyed by feature name
    observers: dict[str, Observer] = field(default_factory=dict)
    #: features told when a replica is added (True) or removed (False), keyed by feature
    region_hooks: dict[str, Callable[[str, bool], None]] = field(default_factory=dict)
    #: the table's TimeToLive (globaltable.ttl) while TTL is enabled
    ttl: Any = None
    #: the table's TableStreams (globaltable.streams) once a stream was ever enabled
    streams: Any = None
    #: region -> tags of that replica (its ARN carries the region)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    #: whether any feature observes applied images (False: the engine's fast path)
    observed: bool = False

    def refresh(self) -> None:
        self.observed = bool(self.indexes) or bool(self.observers)

    # ------------------------------------------------------------ applied images

    def observe(
        self,
        region: str,
        key: Key,
        prev: Entry | None,
        new: Entry,
        item: dict[str, Any] | None,
        origin: str,
    ) -> None:
        stores = self.index_stores.get(region)
        if stores:
            for spec, store in stores.items():
                apply_to_index(spec, store, key, prev, new, item)
        for observer in self.observers.values():
            observer(region, key, prev, new, item, origin)

    # ------------------------------------------------------------ indexes

    def add_index(self, spec: IndexSpec) -> None:
        """Create an index and backfill it in every replica from that replica's items."""
        self.indexes[spec.name] = spec
        for region, replica in self.replicas.items():
            self.index_stores.setdefault(region, {})[spec] = _backfilled(spec, replica)
        self.refresh()

    def drop_index(self, name: str) -> None:
        spec = self.indexes.pop(name)
        for stores in self.index_stores.values():
            stores.pop(spec, None)
        self.refresh()

    def attach_replica(self, region: str, replica: Replica) -> None:
        """A new replica (ReplicaUpdates), already holding its items: its own indexes are
        built from them, and each feature starts tracking it."""
        self.replicas[region] = replica
        self.index_stores[region] = {s: _backfilled(s, replica) for s in self.indexes.values()}
        for hook in self.region_hooks.values():
            hook(region, True)

    def detach_replica(self, region: str) -> None:
        del self.replicas[region]
        self.index_stores.pop(region, None)
        for hook in self.region_hooks.values():
            hook(region, False)

    def index_store(self, region: str, spec: IndexSpec) -> IndexStore:
        return self.index_stores[region][spec]

    def check_item(self, item: dict[str, Any], updated: Any = None) -> None:
        """Refuse an item whose index keys DynamoDB would refuse (`updated`: the update that
        made it, whose kind picks the message)."""
        if self.indexes:
            expression = updated is not None and not hasattr(updated, "actions")
            # DynamoDB checks the GSIs' keys first, then the LSIs'
            ordered = sorted(self.indexes.values(), key=lambda s: not s.is_global)
            check_index_keys(ordered, item, expression)

    # ------------------------------------------------------------ capacity

    def parses_old(self, rcc: str) -> bool:
        """Whether a write's capacity needs the replaced item (index entries it removes)."""
        return rcc != "NONE" and bool(self.indexes)

    def index_write_units(
        self, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> tuple[dict[str, float], dict[str, float]]:
        """(GSI, LSI) write units a table write from `old` to `new` consumes, by index."""
        gsi: dict[str, float] = {}
        lsi: dict[str, float] = {}
        for spec in self.indexes.values():
            (gsi if spec.is_global else lsi)[spec.name] = spec.entry_units(old, new)
        return gsi, lsi

    def write_capacity(
        self, old: Entry | None, old_item: Any, new_item: Any, size: int, rcc: str
    ) -> dict[str, Any]:
        units = write_units(old.size if old is not None and old.image is not None else 0, size)
        if not self.indexes:
            return consumed(self.name, units, rcc, True)
        gsi, lsi = self.index_write_units(old_item, new_item)
        return consumed(self.name, units, rcc, True, gsi, lsi)

    def read_capacity(
        self, units: float, rcc: str, index: IndexSpec | None = None
    ) -> dict[str, Any]:
        if index is None:
            return consumed(self.name, units, rcc, False)
        found = {index.name: units}
        if index.is_global:
            return consumed(self.name, 0.0, rcc, False, found, None)
        return consumed(self.name, 0.0, rcc, False, None, found)

    # ------------------------------------------------------------ naming

    def arn(self, region: str) -> str:
        return f"arn:aws:dynamodb:{region}:000000000000:table/{self.name}"


def _backfilled(spec: IndexSpec, replica: Replica) -> IndexStore:
    """One replica's copy of an index, built from the items it holds. An item whose index key
    a write would be refused for (empty, or over the key size limits) is left out, as
    DynamoDB's backfill leaves out such index key violations."""
    store = IndexStore()
    for key, entry in replica.entries():
        if entry.image is not None:
            ikey = spec.key_for(entry)
            if ikey is not None and _indexable(spec, entry):
                store.add(ikey, key, entry)
    return store


def _indexable(spec: IndexSpec, entry: Entry) -> bool:
    try:
        check_index_keys([spec], entry.item() or {}, expression=False)
    except DynamoError:
        return False
    return True
