"""KeyConditionExpression: `hash = :v` and optionally one range-key condition.

Parsed with the condition grammar, then checked for the narrow shape Query accepts; `bind`
turns it into the hash value and a predicate over the range attribute's value.
"""

from __future__ import annotations

from collections.abc import Callable

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
    ValueOperand,
)
from globaltable.expressions.errors import ExpressionError
from globaltable.expressions.paths import check_defined, resolve
from globaltable.expressions.tokens import Cursor

LABEL = "KeyConditionExpression"
RangePredicate = Callable[[dict | None], bool]


def _flatten(node: Node) -> list[Node]:
    if isinstance(node, And):
        return _flatten(node.left) + _flatten(node.right)
    return [node]


def _operator_name(node: Node) -> str:
    if isinstance(node, Function):
        return node.name
    return type(node).__name__.upper()


class KeyCondition:
    """A parsed KeyConditionExpression."""

    __slots__ = ("expression", "parts", "names_used", "values_used")

    def __init__(self, expression: str) -> None:
        cursor = Cursor(expression, LABEL)
        tree = ConditionParser(cursor).parse()
        parts = _flatten(tree)
        for part in parts:
            self._check_part(cursor, part)
        if len(parts) > 2:
            raise cursor.error("KeyConditionExpressions must only contain one condition per key")
        self.expression = expression
        self.parts = tuple(parts)
        self.names_used = tuple(sorted(cursor.names_used))
        self.values_used = tuple(sorted(cursor.values_used))

    @staticmethod
    def _check_part(cursor: Cursor, part: Node) -> None:
        if isinstance(part, Compare):
            if part.op == "<>":
                raise cursor.error("Unsupported operator on KeyConditionExpression: operator: <>")
            operands: tuple[Operand, ...] = (part.left, part.right)
        elif isinstance(part, Between):
            operands = (part.subject, part.low, part.high)
        elif isinstance(part, Function) and part.name == "begins_with":
            operands = part.args
        else:
            raise cursor.error(
                f"Invalid operator used in KeyConditionExpression: {_operator_name(part)}"
            )
        subject, *rest = operands
        if not isinstance(subject, PathOperand) or not all(
            isinstance(o, ValueOperand) for o in rest
        ):
            raise cursor.error(
                "Invalid condition in KeyConditionExpression: the left operand must be a key "
                "attribute and the others expression attribute values"
            )
        if len(subject.path) > 1:
            raise cursor.error(
                "KeyConditionExpressions cannot have conditions on nested attributes"
            )

    def bind(
        self,
        names: dict[str, str] | None,
        values: dict[str, dict] | None,
        hash_key: str,
        range_key: str | None,
        range_type: str | None = None,
    ) -> tuple[dict, RangePredicate | None]:
        """The hash key's value and a predicate on the range key's value (None: no condition).
        With `range_type` (S, N or B), values of another type are refused, as DynamoDB does:
        they would otherwise silently match nothing."""
        names = names or {}
        values = values or {}
        check_defined(LABEL, self.names_used, self.values_used, names, values)
        hash_value: dict | None = None
        predicate: RangePredicate | None = None
        seen: set[str] = set()
        for part in self.parts:
            subject = (
                part.args[0]
                if isinstance(part, Function)
                else (part.left if isinstance(part, Compare) else part.subject)
            )
            (attribute,) = resolve(subject.path, names)  # type: ignore[union-attr]
            if attribute in seen:
                raise ExpressionError(
                    f"Invalid {LABEL}: KeyConditionExpressions must only contain one condition per key"
                )
            seen.add(attribute)  # type: ignore[arg-type]
            if attribute == hash_key:
                if not (isinstance(part, Compare) and part.op == "="):
                    raise ExpressionError("Query key condition not supported")
                hash_value = values[part.right.name]  # type: ignore[union-attr]
            elif attribute == range_key:
                if range_type is not None:
                    _check_range_types(part, values, range_type)
                predicate = _range_predicate(part, values)
            else:
                raise ExpressionError(
                    f"Query condition missed key schema element: {range_key or hash_key}; "
                    f"{attribute} is not a key attribute"
                )
        if hash_value is None:
            raise ExpressionError(f"Query condition missed key schema element: {hash_key}")
        return hash_value, predicate


def _check_range_types(part: Node, values: dict[str, dict], range_type: str) -> None:
    if isinstance(part, Function):
        operands = part.args[1:]
        if range_type == "N":
            raise ExpressionError(
                f"Invalid {LABEL}: Incorrect operand type for operator or function; "
                "operator or function: begins_with, operand type: N"
            )
    elif isinstance(part, Between):
        operands = (part.low, part.high)
    else:
        operands = (part.right,)  # type: ignore[union-attr]
    for operand in operands:
        if range_type not in values[operand.name]:  # type: ignore[union-attr]
            raise ExpressionError(
                "One or more parameter values were invalid: Condition parameter type does not "
                "match schema type"
            )


def _range_predicate(part: Node, values: dict[str, dict]) -> RangePredicate:
    if isinstance(part, Function):
        prefix = values[part.args[1].name]  # type: ignore[union-attr]
        return lambda value: semantics.begins_with(value, prefix)
    if isinstance(part, Between):
        low = values[part.low.name]  # type: ignore[union-attr]
        high = values[part.high.name]  # type: ignore[union-attr]

        return lambda value: semantics.between(value, low, high)
    assert isinstance(part, Compare)
    bound = values[part.right.name]  # type: ignore[union-attr]
    op = part.op
    if op == "=":
        return lambda value: semantics.equal(value, bound)

    return lambda value: semantics.ordered(op, value, bound)
