"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

As DynamoDB does, a request is validated whole first (its expressions or legacy parameters,
never a mix), then its table is looked up, then it is bound to the table's key schema:
`write_options` is the first step, `plan_*` the last (batches and transactions reuse them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import orjson

from globaltable import legacy, legacyupdate
from globaltable.capacity import read_units
from globaltable.engine import GlobalTable, Prepared, Table
from globaltable.errors import condition_failed, validation
from globaltable.expressions import update
from globaltable.expressions.projection import project_paths
from globaltable.items import validated_size
from globaltable.request import (
    all_used,
    capacity_mode,
    check_size,
    choice,
    condition_of,
    field,
    names_values,
    old_on_failure,
    projection_of,
    table_of,
    write_capacity,
)
from globaltable.store import Entry, Key

Answer = dict[str, Any] | bytes | Awaitable[dict[str, Any]]
#: the private request field the HTTP layer fills from the `x-hothot-vid` header (deletes)
VID_FIELD = "x-hothot-vid"
RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


def checked_size(item: Any, updating: bool = False) -> int:
    """Validate an item and return its DynamoDB size, in one pass (this is the hot path)."""
    if not isinstance(item, dict):
        raise validation("1 validation error detected: Value at 'Item' must be a map")
    size = validated_size(item)
    check_size(size, updating)
    return size


class WriteOptions(NamedTuple):
    """A write request's table-independent parts, validated."""

    cond: Any  # Condition, LegacyCondition or None
    names: dict[str, str]
    values: dict[str, dict[str, Any]]
    rv: str
    old_back: bool
    update: Any = None  # Update, legacy AttributeUpdates or None


PLAIN = WriteOptions(None, {}, {}, "NONE", False)
#: PutItem fields that leave the condition, placeholders and ReturnValues at their defaults
_PLAIN_PUT = frozenset({"TableName", "Item", "ReturnConsumedCapacity", VID_FIELD})
_CONDITION = ("ConditionExpression",)
_EXPECTED = ("Expected", "ConditionalOperator")


def write_options(req: dict[str, Any], updating: bool = False) -> WriteOptions:
    """Validate the expression or legacy parameters of a put, delete or update."""
    if updating:
        legacy.check_mixing(
            req, ("UpdateExpression", *_CONDITION), ("AttributeUpdates", *_EXPECTED)
        )
    else:
        legacy.check_mixing(req, _CONDITION, _EXPECTED)
    names, values = names_values(req)
    cond = condition_of(req)
    if cond is None:
        cond = legacy.expected(req)
    upd = None
    if updating:
        text = field(req, "UpdateExpression", str)
        upd = update(text) if text is not None else legacyupdate.attribute_updates(req)
    all_used(names, values, upd, cond)
    rv = choice(req, "ReturnValues", RETURN_VALUES)
    if not updating and rv not in ("NONE", "ALL_OLD"):
        raise validation("ReturnValues can only be ALL_OLD or NONE")
    return WriteOptions(cond, names, values, rv, old_on_failure(req), upd)


Prepare = Callable[[Entry | None], Prepared]
#: a validated write: its key and what decides it against the current version
Plan = tuple[Key, Prepare]


def _judge(old: Entry | None, opts: WriteOptions, parse: bool) -> dict[str, Any] | None:
    """The current item (parsed when needed), after checking the write's condition on it."""
    old_item = old.item() if old is not None and old.image is not None and parse else None
    cond = opts.cond
    if cond is not None and not cond.evaluate(old_item, opts.names, opts.values):
        raise condition_failed(old_item if opts.old_back else None)
    return old_item


def plan_put(table: Table, item: dict[str, Any], size: int, opts: WriteOptions, rcc: str) -> Plan:
    """Bind a validated put to its table (batches and transactions validate all first)."""
    key = table.schema.of_item(item)
    table.check_item(item)
    parse = opts.cond is not None or opts.rv == "ALL_OLD" or table.parses_old(rcc)

    def prepare(old: Entry | None) -> Prepared:
        old_item = _judge(old, opts, parse)
        resp: dict[str, Any] = {}
        if opts.rv == "ALL_OLD" and old_item is not None:
            resp["Attributes"] = old_item
        write_capacity(resp, table, old, old_item, item, size, rcc)
        return Prepared(item, size, resp, old_item)

    return key, prepare


def put_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    opts = PLAIN if _PLAIN_PUT.issuperset(req) else write_options(req)
    size = checked_size(field(req, "Item", dict, True))
    table = table_of(gt, req, region)
    rcc = capacity_mode(req)
    key, prepare = plan_put(table, req["Item"], size, opts, rcc)
    return gt.write(table, region, key, prepare)


def plan_delete(table: Table, raw_key: Any, opts: WriteOptions, rcc: str, vid: Any) -> Plan:
    key = table.schema.of_key(raw_key)

    def prepare(old: Entry | None) -> Prepared:
        old_item = _judge(old, opts, True)
        resp: dict[str, Any] = {}
        if opts.rv == "ALL_OLD" and old_item is not None:
            resp["Attributes"] = old_item
        write_capacity(resp, table, old, old_item, None, 0, rcc)
        return Prepared(None, 0, resp, old_item, vid if isinstance(vid, str) else None)

    return key, prepare


def delete_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    opts = write_options(req)
    raw_key = field(req, "Key", dict, True)
    table = table_of(gt, req, region)
    key, prepare = plan_delete(table, raw_key, opts, capacity_mode(req), req.get(VID_FIELD))
    return gt.write(table, region, key, prepare)


def _returned(
    rv: str, old: dict[str, Any] | None, new: dict[str, Any], targets: Any
) -> dict[str, Any] | None:
    """UpdateItem's `Attributes` for ReturnValues `rv` (None for NONE): UPDATED_* return just
    the updated paths, nested ones included, as DynamoDB does. They project the paths as
    written: `SET l[100] = :v` appends to a shorter list, and DynamoDB returns nothing for it."""
    if rv == "NONE":
        return None
    if rv == "ALL_OLD":
        return old or {}
    if rv == "ALL_NEW":
        return new
    if rv == "UPDATED_OLD":
        return {} if old is None else project_paths(old, targets)
    return project_paths(new, targets)


def update_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    opts = write_options(req, updating=True)
    field(req, "Key", dict, True)
    table = table_of(gt, req, region)
    key, prepare = plan_update(table, req, opts, capacity_mode(req))
    return gt.write(table, region, key, prepare)


def plan_update(table: Table, req: dict[str, Any], opts: WriteOptions, rcc: str) -> Plan:
    raw_key = req["Key"]
    key = table.schema.of_key(raw_key)
    upd, key_names = opts.update, table.schema.names
    if upd is not None:
        for name in sorted(set(key_names).intersection(upd.top_names(opts.names))):
            raise _key_update(name)

    def prepare(old: Entry | None) -> Prepared:
        old_item = _judge(old, opts, True)
        base = old_item if old_item is not None else dict(raw_key)
        new, targets = base, []
        skip = old_item is None and upd is not None and upd.removes_only
        if skip:
            if not isinstance(upd, legacyupdate.AttributeUpdates):
                upd.validate(opts.names, opts.values)
        elif upd is not None:
            new, targets = _apply(upd, base, opts)
        table.check_item(new, updated=upd)
        size = checked_size(new, updating=True)
        resp: dict[str, Any] = {}
        attrs = None if skip else _returned(opts.rv, old_item, new, targets)
        if attrs:
            resp["Attributes"] = attrs
        write_capacity(resp, table, old, old_item, new, size, rcc)
        return Prepared(new, size, resp, old_item, skip=skip)

    return key, prepare


def _apply(upd: Any, base: dict[str, Any], opts: WriteOptions) -> tuple[dict, list]:
    if isinstance(upd, legacyupdate.AttributeUpdates):
        new, _ = upd.apply(base)
        return new, upd.targets
    return upd.apply_paths(base, opts.names, opts.values)


def _key_update(name: str) -> Exception:
    return validation(
        f"One or more parameter values were invalid: Cannot update attribute {name}. "
        "This attribute is part of the key"
    )


def read_options(req: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """The projection (ProjectionExpression or AttributesToGet) of a GetItem or BatchGetItem."""
    legacy.check_mixing(req, ("ProjectionExpression",), ("AttributesToGet",))
    proj = projection_of(req)
    if proj is None:
        proj = legacy.attributes_to_get(req)
    names, values = names_values(req)
    all_used(names, values, proj)
    return proj, names


def get_item(gt: GlobalTable, region: str, req: dict[str, Any]) -> Answer:
    proj, names = read_options(req)
    consistent = bool(field(req, "ConsistentRead", bool))
    rcc = capacity_mode(req)
    raw_key = field(req, "Key", dict, True)
    table = table_of(gt, req, region)
    key = table.schema.of_key(raw_key)
    entry = gt.read(table, region, key, consistent)
    image = None if entry is None else entry.image
    if proj is None and rcc == "NONE":
        return b"{}" if image is None else b'{"Item":' + image + b"}"
    resp: dict[str, Any] = {}
    if image is not None:
        item = orjson.loads(image)
        resp["Item"] = item if proj is None else proj.apply(item, names)
    units = read_units(entry.size if image else 0, consistent)  # type: ignore[union-attr]
    if rcc != "NONE":
        resp["ConsumedCapacity"] = table.read_capacity(units, rcc)
    return resp
