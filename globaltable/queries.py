"""Query and Scan, on a table or one of its indexes: key order, ExclusiveStartKey /
LastEvaluatedKey pages of at most `Limit` evaluated items or 1 MB read, the filter applied
after the page is cut, as DynamoDB does. An index is read from the region's own copy of it
(`globaltable.indexes`), so it is exactly as stale as that region's replica."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from globaltable.capacity import read_units
from globaltable.engine import GlobalTable
from globaltable.errors import validation
from globaltable.expressions.key_condition import bind_key_conditions
from globaltable.indexes import IndexSpec
from globaltable.items import item_size
from globaltable.readreq import ReadRequest, read_request, segment
from globaltable.request import field, table_of
from globaltable.store import Entry, canonical
from globaltable.table import Table

PAGE_BYTES = 1024 * 1024
BAD_START = "The provided starting key is invalid"


def _index(table: Table, rr: ReadRequest) -> IndexSpec | None:
    if rr.index_name is None:
        return None
    spec = table.indexes.get(rr.index_name)
    if spec is None:
        raise validation(f"The table does not have the specified index: {rr.index_name}")
    if spec.is_global and rr.consistent:
        raise validation("Consistent reads are not supported on global secondary indexes")
    if spec.is_global and rr.select == "ALL_ATTRIBUTES" and spec.kept is not None:
        raise validation(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
            f"supported for global secondary index {spec.name} because its projection type is not ALL"
        )
    return spec


def _shape(table: Table, spec: IndexSpec | None) -> tuple[str, str, str | None, str]:
    """(hash name, hash type, range name, range type) of what is read."""
    if spec is None:
        s = table.schema
        return s.hash_name, s.hash_type, s.range_name, s.range_type
    return spec.hash_name, spec.hash_type, spec.range_name, spec.range_type


def _start_position(table: Table, spec: IndexSpec | None, start: dict[str, Any], scan: bool) -> Any:
    """An ExclusiveStartKey as a position in what is read (table key, or index order)."""
    if spec is None:
        try:
            key = table.schema.of_key(start)
        except Exception as exc:
            raise validation(f"{BAD_START}: {getattr(exc, 'message', exc)}") from None
        return key
    names = set(table.schema.names) | set(spec.key_names)
    if set(start) != names:
        raise validation(BAD_START)
    ikey = spec.key_of(start)
    if ikey is None:
        raise validation(BAD_START)
    tkey = table.schema.of_key({n: start[n] for n in table.schema.names})
    return (ikey[0], ikey[1], tkey) if scan else (ikey[1], tkey)


def _page(
    table: Table,
    spec: IndexSpec | None,
    rr: ReadRequest,
    candidates: Iterable[tuple[Any, Entry]],
    range_match: Any = None,
) -> dict[str, Any]:
    """Evaluate candidates in order until Limit or 1 MB; filter and project what was read."""
    range_name = _shape(table, spec)[2]
    projected = spec is not None and (
        spec.is_global or rr.select in (None, "ALL_PROJECTED_ATTRIBUTES")
    )
    charge = rr.rcc != "NONE"
    items: list[dict[str, Any]] = []
    scanned = read = 0
    last: dict[str, Any] | None = None
    names, values, filt, limit = rr.names, rr.values, rr.filt, rr.limit
    for _, entry in candidates:
        if entry.image is None:
            continue
        item = orjson.loads(entry.image)
        if range_match is not None and not range_match(item.get(range_name)):
            continue
        if projected:
            item = spec.project(item)  # type: ignore[union-attr]
        scanned += 1
        read += (
            entry.size if not projected or spec.kept is None else (item_size(item) if charge else 0)
        )  # type: ignore[union-attr]
        if filt is None or filt.evaluate(item, names, values):
            items.append(item)
        if scanned == limit or read >= PAGE_BYTES:
            key_names = table.schema.names if spec is None else spec.key_names
            last = {n: item[n] for n in key_names if n in item}
            break
    resp: dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
    if rr.select != "COUNT":
        proj = rr.proj
        resp["Items"] = items if proj is None else [proj.apply(i, names) for i in items]
    if last is not None:
        resp["LastEvaluatedKey"] = last
    if charge:
        resp["ConsumedCapacity"] = table.read_capacity(
            read_units(read, rr.consistent), rr.rcc, spec
        )
    return resp


def _check_filter(rr: ReadRequest, key_names: tuple[str, ...]) -> None:
    """A Query filter may not read the key attributes of what is queried."""
    if rr.filt is None:
        return
    for root in sorted(rr.filt.roots):
        name = rr.names.get(root, root) if root.startswith("#") else root
        if name in key_names:
            raise validation(
                f"{rr.filter_label} can only contain non-primary key attributes: Primary key "
                f"attribute: {name}"
            )


def query(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    rr = read_request(req, query=True)
    forward = field(req, "ScanIndexForward", bool) is not False
    start = field(req, "ExclusiveStartKey", dict)
    table = table_of(gt, req, region)
    spec = _index(table, rr)
    hash_name, hash_type, range_name, range_type = _shape(table, spec)
    position = None if start is None else _start_position(table, spec, start, scan=False)
    hash_value, range_match = bind_key_conditions(
        rr.key_conditions(), hash_name, hash_type, range_name, range_type
    )
    _check_filter(rr, (hash_name, range_name) if range_name else (hash_name,))
    h = canonical(hash_type, hash_value[hash_type], hash_name)
    if spec is None:
        part: list[tuple[Any, Entry]] = gt.read_partition(table, region, h, rr.consistent)
        if position is not None:
            if (position[0] if table.schema.range_name else position) != h:
                raise validation(
                    "The provided starting key is outside query boundaries based on provided "
                    "conditions"
                )
            position = position[1] if table.schema.range_name else None
    else:
        part = table.index_store(region, spec).partition(h)  # type: ignore[assignment]
    if not forward:
        part.reverse()
    if start is not None:
        if position is None:
            part = []
        elif forward:
            part = [(p, e) for p, e in part if p > position]
        else:
            part = [(p, e) for p, e in part if p < position]
    return _page(table, spec, rr, part, range_match)


def scan(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    rr = read_request(req, query=False)
    segments = segment(req)
    start = field(req, "ExclusiveStartKey", dict)
    table = table_of(gt, req, region)
    spec = _index(table, rr)
    position = None if start is None else _start_position(table, spec, start, scan=True)
    entries: list[tuple[Any, Entry]]
    if spec is None:
        entries = gt.read_all(table, region, rr.consistent)
        ranged = table.schema.range_name is not None
        partition_of = (lambda k: k[0]) if ranged else (lambda k: k)
    else:
        entries = table.index_store(region, spec).ordered()  # type: ignore[assignment]
        partition_of = lambda k: k[0]  # noqa: E731
    if segments is not None:
        seg, total = segments
        entries = [(k, e) for k, e in entries if hash(partition_of(k)) % total == seg]
        if position is not None and hash(partition_of(position)) % total != seg:
            raise validation(
                f"The provided Exclusive start key does not lie within segment {seg} of "
                f"{total} (it is not a key this segment returned)"
            )
    if position is not None:
        entries = [(k, e) for k, e in entries if k > position]
    return _page(table, spec, rr, entries)
