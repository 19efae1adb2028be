"""In-memory replicas: one `Replica` per (table, region), holding item versions.

Items are kept as their serialized JSON image (`bytes`): a stored item costs little more than
its wire size, GetItem splices it into the answer unparsed, and a replicated version shares
the same immutable bytes in every region.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

import orjson

from globaltable.errors import validation
from globaltable.items import NumberError, parse_number

KEY_TYPES = ("S", "N", "B")
MISMATCH = "The provided key element does not match the schema"
HASH_KEY_BYTES = 2048
RANGE_KEY_BYTES = 1024
Key = Any  # hash-only tables: the canonical hash value; ranged tables: (hash, range)


class Entry:
    """One version of an item in one replica. `image is None` marks a tombstone."""

    __slots__ = ("image", "size", "ts", "region", "vid", "memo")

    def __init__(self, image: bytes | None, size: int, ts: float, region: str, vid: str | None):
        self.image = image
        self.size = size
        self.ts = ts
        self.region = region
        self.vid = vid
        #: what features derived from the image (index keys, expiry), shared by every replica
        self.memo: dict[Any, Any] | None = None

    def order(self) -> tuple[float, str]:
        """Last-writer-wins order: the highest (timestamp, region) wins."""
        return (self.ts, self.region)

    def item(self) -> dict[str, Any] | None:
        return None if self.image is None else orjson.loads(self.image)


def stored_image(item: dict[str, Any]) -> bytes:
    """An item's serialized image, in a right-sized buffer: orjson returns its bytes inside a
    4 KB allocation, which would cost every stored ~500 B item 4 KB of memory."""
    return bytes(memoryview(orjson.dumps(item)))


def canonical(type_: str, raw: Any, name: str) -> Any:
    """A key value as a hashable, correctly ordered Python value (N by value, B by bytes)."""
    if not isinstance(raw, str):
        raise validation(f"Invalid value for key attribute {name}: {type_} must be a string")
    if type_ == "S":
        if not raw:
            raise validation(
                f"One or more parameter values are not valid. The AttributeValue for a key "
                f"attribute cannot contain an empty string value. Key: {name}"
            )
        return raw
    if type_ == "N":
        try:
            return parse_number(raw)
        except NumberError as exc:
            raise validation(f"Invalid number for key attribute {name}: {exc}") from None
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise validation(f"Invalid base64 binary for key attribute {name}") from None
    if not data:
        raise validation(f"Binary key attribute {name} cannot be empty")
    return data


def check_key_size(name: str, type_: str, raw: Any, is_hash: bool) -> None:
    """DynamoDB's key size limits: 2,048 bytes for a partition key, 1,024 for a sort key
    (its messages, the missing space included)."""
    if type_ == "N" or not isinstance(raw, str) or len(raw) <= RANGE_KEY_BYTES // 4:
        return
    if type_ == "S":
        size = len(raw) if raw.isascii() else len(raw.encode())
    else:
        try:
            size = len(base64.b64decode(raw))
        except (binascii.Error, ValueError):
            return  # canonical() names the bad base64
    if is_hash and size > HASH_KEY_BYTES:
        raise validation(
            "One or more parameter values were invalid: Size of hashkey has exceeded the "
            f"maximum size limit of{HASH_KEY_BYTES} bytes"
        )
    if not is_hash and size > RANGE_KEY_BYTES:
        raise validation(
            "One or more parameter values were invalid: Aggregated size of all range keys has "
            f"exceeded the size limit of {RANGE_KEY_BYTES} bytes"
        )


class KeySchema:
    """The table's hash key and optional range key, and how to pull a `Key` out of items."""

    def __init__(self, hash_name: str, hash_type: str, range_name: str | None, range_type: str):
        self.hash_name = hash_name
        self.hash_type = hash_type
        self.range_name = range_name
        self.range_type = range_type
        self.names = (hash_name,) if range_name is None else (hash_name, range_name)

    def _part(self, item: dict[str, Any], name: str, type_: str, where: str) -> Any:
        value = item.get(name)
        if value is None:
            raise validation(
                f"One or more parameter values were invalid: Missing the key {name} in the {where}"
            )
        if not isinstance(value, dict) or len(value) != 1 or type_ not in value:
            actual = next(iter(value), "?") if isinstance(value, dict) and value else "?"
            raise validation(
                f"One or more parameter values were invalid: Type mismatch for key {name} "
                f"expected: {type_} actual: {actual}"
            )
        raw = value[type_]
        check_key_size(name, type_, raw, name == self.hash_name)
        return canonical(type_, raw, name)

    def of_item(self, item: dict[str, Any], where: str = "item") -> Key:
        h = self._part(item, self.hash_name, self.hash_type, where)
        if self.range_name is None:
            return h
        return (h, self._part(item, self.range_name, self.range_type, where))

    def of_key(self, key: Any) -> Key:
        """A request's `Key`: exactly the key attributes, of the key types (DynamoDB says no
        more than that the key does not match the schema)."""
        if not isinstance(key, dict) or len(key) != len(self.names):
            raise validation(MISMATCH)
        for name, type_ in zip(self.names, (self.hash_type, self.range_type), strict=False):
            value = key.get(name)
            if type(value) is not dict or len(value) != 1 or type_ not in value:
                raise validation(MISMATCH)
            if value[type_] == "" and type_ != "N":
                raise validation(
                    "One or more parameter values were invalid: The AttributeValue for a key "
                    f"attribute cannot contain an empty {'string' if type_ == 'S' else 'binary'} "
                    f"value. Key: {name}"
                )
        return self.of_item(key, "key")

    def key_attrs(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.names}

    def label(self, key: Key) -> str:
        """The key as ground truth names it: the partition key value (`|range` if ranged)."""
        if type(key) is str:
            return key
        if self.range_name is None:
            return _text(key)
        return f"{_text(key[0])}|{_text(key[1])}"


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


class Replica:
    """One region's copy of one table. Ranged tables nest range keys under each hash key so a
    Query touches one partition only."""

    __slots__ = ("ranged", "items")

    def __init__(self, ranged: bool) -> None:
        self.ranged = ranged
        self.items: dict[Any, Any] = {}

    def get(self, key: Key) -> Entry | None:
        if not self.ranged:
            return self.items.get(key)
        part = self.items.get(key[0])
        return None if part is None else part.get(key[1])

    def put(self, key: Key, entry: Entry) -> None:
        if not self.ranged:
            self.items[key] = entry
            return
        part = self.items.get(key[0])
        if part is None:
            part = self.items[key[0]] = {}
        part[key[1]] = entry

    def offer(self, key: Key, entry: Entry) -> Entry | None:
        """Last-writer-wins: store `entry` unless the stored version is at least as new (the
        highest (timestamp, region) wins). Returns the stored version that won, or None."""
        if self.ranged:
            part = self.items.get(key[0])
            stored = None if part is None else part.get(key[1])
        else:
            stored = self.items.get(key)
        if stored is not None and (
            entry.ts < stored.ts or (entry.ts == stored.ts and entry.region <= stored.region)
        ):
            return stored
        self.put(key, entry)
        return None

    def partition(self, hash_value: Any) -> list[tuple[Any, Entry]]:
        """(range value, entry) of one partition, in range-key order."""
        if not self.ranged:
            entry = self.items.get(hash_value)
            return [] if entry is None else [(None, entry)]
        return sorted(self.items.get(hash_value, {}).items(), key=lambda kv: kv[0])

    def ordered(self) -> list[tuple[Key, Entry]]:
        """Every (key, entry), tombstones included, in key order (Scan's order)."""
        if not self.ranged:
            return sorted(self.items.items(), key=lambda kv: kv[0])
        out: list[tuple[Key, Entry]] = []
        for h in sorted(self.items):
            out.extend(((h, r), e) for r, e in sorted(self.items[h].items(), key=lambda kv: kv[0]))
        return out

    def entries(self) -> list[tuple[Key, Entry]]:
        """Every (key, entry) in no particular order (cheap)."""
        if not self.ranged:
            return list(self.items.items())
        return [((h, r), e) for h, part in self.items.items() for r, e in part.items()]

    def live(self) -> tuple[int, int]:
        """(item count, total bytes) of live items."""
        count = size = 0
        for _, e in self.entries():
            if e.image is not None:
                count += 1
                size += e.size
        return count, size


def divergent_keys(tables: Iterable[Any]) -> list[str]:
    """`table: key` of every item whose version differs between a table's regions (`tables`:
    the engine's tables). With nothing left to replicate, last-writer-wins leaves every region
    the same newest version: anything else is a bug the quiesce answer must not hide."""
    out: list[str] = []
    for table in tables:
        if not table.replicas:
            continue
        first, *others = table.replicas.values()
        versions = {key: entry.order() for key, entry in first.entries()}
        differ: set[Any] = set()
        for other in others:
            theirs = dict(other.entries())
            differ.update(k for k, e in theirs.items() if versions.get(k) != e.order())
            differ.update(k for k in versions if k not in theirs)
        out += [f"{table.name}: {table.schema.label(k)}" for k in differ]
    return sorted(out)
