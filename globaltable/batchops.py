"""BatchGetItem (≤ 100 keys) and BatchWriteItem (≤ 25 puts/deletes): every request of the
batch is validated before any runs; each write then runs (and replicates) on its own."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import orjson

from globaltable.capacity import merge_capacity, read_units
from globaltable.engine import GlobalTable
from globaltable.errors import validation
from globaltable.itemops import (
    PLAIN,
    Answer,
    Prepare,
    checked_size,
    plan_delete,
    plan_put,
    read_options,
)
from globaltable.request import capacity_mode, field, table_of
from globaltable.store import Key
from globaltable.table import Table

MAX_GET_KEYS = 100
MAX_WRITES = 25


def _request_items(req: dict[str, Any]) -> dict[str, Any]:
    requests = field(req, "RequestItems", dict, True)
    if not requests:
        raise validation(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    return requests


def batch_get_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    requests = _request_items(req)
    rcc = capacity_mode(req)
    total = 0
    parsed = []
    for name, spec in requests.items():
        if not isinstance(spec, dict):
            raise validation(f"RequestItems.{name} must be a map with Keys")
        proj, names = read_options(spec)
        keys = field(spec, "Keys", list, True)
        total += len(keys)
        if total > MAX_GET_KEYS:
            raise validation("Too many items requested for the BatchGetItem call")
        parsed.append((name, keys, bool(field(spec, "ConsistentRead", bool)), proj, names))
    responses: dict[str, list[Any]] = {}
    capacity = []
    for name, keys, consistent, proj, names in parsed:
        table = table_of(gt, {"TableName": name}, region)
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
            capacity.append(table.read_capacity(units, rcc))
    resp: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": {}}
    if rcc != "NONE":
        resp["ConsumedCapacity"] = capacity
    return resp


def _plan_writes(
    gt: GlobalTable, region: str, requests: dict[str, Any], rcc: str
) -> list[tuple[Table, Key, Prepare]]:
    planned: list[tuple[Table, Key, Prepare]] = []
    for name, writes in requests.items():
        if not isinstance(writes, list) or not writes:
            raise validation(f"RequestItems.{name} must be a non-empty list of write requests")
        if len(writes) > MAX_WRITES:  # checked before any table is looked up, as DynamoDB
            raise validation(
                f"1 validation error detected: Value '{{{name}=[{len(writes)} write requests]}}' "
                "at 'requestItems' failed to satisfy constraint: Map value must satisfy "
                f"constraint: [Member must have length less than or equal to {MAX_WRITES}, "
                "Member must have length greater than or equal to 1]"
            )
    if sum(len(writes) for writes in requests.values()) > MAX_WRITES:
        raise validation("Too many items requested for the BatchWriteItem call")
    for name, writes in requests.items():
        table = table_of(gt, {"TableName": name}, region)
        seen = set()
        for i, w in enumerate(writes):
            where = f"RequestItems.{name}[{i}]"
            if not isinstance(w, dict) or len(w) != 1:
                raise validation(f"{where} must hold exactly one of PutRequest or DeleteRequest")
            if isinstance(w.get("PutRequest"), dict):
                item = w["PutRequest"].get("Item")
                if not isinstance(item, dict):
                    raise validation(f"{where}.PutRequest.Item must be a map")
                key, prepare = plan_put(table, item, checked_size(item), PLAIN, rcc)
            elif isinstance(w.get("DeleteRequest"), dict):
                raw = w["DeleteRequest"].get("Key")
                key, prepare = plan_delete(table, raw, PLAIN, rcc, None)
            else:
                raise validation(f"{where} must hold exactly one of PutRequest or DeleteRequest")
            if key in seen:
                raise validation("Provided list of item keys contains duplicates")
            seen.add(key)
            planned.append((table, key, prepare))
    return planned


def batch_write_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    requests = _request_items(req)
    rcc = capacity_mode(req)
    planned = _plan_writes(gt, region, requests, rcc)
    results = [(t.name, gt.write(t, region, key, prepare)) for t, key, prepare in planned]

    def finish(answers: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        resp: dict[str, Any] = {"UnprocessedItems": {}}
        if rcc != "NONE":
            resp["ConsumedCapacity"] = merge_capacity([a["ConsumedCapacity"] for _, a in answers])
        return resp

    if not any(inspect.isawaitable(r) for _, r in results):
        return finish(results)  # type: ignore[arg-type]

    async def gather() -> dict[str, Any]:
        done = await asyncio.gather(*(r for _, r in results))
        return finish([(name, a) for (name, _), a in zip(results, done, strict=True)])

    return gather()
