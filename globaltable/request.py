"""Reading DynamoDB request bodies: typed fields with errors that name the field, and the
parts several operations share (table, expressions, ReturnValues, consumed capacity)."""

from __future__ import annotations

from typing import Any

from globaltable.capacity import consumed
from globaltable.engine import GlobalTable, Table
from globaltable.errors import not_found, validation
from globaltable.expressions import check_unused, condition, projection

_TYPE_NAMES = {str: "a string", dict: "a map", list: "a list", bool: "a boolean", int: "an integer"}
MAX_ITEM_BYTES = 400 * 1024


def field(req: dict[str, Any], name: str, kind: type, required: bool = False) -> Any:
    value = req.get(name)
    if value is None:
        if required:
            raise validation(
                f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
            )
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise validation(
            f"1 validation error detected: Value at '{name}' must be {_TYPE_NAMES.get(kind, kind.__name__)}"
        )
    return value


def choice(req: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = field(req, name, str)
    if value is None:
        return allowed[0]
    if value not in allowed:
        raise validation(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy enum value set: {list(allowed)}"
        )
    return value


def table_of(gt: GlobalTable, req: dict[str, Any]) -> Table:
    name = field(req, "TableName", str, required=True)
    table = gt.tables.get(name)
    if table is None:
        raise not_found(name)
    return table


_LEGACY = (
    "Expected",
    "AttributeUpdates",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "AttributesToGet",
    "ConditionalOperator",
)


_LEGACY_NAMES = frozenset(_LEGACY)


def no_legacy(req: dict[str, Any]) -> None:
    if _LEGACY_NAMES.isdisjoint(req):
        return
    for name in _LEGACY:
        if name in req:
            raise validation(
                f"legacy parameter {name} is not supported by the hothot emulator; use the expression parameters instead"
            )


def names_values(req: dict[str, Any]) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    names = field(req, "ExpressionAttributeNames", dict)
    values = field(req, "ExpressionAttributeValues", dict)
    if names is None:
        names = {}
    elif not names:
        raise validation("ExpressionAttributeNames must not be empty")
    if values is None:
        values = {}
    elif not values:
        raise validation("ExpressionAttributeValues must not be empty")
    for k, v in names.items():
        if not isinstance(v, str):
            raise validation(f"ExpressionAttributeNames: value of {k} must be a string")
    for k, v in values.items():
        if not isinstance(v, dict):
            raise validation(
                f"ExpressionAttributeValues: value of {k} must be an attribute value map"
            )
    return names, values


def all_used(names: dict[str, str], values: dict[str, Any], *parsed: Any) -> None:
    """DynamoDB rejects ExpressionAttributeNames/Values that no expression uses."""
    if names or values:
        check_unused(names, values, *parsed)


def condition_of(req: dict[str, Any], name: str = "ConditionExpression") -> Any:
    text = field(req, name, str)
    return None if text is None else condition(text, name)


def old_on_failure(req: dict[str, Any]) -> bool:
    """Whether a failed condition returns the current item (ReturnValuesOnConditionCheckFailure
    ALL_OLD): optimistic-locking code reads the winning version from the error."""
    return choice(req, "ReturnValuesOnConditionCheckFailure", ("NONE", "ALL_OLD")) == "ALL_OLD"


def projection_of(req: dict[str, Any]) -> Any:
    text = field(req, "ProjectionExpression", str)
    return None if text is None else projection(text)


def capacity_mode(req: dict[str, Any]) -> str:
    return choice(req, "ReturnConsumedCapacity", ("NONE", "TOTAL", "INDEXES"))


def add_capacity(resp: dict[str, Any], table: str, units: float, mode: str, write: bool) -> None:
    if mode != "NONE":
        resp["ConsumedCapacity"] = consumed(table, units, mode, write)


def check_size(size: int) -> None:
    if size > MAX_ITEM_BYTES:
        raise validation(
            f"Item size has exceeded the maximum allowed size ({size} bytes > {MAX_ITEM_BYTES})"
        )
