"""Query and Scan: key order, ExclusiveStartKey/LastEvaluatedKey pages of at most `Limit`
evaluated items or 1 MB read, FilterExpression after the page is cut, as DynamoDB does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from globaltable.capacity import read_units
from globaltable.engine import GlobalTable, Table
from globaltable.errors import validation
from globaltable.expressions import key_condition
from globaltable.request import (
    add_capacity,
    all_used,
    capacity_mode,
    choice,
    condition_of,
    field,
    names_values,
    no_legacy,
    projection_of,
    table_of,
)
from globaltable.store import Entry, canonical

PAGE_BYTES = 1024 * 1024
SELECTS = ("ALL_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT", "ALL_PROJECTED_ATTRIBUTES")


def _limit(req: dict[str, Any]) -> int | None:
    limit = field(req, "Limit", int)
    if limit is not None and limit < 1:
        raise validation(
            "1 validation error detected: Value at 'Limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
    return limit


def _page(
    table: Table,
    req: dict[str, Any],
    candidates: Iterable[tuple[Any, Entry]],
    range_match: Any,
    consistent: bool,
    key_cond: Any = None,
) -> dict[str, Any]:
    """Evaluate candidates in order until Limit or 1 MB; filter and project what was read."""
    names, values = names_values(req)
    filt = condition_of(req, "FilterExpression")
    proj = projection_of(req)
    select = choice(req, "Select", SELECTS)
    if select == "ALL_PROJECTED_ATTRIBUTES":
        raise validation("Select ALL_PROJECTED_ATTRIBUTES needs an index; the emulator has none")
    if select == "SPECIFIC_ATTRIBUTES" and proj is None:
        raise validation("Select SPECIFIC_ATTRIBUTES needs a ProjectionExpression")
    all_used(names, values, filt, proj, key_cond)
    limit = _limit(req)
    rcc = capacity_mode(req)
    range_name = table.schema.range_name
    items: list[dict[str, Any]] = []
    scanned = read = 0
    last: dict[str, Any] | None = None
    for _, entry in candidates:
        if entry.image is None:
            continue
        item = orjson.loads(entry.image)
        if range_match is not None and not range_match(item[range_name]):
            continue
        scanned += 1
        read += entry.size
        if filt is None or filt.evaluate(item, names, values):
            items.append(item)
        if scanned == limit or read >= PAGE_BYTES:
            last = table.schema.key_attrs(item)
            break
    resp: dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
    if select != "COUNT":
        resp["Items"] = items if proj is None else [proj.apply(i, names) for i in items]
    if last is not None:
        resp["LastEvaluatedKey"] = last
    add_capacity(resp, table.name, read_units(read, consistent), rcc, False)
    return resp


def query(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    no_legacy(req)
    table = table_of(gt, req)
    if "IndexName" in req:
        raise validation("IndexName: the hothot emulator has no secondary indexes")
    schema = table.schema
    kc = key_condition(field(req, "KeyConditionExpression", str, True))
    names, values = names_values(req)
    hash_value, range_match = kc.bind(
        names, values, schema.hash_name, schema.range_name, schema.range_type
    )
    filt = condition_of(req, "FilterExpression")
    if filt is not None:
        for root in sorted(filt.roots):
            name = names.get(root, root) if root.startswith("#") else root
            if name in schema.names:
                raise validation(
                    f"Filter Expression can only contain non-primary key attributes: Primary key attribute: {name}"
                )
    if not isinstance(hash_value, dict) or schema.hash_type not in hash_value:
        raise validation(
            f"Query condition on {schema.hash_name} must compare it with a value of type {schema.hash_type}"
        )
    h = canonical(schema.hash_type, hash_value[schema.hash_type], schema.hash_name)
    consistent = bool(field(req, "ConsistentRead", bool))
    forward = field(req, "ScanIndexForward", bool)
    part = gt.read_partition(table, region, h, consistent)
    if forward is False:
        part.reverse()
    start = field(req, "ExclusiveStartKey", dict)
    if start is not None:
        sk = schema.of_key(start)
        if schema.range_name is None:
            part = []
        else:
            if sk[0] != h:
                raise validation("ExclusiveStartKey does not belong to the queried partition")
            part = [(r, e) for r, e in part if (r > sk[1] if forward is not False else r < sk[1])]
    return _page(table, req, part, range_match, consistent, kc)


def scan(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    no_legacy(req)
    table = table_of(gt, req)
    if "IndexName" in req:
        raise validation("IndexName: the hothot emulator has no secondary indexes")
    consistent = bool(field(req, "ConsistentRead", bool))
    entries: list[tuple[Any, Entry]] = gt.read_all(table, region, consistent)
    total = field(req, "TotalSegments", int)
    segment = field(req, "Segment", int)
    if (total is None) != (segment is None):
        raise validation("Segment and TotalSegments must be given together")
    if total is not None:
        if not 1 <= total <= 1_000_000 or not 0 <= segment < total:
            raise validation(f"Segment {segment} / TotalSegments {total} out of range")
        entries = [(k, e) for k, e in entries if hash(k) % total == segment]
    start = field(req, "ExclusiveStartKey", dict)
    if start is not None:
        sk = table.schema.of_key(start)
        entries = [(k, e) for k, e in entries if k > sk]
    return _page(table, req, entries, None, consistent)
