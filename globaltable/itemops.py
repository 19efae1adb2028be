"""Single-item and batch operations: PutItem, GetItem, UpdateItem, DeleteItem,
BatchGetItem, BatchWriteItem."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from globaltable.capacity import read_units, write_units
from globaltable.engine import GlobalTable, Prepared, Table
from globaltable.errors import condition_failed, validation
from globaltable.expressions import update
from globaltable.items import validated_size
from globaltable.request import (
    add_capacity,
    all_used,
    capacity_mode,
    check_size,
    choice,
    condition_of,
    field,
    names_values,
    no_legacy,
    old_on_failure,
    projection_of,
    table_of,
)
from globaltable.store import Entry, Key

Answer = dict[str, Any] | bytes | Awaitable[dict[str, Any]]
#: the private request field the HTTP layer fills from the `x-hothot-vid` header (deletes)
VID_FIELD = "x-hothot-vid"


def checked_size(item: Any) -> int:
    """Validate an item and return its DynamoDB size, in one pass (this is the hot path)."""
    if not isinstance(item, dict):
        raise validation("1 validation error detected: Value at 'Item' must be a map")
    size = validated_size(item)
    check_size(size)
    return size


#: PutItem fields that leave the condition, placeholders and ReturnValues at their defaults
_PLAIN_PUT = frozenset({"TableName", "Item", "ReturnConsumedCapacity", VID_FIELD})

Prepare = Callable[[Entry | None], Prepared]
#: a validated write: its key and what decides it against the current version
Plan = tuple[Key, Prepare]


def plan_put(table: Table, item: Any, req: dict[str, Any], rcc: str) -> Plan:
    """Validate a put completely before it runs (batches and transactions validate all first)."""
    size = checked_size(item)
    key = table.schema.of_item(item)
    if _PLAIN_PUT.issuperset(req):  # no condition, placeholders or ReturnValues: the hot path
        cond, names, values, rv, old_back = None, {}, {}, "NONE", False
    else:
        cond = condition_of(req)
        names, values = names_values(req)
        all_used(names, values, cond)
        rv = choice(req, "ReturnValues", ("NONE", "ALL_OLD"))
        old_back = old_on_failure(req)

    def prepare(old: Entry | None) -> Prepared:
        old_item = None
        if old is not None and old.image is not None and (cond is not None or rv == "ALL_OLD"):
            old_item = old.item()
        if cond is not None and not cond.evaluate(old_item, names, values):
            raise condition_failed(old_item if old_back else None)
        resp: dict[str, Any] = {}
        if rv == "ALL_OLD" and old_item is not None:
            resp["Attributes"] = old_item
        if rcc != "NONE":
            add_capacity(resp, table.name, write_units(old.size if old else 0, size), rcc, True)
        return Prepared(item, size, resp, old_item)

    return key, prepare


def put_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    no_legacy(req)
    table = table_of(gt, req)
    key, prepare = plan_put(table, req.get("Item"), req, capacity_mode(req))
    return gt.write(table, region, key, prepare)


def plan_delete(table: Table, raw_key: Any, req: dict[str, Any], rcc: str) -> Plan:
    key = table.schema.of_key(raw_key)
    cond = condition_of(req)
    names, values = names_values(req)
    all_used(names, values, cond)
    rv = choice(req, "ReturnValues", ("NONE", "ALL_OLD"))
    old_back = old_on_failure(req)
    vid = req.get(VID_FIELD)

    def prepare(old: Entry | None) -> Prepared:
        old_item = old.item() if old is not None else None
        if cond is not None and not cond.evaluate(old_item, names, values):
            raise condition_failed(old_item if old_back else None)
        resp: dict[str, Any] = {}
        if rv == "ALL_OLD" and old_item is not None:
            resp["Attributes"] = old_item
        add_capacity(resp, table.name, write_units(old.size if old else 0, 0), rcc, True)
        return Prepared(None, 0, resp, old_item, vid if isinstance(vid, str) else None)

    return key, prepare


def delete_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    no_legacy(req)
    table = table_of(gt, req)
    raw_key = field(req, "Key", dict, True)
    key, prepare = plan_delete(table, raw_key, req, capacity_mode(req))
    return gt.write(table, region, key, prepare)


def _updated(item: dict[str, Any] | None, changed: set[str]) -> dict[str, Any]:
    if item is None:
        return {}
    return {a: item[a] for a in changed if a in item}


def _returned(
    rv: str, old: dict[str, Any] | None, new: dict[str, Any], changed: set[str]
) -> dict[str, Any] | None:
    """UpdateItem's `Attributes` for ReturnValues `rv` (None for NONE)."""
    if rv == "NONE":
        return None
    if rv == "ALL_OLD":
        return old or {}
    if rv == "ALL_NEW":
        return new
    return _updated(old if rv == "UPDATED_OLD" else new, changed)


def update_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    no_legacy(req)
    table = table_of(gt, req)
    key, prepare = plan_update(table, req, capacity_mode(req))
    return gt.write(table, region, key, prepare)


def plan_update(table: Table, req: dict[str, Any], rcc: str) -> Plan:
    raw_key = field(req, "Key", dict, True)
    key = table.schema.of_key(raw_key)
    text = field(req, "UpdateExpression", str)
    upd = None if text is None else update(text)
    cond = condition_of(req)
    names, values = names_values(req)
    all_used(names, values, upd, cond)
    rv = choice(req, "ReturnValues", ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
    old_back = old_on_failure(req)
    key_names = table.schema.names

    def prepare(old: Entry | None) -> Prepared:
        old_item = old.item() if old is not None else None
        if cond is not None and not cond.evaluate(old_item, names, values):
            raise condition_failed(old_item if old_back else None)
        base = old_item if old_item is not None else dict(raw_key)
        changed: set[str] = set()
        new = base
        if upd is not None:
            new, changed = upd.apply(base, names, values)
        touched = changed.intersection(key_names)
        if touched:
            name = sorted(touched)[0]
            raise validation(
                f"One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
            )
        size = checked_size(new)
        resp: dict[str, Any] = {}
        attrs = _returned(rv, old_item, new, changed)
        if attrs:
            resp["Attributes"] = attrs
        add_capacity(resp, table.name, write_units(old.size if old else 0, size), rcc, True)
        return Prepared(new, size, resp, old_item)

    return key, prepare


def get_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    no_legacy(req)
    table = table_of(gt, req)
    key = table.schema.of_key(field(req, "Key", dict, True))
    consistent = bool(field(req, "ConsistentRead", bool))
    proj = projection_of(req)
    names, values = names_values(req)
    all_used(names, values, proj)
    rcc = capacity_mode(req)
    entry = gt.read(table, region, key, consistent)
    image = None if entry is None else entry.image
    if proj is None and rcc == "NONE":
        return b"{}" if image is None else b'{"Item":' + image + b"}"
    resp: dict[str, Any] = {}
    if image is not None:
        item = orjson.loads(image)
        resp["Item"] = item if proj is None else proj.apply(item, names)
    add_capacity(resp, table.name, read_units(entry.size if image else 0, consistent), rcc, False)
    return resp


def _request_items(req: dict[str, Any]) -> dict[str, Any]:
    requests = field(req, "RequestItems", dict, True)
    if not requests:
        raise validation(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    return requests


def batch_get_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    requests = _request_items(req)
    rcc = capacity_mode(req)
    total = 0
    responses: dict[str, list[Any]] = {}
    capacity = []
    for name, spec in requests.items():
        if not isinstance(spec, dict):
            raise validation(f"RequestItems.{name} must be a map with Keys")
        no_legacy(spec)
        table = table_of(gt, {"TableName": name})
        keys = field(spec, "Keys", list, True)
        total += len(keys)
        if total > 100:
            raise validation("Too many items requested for the BatchGetItem call (maximum 100)")
        consistent = bool(field(spec, "ConsistentRead", bool))
        proj = projection_of(spec)
        names, _ = names_values(spec)
        all_used(names, {}, proj)
        seen = set()
        found, units = [], 0.0
        for raw in keys:
            key = table.schema.of_key(raw)
            if key in seen:
                raise validation("Provided list of item keys contains duplicates")
            seen.add(key)
            entry = gt.read(table, region, key, consistent)
            units += read_units(entry.size if entry and entry.image else 0, consistent)
            if entry is not None and entry.image is not None:
                item = orjson.loads(entry.image)
                found.append(item if proj is None else proj.apply(item, names))
        responses[name] = found
        if rcc != "NONE":
            capacity.append({"TableName": name, "CapacityUnits": units, "ReadCapacityUnits": units})
    resp: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": {}}
    if rcc != "NONE":
        resp["ConsumedCapacity"] = capacity
    return resp


def batch_write_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    requests = _request_items(req)
    rcc = capacity_mode(req)
    planned: list[tuple[Table, Key, Prepare]] = []
    for name, writes in requests.items():
        table = table_of(gt, {"TableName": name})
        if not isinstance(writes, list) or not writes:
            raise validation(f"RequestItems.{name} must be a non-empty list of write requests")
        seen = set()
        for i, w in enumerate(writes):
            where = f"RequestItems.{name}[{i}]"
            if not isinstance(w, dict) or len(w) != 1:
                raise validation(f"{where} must hold exactly one of PutRequest or DeleteRequest")
            if isinstance(w.get("PutRequest"), dict):
                item = w["PutRequest"].get("Item")
                if not isinstance(item, dict):
                    raise validation(f"{where}.PutRequest.Item must be a map")
                key, prepare = plan_put(table, item, {}, rcc)
            elif isinstance(w.get("DeleteRequest"), dict):
                key, prepare = plan_delete(table, w["DeleteRequest"].get("Key"), {}, rcc)
            else:
                raise validation(f"{where} must hold exactly one of PutRequest or DeleteRequest")
            if key in seen:
                raise validation("Provided list of item keys contains duplicates")
            seen.add(key)
            planned.append((table, key, prepare))
    if len(planned) > 25:
        raise validation("Too many items requested for the BatchWriteItem call (maximum 25)")
    results = [(t.name, gt.write(t, region, key, prepare)) for t, key, prepare in planned]

    def finish(answers: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        resp: dict[str, Any] = {"UnprocessedItems": {}}
        if rcc != "NONE":
            units: dict[str, float] = {}
            for name, answer in answers:
                units[name] = units.get(name, 0.0) + answer["ConsumedCapacity"]["CapacityUnits"]
            resp["ConsumedCapacity"] = [
                {"TableName": n, "CapacityUnits": u, "WriteCapacityUnits": u}
                for n, u in units.items()
            ]
        return resp

    if not any(inspect.isawaitable(r) for _, r in results):
        return finish(results)  # type: ignore[arg-type]

    async def gather() -> dict[str, Any]:
        done = await asyncio.gather(*(r for _, r in results))
        return finish([(name, a) for (name, _), a in zip(results, done, strict=True)])

    return gather()
