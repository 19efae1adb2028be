"""Compile a condition tree into nested closures: one Python call per node per evaluation.

Every closure takes `(item, names, values)`; placeholders are checked for definition before
the first call (see `Condition.evaluate`), so lookups here never miss.
"""

from __future__ import annotations

from collections.abc import Callable

from globaltable.expressions import values as semantics
from globaltable.expressions.condition import (
    And,
    Between,
    Compare,
    Function,
    In,
    Node,
    Not,
    Operand,
    Or,
    SizeOperand,
    ValueOperand,
)
from globaltable.expressions.errors import ExpressionError
from globaltable.expressions.paths import Path, get
from globaltable.items import ALL_TYPES

Getter = Callable[[dict, dict, dict], dict | None]
Test = Callable[[dict, dict, dict], bool]


def path_getter(path: Path) -> Getter:
    """A closure reading `path` from an item, resolving `#name` placeholders per call."""
    if len(path) == 1:
        (element,) = path
        if isinstance(element, str) and element[0] == "#":
            return lambda item, names, values: item.get(names[element])
        return lambda item, names, values: item.get(element)
    if not any(isinstance(e, str) and e[0] == "#" for e in path):
        return lambda item, names, values: get(item, path)
    return lambda item, names, values: get(
        item, tuple(names[e] if isinstance(e, str) and e[0] == "#" else e for e in path)
    )


def operand_getter(operand: Operand) -> Getter:
    if isinstance(operand, ValueOperand):
        name = operand.name
        return lambda item, names, values: values[name]
    if isinstance(operand, SizeOperand) and operand.value is not None:
        value = operand.value
        return lambda item, names, values: semantics.size_of(values[value])
    read = path_getter(operand.path)
    if isinstance(operand, SizeOperand):
        return lambda item, names, values: semantics.size_of(read(item, names, values))
    return read


def compile_condition(node: Node, label: str) -> Test:
    """The closure testing `node` against an item."""
    if isinstance(node, And):
        left, right = compile_condition(node.left, label), compile_condition(node.right, label)
        return lambda item, names, values: left(item, names, values) and right(item, names, values)
    if isinstance(node, Or):
        left, right = compile_condition(node.left, label), compile_condition(node.right, label)
        return lambda item, names, values: left(item, names, values) or right(item, names, values)
    if isinstance(node, Not):
        inner = compile_condition(node.inner, label)
        return lambda item, names, values: not inner(item, names, values)
    if isinstance(node, Compare):
        return _compile_compare(node)
    if isinstance(node, Between):
        return _compile_between(node)
    if isinstance(node, In):
        subject = operand_getter(node.subject)
        options = [operand_getter(o) for o in node.options]
        return lambda item, names, values: _is_in(
            subject(item, names, values), options, item, names, values
        )
    return _compile_function(node, label)


def _is_in(
    value: dict | None, options: list[Getter], item: dict, names: dict, values: dict
) -> bool:
    return value is not None and any(
        semantics.equal(value, o(item, names, values)) for o in options
    )


def _compile_compare(node: Compare) -> Test:
    left, right = operand_getter(node.left), operand_getter(node.right)
    if node.op == "=":
        return lambda item, names, values: semantics.equal(
            left(item, names, values), right(item, names, values)
        )
    if node.op == "<>":  # a missing operand differs from any value (as DynamoDB, moto, dynalite)
        return lambda item, names, values: (
            not semantics.equal(left(item, names, values), right(item, names, values))
        )
    op = node.op
    return lambda item, names, values: semantics.ordered(
        op, left(item, names, values), right(item, names, values)
    )


def _compile_between(node: Between) -> Test:
    subject, low, high = (operand_getter(o) for o in (node.subject, node.low, node.high))
    return lambda item, names, values: semantics.between(
        subject(item, names, values), low(item, names, values), high(item, names, values)
    )


def check_bounds(low: dict, high: dict, label: str) -> None:
    """BETWEEN with both bounds from the request: DynamoDB refuses bounds of two types or in
    the wrong order (a ValidationException, not a false condition)."""
    bounds = semantics.ordered_pair(low, high)
    where = (
        f"lower bound operand: AttributeValue: {show_value(low)}, "
        f"upper bound operand: AttributeValue: {show_value(high)}"
    )
    if bounds is None and semantics.kind_of(low) != semantics.kind_of(high):
        raise ExpressionError(
            f"Invalid {label}: The BETWEEN operator requires same data type for lower and upper "
            f"bounds; {where}"
        )
    if bounds is not None and bounds[0] > bounds[1]:  # type: ignore[operator]
        raise ExpressionError(
            f"Invalid {label}: The BETWEEN operator requires upper bound to be greater than "
            f"or equal to lower bound; {where}"
        )


def show_value(value: dict | None) -> str:
    if value is None:
        return "{}"
    ((kind, data),) = value.items()
    return "{" + f"{kind}:{data}" + "}"


def _compile_function(node: Function, label: str) -> Test:
    name = node.name
    first = operand_getter(node.args[0])
    if name == "attribute_exists":
        return lambda item, names, values: first(item, names, values) is not None
    if name == "attribute_not_exists":
        return lambda item, names, values: first(item, names, values) is None
    second = operand_getter(node.args[1])
    second_is_value = isinstance(node.args[1], ValueOperand)
    if name == "attribute_type":

        def has_type(item: dict, names: dict, values: dict) -> bool:
            wanted = second(item, names, values) or {}
            type_name = wanted.get("S")
            if type_name is None:
                raise _operand_type_error(label, name, wanted)
            if type_name not in ALL_TYPES:
                raise ExpressionError(
                    f"Invalid {label}: Invalid attribute type name found in type function; "
                    f"type: {type_name}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                )
            value = first(item, names, values)
            return value is not None and type_name in value

        return has_type
    if name == "begins_with":

        def starts(item: dict, names: dict, values: dict) -> bool:
            prefix = second(item, names, values)
            if second_is_value and prefix is not None and "S" not in prefix and "B" not in prefix:
                raise _operand_type_error(label, name, prefix)
            return semantics.begins_with(first(item, names, values), prefix)

        return starts
    return lambda item, names, values: semantics.contains(
        first(item, names, values), second(item, names, values)
    )


def _operand_type_error(label: str, function: str, value: dict) -> ExpressionError:
    kind = semantics.kind_of(value) if value else "none"
    return ExpressionError(
        f"Invalid {label}: Incorrect operand type for operator or function; "
        f"operator or function: {function}, operand type: {kind}"
    )
