"""`AttributeUpdates` of UpdateItem (the legacy form of UpdateExpression): PUT, ADD on numbers,
sets and lists, DELETE of an attribute or of set elements, with DynamoDB's messages. The
object has the interface of a parsed UpdateExpression, so the engine never knows which form a
request used."""

from __future__ import annotations

from typing import Any

from globaltable.errors import INVALID, validation
from globaltable.expressions.update import add_value, delete_value
from globaltable.legacy import (
    check_attribute_name,
    checked_value,
    parameter_map,
    value_kind,
)

_ACTIONS = ("ADD", "PUT", "DELETE")
_ADDABLE = ("N", "SS", "NS", "BS", "L")
_SETS = ("SS", "NS", "BS")
MISMATCH = "Type mismatch for attribute to update"


class AttributeUpdates:
    """`AttributeUpdates` of UpdateItem, with the interface of a parsed UpdateExpression."""

    names_used: tuple[str, ...] = ()
    values_used: tuple[str, ...] = ()

    def __init__(self, actions: list[tuple[str, str, dict[str, Any] | None]]) -> None:
        self.actions = actions
        self.targets = [(name,) for name, _, _ in actions]
        # only DELETEs: a missing item stays missing (an empty AttributeUpdates creates it)
        self.removes_only = bool(actions) and all(a == "DELETE" for _, a, _ in actions)

    def top_names(self, names: Any = None) -> set[str]:
        return {name for name, _, _ in self.actions}

    def apply(self, item: dict, names: Any = None, values: Any = None) -> tuple[dict, set[str]]:
        result = dict(item)
        for name, action, value in self.actions:
            existing = result.get(name)
            if action == "PUT":
                result[name] = value
            elif action == "DELETE":
                if value is None:
                    result.pop(name, None)
                elif existing is not None:
                    if value_kind(existing) != value_kind(value):
                        raise validation(MISMATCH)
                    remaining = delete_value(existing, value)
                    if remaining is None:
                        del result[name]
                    else:
                        result[name] = remaining
            else:
                result[name] = _legacy_add(existing, value)  # type: ignore[arg-type]
        return result, {name for name, _, _ in self.actions}


def _legacy_add(existing: dict | None, value: dict) -> dict:
    if existing is None:
        return value
    kind = value_kind(value)
    if value_kind(existing) != kind:
        raise validation(MISMATCH)
    if kind == "L":
        return {"L": existing["L"] + value["L"]}
    return add_value(existing, value)


def attribute_updates(req: dict[str, Any]) -> AttributeUpdates | None:
    if req.get("AttributeUpdates") is None:
        return None
    actions = []
    for name, spec in parameter_map(req, "AttributeUpdates").items():
        check_attribute_name(name)
        action = spec.get("Action", "PUT")
        if action not in _ACTIONS:
            raise validation(
                f"1 validation error detected: Value '{action}' at "
                f"'attributeUpdates.{name}.member.action' failed to satisfy constraint: Member "
                "must satisfy enum value set: [ADD, PUT, DELETE]"
            )
        value = spec.get("Value")
        if value is not None:
            value = checked_value(value)
        if value is None and action != "DELETE":
            raise validation(
                f"{INVALID}Only DELETE action is allowed when no attribute value is specified"
            )
        if value is not None and action == "DELETE" and value_kind(value) not in _SETS:
            raise validation(
                f"{INVALID}DELETE action with value is not supported for the type {value_kind(value)}"
            )
        if value is not None and action == "ADD" and value_kind(value) not in _ADDABLE:
            raise validation(
                f"{INVALID}ADD action is not supported for the type {value_kind(value)}"
            )
        actions.append((name, action, value))
    return AttributeUpdates(actions)
