"""Reading DynamoDB request bodies: typed fields with errors that name the field, and the
parts several operations share (table, expressions, ReturnValues, consumed capacity)."""

from __future__ import annotations

import math
import re
from typing import Any

from globaltable.capacity import consumed
from globaltable.engine import GlobalTable
from globaltable.errors import DynamoError, not_found, validation
from globaltable.expressions import check_unused, condition, projection
from globaltable.items import name_fault, wrong_json_type
from globaltable.store import Entry
from globaltable.table import Table

NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_NAME_KEY = re.compile(r"#[0-9A-Za-z_]+")
_VALUE_KEY = re.compile(r":[0-9A-Za-z_]+")
MAX_ITEM_BYTES = 400 * 1024


def field(req: dict[str, Any], name: str, kind: type, required: bool = False) -> Any:
    """A typed request field. A JSON value of the wrong type is a SerializationException, as
    DynamoDB's deserializer reports it; a missing required one a ValidationException."""
    value = req.get(name)
    if value is None:
        if required:
            raise validation(
                f"1 validation error detected: Value null at '{lower_first(name)}' failed to "
                "satisfy constraint: Member must not be null"
            )
        return None
    if type(value) is kind:
        return value
    if kind is int and type(value) is float and math.isfinite(value):
        return int(value)  # DynamoDB's deserializer truncates a decimal into an integer field
    raise serialization_error(value, kind)


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


_JAVA = {str: "String", bool: "Boolean", int: "Integer", list: "List", dict: "Map"}


def serialization_error(value: Any, kind: type) -> DynamoError:
    """DynamoDB's SerializationException for a JSON value of the wrong type."""
    message = str(wrong_json_type(value, _JAVA.get(kind, kind.__name__), ""))
    return DynamoError("SerializationException", message)


def choice(req: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = field(req, name, str)
    if value is None:
        return allowed[0]
    if value not in allowed:
        raise validation(
            f"1 validation error detected: Value '{value}' at '{lower_first(name)}' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return value


def check_name(name: Any, what: str = "TableName") -> str:
    if not isinstance(name, str):
        raise validation(
            f"1 validation error detected: Value null at '{lower_first(what)}' failed to satisfy "
            "constraint: Member must not be null"
        )
    if not 3 <= len(name) <= 255:
        raise validation(
            f"{what} must be at least 3 characters long and at most 255 characters long"
        )
    if NAME.fullmatch(name) is None:
        raise validation(
            f"1 validation error detected: Value '{name}' at '{lower_first(what)}' failed to "
            f"satisfy constraint: Member must satisfy regular expression pattern: {NAME.pattern}"
        )
    return name


def table_of(gt: GlobalTable, req: dict[str, Any], region: str | None = None) -> Table:
    """The request's table, as the region sees it: a table without a replica there (removed
    by ReplicaUpdates) is not found, as on DynamoDB."""
    name = field(req, "TableName", str, required=True)
    table = gt.tables.get(name)
    if table is None:
        check_name(name)  # an existing table's name was checked when it was created
    if table is None or (region is not None and region not in table.replicas):
        raise not_found(name)
    return table


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
        if _NAME_KEY.fullmatch(k) is None:
            raise validation(
                f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{k}"'
            )
        if not isinstance(v, str):
            raise validation(f"ExpressionAttributeNames: value of {k} must be a string")
        fault = name_fault(v)
        if fault is not None:
            raise validation(
                f"ExpressionAttributeNames contains invalid value: {fault} for key {k}"
            )
    for k, v in values.items():
        if _VALUE_KEY.fullmatch(k) is None:
            raise validation(
                f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{k}"'
            )
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


def write_capacity(
    resp: dict[str, Any],
    table: Table,
    old: Entry | None,
    old_item: Any,
    new_item: Any,
    size: int,
    mode: str,
) -> None:
    """A write's ConsumedCapacity, its index writes included (`old_item` is needed only for
    tables with indexes: `Table.parses_old`)."""
    if mode != "NONE":
        resp["ConsumedCapacity"] = table.write_capacity(old, old_item, new_item, size, mode)


def check_size(size: int, updating: bool = False) -> None:
    """The 400 KB item limit, in DynamoDB's words (UpdateItem has its own)."""
    if size > MAX_ITEM_BYTES:
        what = "Item size to update" if updating else "Item size"
        raise validation(f"{what} has exceeded the maximum allowed size")
