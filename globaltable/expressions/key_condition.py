"""Key conditions of a Query: `KeyConditionExpression` (parsed here) and legacy
`KeyConditions` share one form, {attribute: (operator, values)} with DynamoDB's operator names
(EQ, LT, LE, GT, GE, BETWEEN, BEGINS_WITH); `bind_key_conditions` checks that form against a
key schema (the table's or an index's) and yields the hash value and a range predicate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from globaltable.expressions import values as semantics
from globaltable.expressions.condition import (
    And,
    Between,
    Compare,
    ConditionParser,
    Function,
    Node,
    Operand,
    PathOperand,
    SizeOperand,
    ValueOperand,
)
from globaltable.expressions.errors import ExpressionError
from globaltable.expressions.evaluate import show_value
from globaltable.expressions.paths import Path, check_defined, resolve
from globaltable.expressions.tokens import Cursor

LABEL = "KeyConditionExpression"
RangePredicate = Callable[[dict | None], bool]
#: {attribute: (operator, values)}
KeyConditions = dict[str, tuple[str, list[dict[str, Any]]]]
_OPERATORS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
#: a comparison with the value on the left reads the other way round (`:v < sk` is `sk > :v`)
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
NOT_INDEXABLE = ("NULL", "NOT_NULL", "NE", "CONTAINS", "NOT_CONTAINS", "IN")
#: one normalised part: (key path, operator, value placeholders)
Part = tuple[Path, str, tuple[str, ...]]


def _flatten(node: Node) -> list[Node]:
    if isinstance(node, And):
        return _flatten(node.left) + _flatten(node.right)
    return [node]


def _operator_name(node: Node) -> str:
    if isinstance(node, Function):
        return node.name
    return type(node).__name__.upper()


def _normalise(cursor: Cursor, part: Node) -> Part:
    """One condition as (key path, operator, value placeholders), with DynamoDB's messages."""
    if isinstance(part, Compare):
        if part.op == "<>":
            raise cursor.error("Unsupported operator on KeyConditionExpression: operator: <>")
        operands: tuple[Operand, ...] = (part.left, part.right)
        name = "="
    elif isinstance(part, Between):
        operands, name = (part.subject, part.low, part.high), "BETWEEN"
    elif isinstance(part, Function) and part.name == "begins_with":
        operands, name = part.args, "begins_with"
    else:
        raise cursor.error(
            f"Invalid operator used in KeyConditionExpression: {_operator_name(part)}"
        )
    if any(isinstance(o, SizeOperand) for o in operands):
        raise cursor.error("KeyConditionExpressions cannot contain nested operations")
    paths = [i for i, o in enumerate(operands) if isinstance(o, PathOperand)]
    if len(paths) > 1:
        raise cursor.error(
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
        )
    if not paths:
        raise cursor.error(
            "Invalid condition in KeyConditionExpression: No key attribute specified"
        )
    at = paths[0]
    if at != 0 and not isinstance(part, Compare):
        raise cursor.error(
            f"Invalid condition in KeyConditionExpression: {name} operator must have the key "
            "attribute as its first operand"
        )
    subject = operands[at]
    assert isinstance(subject, PathOperand)
    if len(subject.path) > 1:
        raise cursor.error("KeyConditionExpressions cannot have conditions on nested attributes")
    values = tuple(o.name for o in operands if isinstance(o, ValueOperand))
    if isinstance(part, Compare):
        op = part.op if at == 0 else _FLIPPED[part.op]
        return subject.path, _OPERATORS[op], values
    return subject.path, "BETWEEN" if name == "BETWEEN" else "BEGINS_WITH", values


class KeyCondition:
    """A parsed KeyConditionExpression."""

    __slots__ = ("expression", "parts", "names_used", "values_used")

    def __init__(self, expression: str) -> None:
        cursor = Cursor(expression, LABEL)
        tree = ConditionParser(cursor).parse()
        parts = [_normalise(cursor, part) for part in _flatten(tree)]
        if len(parts) > 2:
            raise cursor.error("KeyConditionExpressions must only contain one condition per key")
        self.expression = expression
        self.parts: tuple[Part, ...] = tuple(parts)
        self.names_used = tuple(sorted(cursor.names_used))
        self.values_used = tuple(sorted(cursor.values_used))

    def conditions(
        self, names: dict[str, str] | None, values: dict[str, dict] | None
    ) -> KeyConditions:
        """The conditions by attribute name, placeholders resolved."""
        names = names or {}
        values = values or {}
        check_defined(LABEL, self.names_used, self.values_used, names, values)
        out: KeyConditions = {}
        for path, operator, placeholders in self.parts:
            (attribute,) = resolve(path, names)
            if attribute in out:
                raise ExpressionError(
                    f"Invalid {LABEL}: KeyConditionExpressions must only contain one condition per key"
                )
            operands = [values[p] for p in placeholders]
            if operator == "BEGINS_WITH" and not ("S" in operands[0] or "B" in operands[0]):
                raise ExpressionError(
                    f"Invalid {LABEL}: Incorrect operand type for operator or function; "
                    f"operator or function: begins_with, operand type: {semantics.kind_of(operands[0])}"
                )
            if operator == "BETWEEN" and semantics.ordered(">", operands[0], operands[1]):
                raise ExpressionError(
                    f"Invalid {LABEL}: The BETWEEN operator requires upper bound to be greater "
                    "than or equal to lower bound; lower bound operand: AttributeValue: "
                    f"{show_value(operands[0])}, upper bound operand: AttributeValue: "
                    f"{show_value(operands[1])}"
                )
            out[str(attribute)] = (operator, operands)
        return out

    def bind(
        self,
        names: dict[str, str] | None,
        values: dict[str, dict] | None,
        hash_key: str,
        range_key: str | None,
        range_type: str | None = None,
    ) -> tuple[dict, RangePredicate | None]:
        """The hash key's value and a predicate on the range key's value (None: none)."""
        return bind_key_conditions(
            self.conditions(names, values), hash_key, None, range_key, range_type
        )


def bind_key_conditions(
    conditions: KeyConditions,
    hash_key: str,
    hash_type: str | None,
    range_key: str | None,
    range_type: str | None,
) -> tuple[dict, RangePredicate | None]:
    """Check key conditions against a key schema, in DynamoDB's order and words; return the
    hash value and a predicate on the range value. Types are checked when given: a value of
    another type would silently match nothing."""
    predicate: RangePredicate | None = None
    hash_value: dict | None = None
    for attribute, type_, is_hash in ((hash_key, hash_type, True), (range_key, range_type, False)):
        if attribute is None:
            continue
        if is_hash and range_key is None and len(conditions) > 1:
            raise ExpressionError("Query key condition not supported")
        if attribute not in conditions:
            if is_hash or len(conditions) > 1:
                raise ExpressionError(f"Query condition missed key schema element: {attribute}")
            continue
        operator, operands = conditions[attribute]
        if operator in NOT_INDEXABLE:
            raise ExpressionError("Attempted conditional constraint is not an indexable operation")
        if type_ is not None and any(type_ not in v for v in operands):
            raise ExpressionError(
                "One or more parameter values were invalid: Condition parameter type does not "
                "match schema type"
            )
        if is_hash:
            if operator != "EQ":
                raise ExpressionError("Query key condition not supported")
            hash_value = operands[0]
        else:
            predicate = range_predicate(operator, operands)
    assert hash_value is not None
    return hash_value, predicate


def range_predicate(operator: str, operands: list[dict[str, Any]]) -> RangePredicate:
    if operator == "BEGINS_WITH":
        prefix = operands[0]
        return lambda value: semantics.begins_with(value, prefix)
    if operator == "BETWEEN":
        low, high = operands
        return lambda value: semantics.between(value, low, high)
    bound = operands[0]
    if operator == "EQ":
        return lambda value: semantics.equal(value, bound)
    op = {"LT": "<", "LE": "<=", "GT": ">", "GE": ">="}[operator]
    return lambda value: semantics.ordered(op, value, bound)
