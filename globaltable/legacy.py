"""DynamoDB's legacy (pre-expression) parameters: `Expected` + `ConditionalOperator`,
`KeyConditions`, `QueryFilter`, `ScanFilter`, `AttributesToGet` (`AttributeUpdates` is in
`legacyupdate.py`).

Each is validated with DynamoDB's messages and turned into an object with the interface of
its expression counterpart (`evaluate`, `apply`, `names_used`, ...), so the engine, the
replication and the ground truth never know which form a request used. Semantics follow the
API reference's `Condition` / `ExpectedAttributeValue` / `AttributeValueUpdate` pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from globaltable.errors import INVALID, validation
from globaltable.expressions import values as semantics
from globaltable.items import (
    ALL_TYPES,
    ItemError,
    ItemSerializationError,
    name_fault,
    validate_value,
)

#: how many values each ComparisonOperator takes (None: one or more)
ARGUMENTS: dict[str, int | None] = {
    "EQ": 1,
    "NE": 1,
    "LE": 1,
    "LT": 1,
    "GE": 1,
    "GT": 1,
    "CONTAINS": 1,
    "NOT_CONTAINS": 1,
    "BEGINS_WITH": 1,
    "NULL": 0,
    "NOT_NULL": 0,
    "IN": None,
    "BETWEEN": 2,
}
_SCALAR = ("S", "N", "B")
#: value types each operator accepts (API reference, `Condition.ComparisonOperator`)
VALUE_TYPES = {
    # the reference lists scalars and sets; DynamoDB accepts (and compares) lists, maps and
    # booleans too, as observed (tested against DynamoDB by scylladb's test_query_filter.py)
    "EQ": ALL_TYPES,
    "NE": ALL_TYPES,
    "BEGINS_WITH": ("S", "B"),
}
KEY_OPERATORS = ("EQ", "LE", "LT", "GE", "GT", "BEGINS_WITH", "BETWEEN")
Test = Callable[[dict[str, Any]], bool]


def check_mixing(
    req: dict[str, Any], expressions: tuple[str, ...], legacy: tuple[str, ...]
) -> None:
    """DynamoDB refuses a request mixing expression and legacy parameters, and expression
    attribute names/values without an expression that could use them."""
    used = [name for name in expressions if req.get(name) is not None]
    if used:
        old = [name for name in legacy if req.get(name) is not None]
        if "KeyConditions" in old and req.get("KeyConditionExpression") is None:
            old.remove("KeyConditions")  # KeyConditions may go with a FilterExpression
        if old:
            raise validation(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(old)}}} "
                f"Expression parameters: {{{', '.join(used)}}}"
            )
    if req.get("ExpressionAttributeNames") is not None and not used:
        raise validation("ExpressionAttributeNames can only be specified when using expressions")
    with_values = [name for name in expressions if name != "ProjectionExpression"]
    if (
        with_values
        and req.get("ExpressionAttributeValues") is not None
        and all(req.get(name) is None for name in with_values)
    ):
        verb = "are" if len(with_values) > 1 else "is"
        raise validation(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(with_values)} {verb} null"
        )


def checked_value(raw: Any) -> dict[str, Any]:
    try:
        validate_value(raw, "")
    except ItemSerializationError:
        raise
    except ItemError as exc:
        raise validation(str(exc).removesuffix("; attribute: ")) from None
    return raw


def check_attribute_name(name: str) -> None:
    fault = name_fault(name)
    if fault is not None:
        raise validation(f"{INVALID}{fault}")


def value_kind(value: dict[str, Any]) -> str:
    return next(iter(value))


def _operands(operator: str, values: list[Any], check_types: bool) -> list[dict[str, Any]]:
    """Validate one condition's AttributeValueList against its operator."""
    checked = [checked_value(v) for v in values]
    wanted = ARGUMENTS[operator]
    if (wanted is None and not checked) or (wanted is not None and len(checked) != wanted):
        raise validation(
            f"{INVALID}Invalid number of argument(s) for the {operator} ComparisonOperator"
        )
    if checked and any(value_kind(v) != value_kind(checked[0]) for v in checked):
        raise validation(f"{INVALID}AttributeValues inside AttributeValueList must be of same type")
    if check_types:
        allowed = VALUE_TYPES.get(operator, _SCALAR)
        for v in checked:
            if value_kind(v) not in allowed:
                raise validation(
                    f"{INVALID}ComparisonOperator {operator} is not valid for {value_kind(v)} "
                    "AttributeValue type"
                )
    if operator == "BETWEEN" and semantics.ordered(">", checked[0], checked[1]):
        raise validation(
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound"
        )
    return checked


def _test(name: str, operator: str, operands: list[dict[str, Any]]) -> Test:
    """The predicate of one legacy condition on attribute `name`."""
    first = operands[0] if operands else None
    if operator == "NULL":
        return lambda item: name not in item
    if operator == "NOT_NULL":
        return lambda item: name in item
    if operator == "EQ":
        return lambda item: semantics.equal(item.get(name), first)
    if operator == "NE":
        return lambda item: not semantics.equal(item.get(name), first)
    if operator in ("LE", "LT", "GE", "GT"):
        op = {"LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}[operator]
        return lambda item: semantics.ordered(op, item.get(name), first)
    if operator == "CONTAINS":
        return lambda item: semantics.contains(item.get(name), first)
    if operator == "NOT_CONTAINS":
        # hothot's reading: a missing attribute neither contains nor "not contains" a value
        return lambda item: name in item and not semantics.contains(item[name], first)
    if operator == "BEGINS_WITH":
        return lambda item: semantics.begins_with(item.get(name), first)
    if operator == "IN":
        return lambda item: any(semantics.equal(item.get(name), o) for o in operands)
    low, high = operands
    return lambda item: semantics.between(item.get(name), low, high)


def _operator(spec: dict[str, Any], where: str) -> str:
    operator = spec.get("ComparisonOperator")
    if operator not in ARGUMENTS:
        raise validation(
            f"1 validation error detected: Value '{operator}' at '{where}.comparisonOperator' "
            "failed to satisfy constraint: Member must satisfy enum value set: "
            "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        )
    return operator


def _value_list(spec: dict[str, Any]) -> list[Any]:
    values = spec.get("AttributeValueList")
    if values is None:
        return []
    if not isinstance(values, list):
        raise validation("AttributeValueList must be a list of attribute values")
    return values


def parameter_map(req: dict[str, Any], field: str) -> dict[str, Any]:
    conditions = req[field]
    if not isinstance(conditions, dict):
        raise validation(f"1 validation error detected: Value at '{field}' must be a map")
    for name, spec in conditions.items():
        if not isinstance(spec, dict):
            raise validation(f"{field}.{name} must be a map")
    return conditions


class LegacyCondition:
    """`Expected`, `QueryFilter` or `ScanFilter`: conditions joined by AND (or OR, by
    ConditionalOperator), with the interface of a parsed ConditionExpression."""

    names_used: tuple[str, ...] = ()
    values_used: tuple[str, ...] = ()

    def __init__(self, tests: list[Test], any_of: bool, roots: frozenset[str]) -> None:
        self.tests = tests
        self.any_of = any_of
        self.roots = roots

    def evaluate(self, item: dict | None, names: Any = None, values: Any = None) -> bool:
        item = item or {}
        if self.any_of:
            return any(test(item) for test in self.tests)
        return all(test(item) for test in self.tests)


def _lone_operator(req: dict[str, Any], field: str) -> None:
    """ConditionalOperator joins conditions: without any (`field` missing or empty), DynamoDB
    refuses it rather than ignore it."""
    if req.get("ConditionalOperator") is not None:
        raise validation(f"{INVALID}ConditionalOperator can only be used together with {field}")


def _joiner(req: dict[str, Any]) -> bool:
    joiner = req.get("ConditionalOperator")
    if joiner is not None and joiner not in ("AND", "OR"):
        raise validation(
            f"1 validation error detected: Value '{joiner}' at 'conditionalOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [OR, AND]"
        )
    return joiner == "OR"


def expected(req: dict[str, Any]) -> LegacyCondition | None:
    """`Expected` (+ `ConditionalOperator`) of PutItem, UpdateItem, DeleteItem."""
    if req.get("Expected") is None or req["Expected"] == {}:
        _lone_operator(req, "Expected")
        return None
    any_of = _joiner(req)
    tests = []
    for name, spec in parameter_map(req, "Expected").items():
        tests.append(_expected_test(name, spec))
    return LegacyCondition(tests, any_of, frozenset(req["Expected"]))


def _expected_test(name: str, spec: dict[str, Any]) -> Test:
    if "AttributeValueList" in spec and "Value" in spec:
        raise validation(
            f"{INVALID}Value and AttributeValueList cannot be used together for Attribute: {name}"
        )
    if "ComparisonOperator" in spec:
        if "Exists" in spec:
            raise validation(
                f"{INVALID}Exists and ComparisonOperator cannot be used together for Attribute: {name}"
            )
        operator = _operator(spec, f"expected.{name}.member")
        raw = [spec["Value"]] if "Value" in spec else _value_list(spec)
        if operator not in ("NULL", "NOT_NULL") and not raw:
            raise validation(
                f"{INVALID}Value or AttributeValueList must be used with ComparisonOperator: "
                f"{operator} for Attribute: {name}"
            )
        return _test(name, operator, _operands(operator, raw, True))
    if "AttributeValueList" in spec:
        raise validation(
            f"{INVALID}AttributeValueList can only be used with a ComparisonOperator for "
            f"Attribute: {name}"
        )
    exists = spec.get("Exists")
    if exists is not None and not isinstance(exists, bool):
        raise validation(f"Expected.{name}.Exists must be a boolean")
    value = spec.get("Value")
    if exists is not False and value is None:
        shown = "null" if exists is None else "true"
        raise validation(
            f"{INVALID}Value must be provided when Exists is {shown} for Attribute: {name}"
        )
    if exists is False:
        if value is not None:
            raise validation(
                f"{INVALID}Value cannot be used when Exists is false for Attribute: {name}"
            )
        return _test(name, "NULL", [])
    return _test(name, "EQ", [checked_value(value)])


def filter_conditions(req: dict[str, Any], field: str) -> LegacyCondition | None:
    """`QueryFilter` / `ScanFilter` (+ `ConditionalOperator`)."""
    if req.get(field) is None:
        _lone_operator(req, field)
        return None
    any_of = _joiner(req)
    tests = []
    conditions = parameter_map(req, field)
    for name, spec in conditions.items():
        operator = _operator(spec, f"{field[0].lower()}{field[1:]}.{name}.member")
        tests.append(_test(name, operator, _operands(operator, _value_list(spec), True)))
    return LegacyCondition(tests, any_of, frozenset(conditions))


def key_conditions(req: dict[str, Any]) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """`KeyConditions` as {attribute: (operator, values)}, the form key conditions take."""
    conditions = parameter_map(req, "KeyConditions")
    out = {}
    for name, spec in conditions.items():
        operator = _operator(spec, f"keyConditions.{name}.member")
        out[name] = (operator, _operands(operator, _value_list(spec), True))
    if len(out) not in (1, 2):
        raise validation("Conditions can be of length 1 or 2 only")
    return out


class AttributesToGet:
    """`AttributesToGet`, with the interface of a parsed ProjectionExpression."""

    names_used: tuple[str, ...] = ()
    values_used: tuple[str, ...] = ()

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.paths = tuple((n,) for n in names)

    def apply(self, item: dict[str, Any], names: Any = None) -> dict[str, Any]:
        return {n: item[n] for n in self.names if n in item}


def attributes_to_get(req: dict[str, Any]) -> AttributesToGet | None:
    names = req.get("AttributesToGet")
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise validation("AttributesToGet must be a list of attribute names")
    if not names:
        raise validation(
            "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    seen: set[str] = set()
    for n in names:
        check_attribute_name(n)
        if n in seen:
            raise validation(f"{INVALID}Duplicate value in attribute name: {n}")
        seen.add(n)
    return AttributesToGet(names)
