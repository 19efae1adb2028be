"""The JSON types of a request, checked against botocore's model of the operation's input, so
a value of the wrong type is the SerializationException DynamoDB's deserializer gives before
it validates anything (a mistyped field DynamoDB would refuse first, whatever else is wrong).

The check runs only when a request already failed (`type_error`): well-typed requests, the hot
path, never pay for the walk. botocore's model is the schema, so new members are covered.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from botocore.session import get_session

from globaltable.items import wrong_json_type

_JAVA = {"string": "String", "boolean": "Boolean", "integer": "Integer", "long": "Long"}
MAX_DEPTH = 40
_PACKAGE = "com.amazonaws.dynamodb.v20120810"


@cache
def _model(service: str) -> ServiceModel:
    return get_session().get_service_model(service)


def _input(service: str, operation: str) -> Shape | None:
    model = _model(service)
    if operation not in model.operation_names:
        return None
    return model.operation_model(operation).input_shape


def type_error(service: str, operation: str, body: Any) -> str | None:
    """DynamoDB's deserializer message for the first value of `body` of the wrong JSON type
    for the operation's input (None: every value has its type)."""
    shape = _input(service, operation)
    if shape is None or not isinstance(body, dict):
        return None
    return _walk(shape, body, 0)


def _walk(shape: Shape, value: Any, depth: int) -> str | None:
    if value is None or depth > MAX_DEPTH:
        return None
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if isinstance(value, list):
            return f"Unrecognized collection type class {_PACKAGE}.{shape.name}"
        if not isinstance(value, dict):
            return _message(value, "Map")
        for name, member in shape.members.items():
            found = _walk(member, value.get(name), depth + 1)
            if found:
                return found
        return None
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return _message(value, "List")
        for element in value:
            found = _walk(shape.member, element, depth + 1)
            if found:
                return found
        return None
    if isinstance(shape, MapShape):
        if isinstance(value, list):
            inner = _JAVA.get(shape.value.type_name) or f"{_PACKAGE}.{shape.value.name}"
            inner = inner if "." in inner else f"java.lang.{inner}"
            return f"Unrecognized collection type java.util.Map<java.lang.String, {inner}>"
        if not isinstance(value, dict):
            return _message(value, "Map")
        for element in value.values():
            found = _walk(shape.value, element, depth + 1)
            if found:
                return found
        return None
    return _leaf(kind, value)


def _leaf(kind: str, value: Any) -> str | None:
    if kind in ("string", "blob"):
        return None if isinstance(value, str) else _message(value, "String")
    if kind == "boolean":
        return None if isinstance(value, bool) else _message(value, "Boolean")
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _message(value, _JAVA[kind])
        return None
    if kind in ("double", "float"):
        return (
            None
            if isinstance(value, int | float) and not isinstance(value, bool)
            else _message(value, "Double")
        )
    if kind == "timestamp":
        return None if isinstance(value, int | float | str) else _message(value, "Date")
    return None


def _message(value: Any, java: str) -> str:
    return str(wrong_json_type(value, java, ""))
