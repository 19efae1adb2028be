"""Secondary indexes (GSIs and LSIs): their definitions and each replica's copy of them.

Every replica keeps its own indexes, updated from the item images it applies (its local
writes and the replicated ones that win last-writer-wins), so an index lags with its replica
and a partitioned region reads a stale index, as on DynamoDB global tables. An index entry is
the table's `Entry` itself (one shared image), filed under the item's index key; projections
are applied when the index is read. An entry's index keys are computed once per image and
memoised on it, so the replicas applying a replicated image do not parse it again.
"""

from __future__ import annotations

import time
from typing import Any

from globaltable.capacity import write_units
from globaltable.errors import DynamoError, validation
from globaltable.items import item_size
from globaltable.store import Entry, Key, canonical, check_key_size

PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
#: DynamoDB's per-entry overhead of an index, in IndexSizeBytes (Developer Guide, GSI storage)
ENTRY_OVERHEAD = 100
MAX_GSIS = 20
MAX_LSIS = 5
MAX_PROJECTED = 100
_MISSING = object()
IKey = tuple[Any, Any]  # (hash, range or None), canonical values


class IndexSpec:
    """One index's definition. Identity matters: a re-created index of the same name is
    another index (memoised keys of the old one must not be used for it)."""

    def __init__(
        self,
        name: str,
        is_global: bool,
        keys: tuple[tuple[str, str], ...],
        projection: dict[str, Any],
        table_keys: tuple[str, ...],
        throughput: dict[str, int] | None,
    ) -> None:
        self.name = name
        self.is_global = is_global
        self.hash_name, self.hash_type = keys[0]
        self.range_name, self.range_type = keys[1] if len(keys) > 1 else (None, "S")
        self.key_schema = [{"AttributeName": self.hash_name, "KeyType": "HASH"}]
        if self.range_name is not None:
            self.key_schema.append({"AttributeName": self.range_name, "KeyType": "RANGE"})
        self.projection = projection
        self.projection_type = projection["ProjectionType"]
        key_names = {name for name, _ in keys} | set(table_keys)
        self.key_names = tuple(sorted(key_names))
        self.kept = (
            None
            if self.projection_type == "ALL"
            else frozenset(key_names | set(projection.get("NonKeyAttributes", ())))
        )
        self.throughput = throughput
        self.created = time.time()

    def key_of(self, item: dict[str, Any]) -> IKey | None:
        """The item's index key; None when the item is not in the index (sparse index)."""
        value = item.get(self.hash_name)
        if value is None or self.hash_type not in value:
            return None
        h = canonical(self.hash_type, value[self.hash_type], self.hash_name)
        if self.range_name is None:
            return (h, None)
        value = item.get(self.range_name)
        if value is None or self.range_type not in value:
            return None
        return (h, canonical(self.range_type, value[self.range_type], self.range_name))

    def key_for(self, entry: Entry, item: dict[str, Any] | None = None) -> IKey | None:
        """`key_of` the entry's image, memoised on the entry (shared by every replica)."""
        memo = entry.memo
        if memo is None:
            memo = entry.memo = {}
        else:
            found = memo.get(self, _MISSING)
            if found is not _MISSING:
                return found  # type: ignore[return-value]
        if item is None:
            item = entry.item()
        found = None if item is None else self.key_of(item)
        memo[self] = found
        return found

    def project(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.kept is None:
            return item
        return {name: value for name, value in item.items() if name in self.kept}

    def entry_units(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> float:
        """Write units this index consumes for a table write from `old` to `new` (Developer
        Guide, "Provisioned throughput considerations for GSIs"): one write to add or remove
        an entry, two when the index key changes, one when a projected attribute changes,
        none when the item is in the index neither before nor after."""
        old_key = None if old is None else self.key_of(old)
        new_key = None if new is None else self.key_of(new)
        if old_key is None and new_key is None:
            return 0.0
        if old_key is None:
            return write_units(0, item_size(self.project(new)))  # type: ignore[arg-type]
        old_part = self.project(old)  # type: ignore[arg-type]
        if new_key is None:
            return write_units(0, item_size(old_part))
        new_part = self.project(new)  # type: ignore[arg-type]
        if old_key != new_key:
            return write_units(0, item_size(old_part)) + write_units(0, item_size(new_part))
        if old_part == new_part:
            return 0.0
        return write_units(item_size(old_part), item_size(new_part))


class IndexStore:
    """One replica's copy of one index: index hash -> {(index range, table key): entry}."""

    __slots__ = ("parts", "count", "size")

    def __init__(self) -> None:
        self.parts: dict[Any, dict[tuple[Any, Key], Entry]] = {}
        self.count = 0
        self.size = 0

    def add(self, ikey: IKey, key: Key, entry: Entry) -> None:
        part = self.parts.get(ikey[0])
        if part is None:
            part = self.parts[ikey[0]] = {}
        slot = (ikey[1], key)
        old = part.get(slot)
        if old is not None:
            self.size -= old.size
        else:
            self.count += 1
        part[slot] = entry
        self.size += entry.size

    def remove(self, ikey: IKey, key: Key) -> None:
        part = self.parts.get(ikey[0])
        if part is None:
            return
        old = part.pop((ikey[1], key), None)
        if old is not None:
            self.count -= 1
            self.size -= old.size
            if not part:
                del self.parts[ikey[0]]

    def partition(self, hash_value: Any) -> list[tuple[tuple[Any, Key], Entry]]:
        """((index range, table key), entry) of one index partition, in index order."""
        return sorted(self.parts.get(hash_value, {}).items(), key=lambda kv: kv[0])

    def ordered(self) -> list[tuple[tuple[Any, Any, Key], Entry]]:
        """((index hash, index range, table key), entry) of the whole index, in order."""
        out = []
        for h in sorted(self.parts):
            out.extend(((h, r, k), e) for (r, k), e in sorted(self.parts[h].items()))
        return out


def apply_to_index(
    spec: IndexSpec,
    store: IndexStore,
    key: Key,
    prev: Entry | None,
    new: Entry,
    item: dict[str, Any] | None,
) -> None:
    """File a replica's new version of an item in one of its indexes."""
    old_key = spec.key_for(prev) if prev is not None and prev.image is not None else None
    new_key = spec.key_for(new, item) if new.image is not None else None
    if old_key is not None and old_key != new_key:
        store.remove(old_key, key)
    if new_key is not None:
        store.add(new_key, key, new)


def check_index_keys(specs: list[IndexSpec], item: dict[str, Any], expression: bool) -> None:
    """Refuse an item whose index key attributes have the wrong type, an empty value or too
    many bytes, with DynamoDB's messages (an update expression gets its own wording)."""
    for spec in specs:
        for name, type_, is_hash in (
            (spec.hash_name, spec.hash_type, True),
            (spec.range_name, spec.range_type, False),
        ):
            value = item.get(name) if name is not None else None
            if value is None:
                continue
            actual = next(iter(value))
            if actual != type_:
                if expression:
                    raise validation(
                        "The update expression attempted to update the secondary index key to "
                        "unsupported type"
                    )
                raise validation(
                    "One or more parameter values were invalid: Type mismatch for Index Key "
                    f"{name} Expected: {type_} Actual: {actual} IndexName: {spec.name}"
                )
            raw = value[type_]
            if type_ != "N" and raw == "":
                raise validation(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    f"attribute cannot contain an empty string value. IndexName: {spec.name}, "
                    f"IndexKey: {name}"
                )
            try:
                check_key_size(name, type_, raw, is_hash)
            except DynamoError:
                if not expression:
                    raise
                # DynamoDB's words for an update expression (its UpdateItem error list)
                raise validation(
                    "The update expression attempted to update the secondary index key beyond "
                    "allowed size limits"
                ) from None
