"""DynamoDB expressions for the emulator: parse once (cached per string), evaluate fast.

    condition(expr, label="ConditionExpression") -> Condition   (FilterExpression: pass label)
    update(expr) -> Update            projection(expr) -> Projection
    key_condition(expr) -> KeyCondition
    all_names_used(*parsed) / all_values_used(*parsed): for DynamoDB's "unused" checks

The parsers are hand-written (regex tokenizer + recursive descent, see `tokens.py`): the
grammar is small, DynamoDB-shaped error messages need exact token positions, and no well-kept
library parses DynamoDB expressions without pulling in a whole mock framework. Every parsed
object exposes `names_used` and `values_used` (sorted tuples of `#n` / `:v` placeholders).
"""

from __future__ import annotations

from functools import lru_cache

from globaltable.expressions.condition import (
    ConditionParser,
    Node,
    static_bounds,
    top_level_names,
    value_checks,
)
from globaltable.expressions.errors import ExpressionError
from globaltable.expressions.evaluate import check_bounds, compile_condition
from globaltable.expressions.key_condition import KeyCondition
from globaltable.expressions.paths import check_defined
from globaltable.expressions.projection import Projection
from globaltable.expressions.tokens import Cursor
from globaltable.expressions.update import Update

__all__ = [
    "Condition",
    "ExpressionError",
    "KeyCondition",
    "Projection",
    "Update",
    "all_names_used",
    "all_values_used",
    "check_defined",
    "check_unused",
    "condition",
    "key_condition",
    "projection",
    "update",
]

CACHE_SIZE = 4096


class Condition:
    """A parsed ConditionExpression or FilterExpression, compiled to closures."""

    __slots__ = (
        "expression",
        "label",
        "tree",
        "names_used",
        "values_used",
        "roots",
        "_test",
        "_value_checks",
        "_bounds",
    )

    def __init__(self, expression: str, label: str = "ConditionExpression") -> None:
        cursor = Cursor(expression, label)
        self.tree: Node = ConditionParser(cursor).parse()
        self.expression = expression
        self.label = label
        self.names_used = tuple(sorted(cursor.names_used))
        self.values_used = tuple(sorted(cursor.values_used))
        self.roots = top_level_names(self.tree)  # top-level attributes read (#n unresolved)
        self._test = compile_condition(self.tree, label)
        self._value_checks = value_checks(self.tree)
        self._bounds = static_bounds(self.tree)

    def check(self, names: dict[str, str], values: dict[str, dict]) -> None:
        """Raise DynamoDB's ValidationException for what is wrong with the request itself
        (undefined placeholders, values of a type the operator refuses), item or no item."""
        if self.names_used or self.values_used:
            check_defined(self.label, self.names_used, self.values_used, names, values)
        for name, allowed, operator in self._value_checks:
            kind = next(iter(values[name]))
            if kind not in allowed:
                raise ExpressionError(
                    f"Invalid {self.label}: Incorrect operand type for operator or function; "
                    f"operator or function: {operator}, operand type: {kind}"
                )
        for low, high in self._bounds:
            check_bounds(values[low], values[high], self.label)

    def evaluate(
        self, item: dict | None, names: dict[str, str] | None, values: dict[str, dict] | None
    ) -> bool:
        """Whether `item` (None: no item) satisfies the condition."""
        names = names or {}
        values = values or {}
        if self.names_used or self.values_used:
            self.check(names, values)
        return self._test(item or {}, names, values)


@lru_cache(maxsize=CACHE_SIZE)
def condition(expression: str, label: str = "ConditionExpression") -> Condition:
    """Parse a condition (cached); `label` names the request field in error messages."""
    return Condition(expression, label)


@lru_cache(maxsize=CACHE_SIZE)
def update(expression: str) -> Update:
    return Update(expression)


@lru_cache(maxsize=CACHE_SIZE)
def projection(expression: str) -> Projection:
    return Projection(expression)


@lru_cache(maxsize=CACHE_SIZE)
def key_condition(expression: str) -> KeyCondition:
    return KeyCondition(expression)


Parsed = Condition | Update | Projection | KeyCondition


def all_names_used(*parsed: Parsed | None) -> frozenset[str]:
    """Every `#name` placeholder the request's expressions use (for the unused-names check)."""
    return frozenset().union(*(p.names_used for p in parsed if p is not None))


def all_values_used(*parsed: Parsed | None) -> frozenset[str]:
    """Every `:value` placeholder the request's expressions use (for the unused-values check)."""
    return frozenset().union(*(p.values_used for p in parsed if p is not None))


@lru_cache(maxsize=CACHE_SIZE)
def _used(parsed: tuple[Parsed | None, ...]) -> tuple[frozenset[str], frozenset[str]]:
    return all_names_used(*parsed), all_values_used(*parsed)


def check_unused(names: dict | None, values: dict | None, *parsed: Parsed | None) -> None:
    """DynamoDB's errors for ExpressionAttributeNames/Values that no expression uses."""
    used_names, used_values = _used(parsed)  # parsed objects are cached: hashed by identity
    unused_names = sorted(set(names or {}) - used_names)
    if unused_names:
        raise ExpressionError(
            "Value provided in ExpressionAttributeNames unused in expressions: "
            f"keys: {{{', '.join(unused_names)}}}"
        )
    unused_values = sorted(set(values or {}) - used_values)
    if unused_values:
        raise ExpressionError(
            "Value provided in ExpressionAttributeValues unused in expressions: "
            f"keys: {{{', '.join(unused_values)}}}"
        )
