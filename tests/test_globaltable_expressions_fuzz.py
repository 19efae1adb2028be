"""Fuzzing every expression parser: any input gives a parse result or ExpressionError.

Token soups, mutated valid expressions and raw text go through parse and, where parsing
succeeds, evaluation/application against a sample item, never raising anything else.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from globaltable.expressions import Condition, ExpressionError, KeyCondition, Projection, Update
from globaltable.items import ItemError, ItemSerializationError, validate_item, validate_value
from tests.expression_fixtures import CONDITION_CASES, ITEM, UPDATE_VALUES, VALUES

TOKENS = [
    "a",
    "b",
    "n",
    "l",
    "m",
    "title",
    "tags",
    "pk",
    "sk",
    "#n",
    "#m",
    "#x",
    ":five",
    ":one",
    ":s",
    ":list",
    ":tags",
    ":zz",
    "0",
    "1",
    "2",
    "99999999999999999999",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "+",
    "-",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "and",
    "set",
    "size",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "if_not_exists",
    "list_append",
    "name",
    "@",
    '"',
    "'",
    "\\",
    "#",
    ":",
    "é",
    "\t",
    "\n",
]
VALID = [expr for expr, _ in CONDITION_CASES] + [
    "SET n = n + :one, title = :s REMOVE m.b ADD tags :tags",
    "SET l = list_append(if_not_exists(l, :list), :list) DELETE tags :tags",
    "REMOVE l[1], l[0], #n",
    "pk = :five AND sk BETWEEN :one AND :five",
    "l[2].deep, m.b, #n",
]
NAME_POOL = {f"#{n}": n for n in ("n", "m", "x", "dt", "size", "t")}
VALUE_POOL = {**VALUES, **UPDATE_VALUES}

token_soup = st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join)
mutated = st.tuples(
    st.sampled_from(VALID), st.integers(0, 200), st.integers(0, 12), st.sampled_from(TOKENS)
).map(lambda t: t[0][: t[1]] + t[3] + t[0][t[1] + t[2] :])
raw_text = st.text(max_size=60)
inputs = st.one_of(token_soup, mutated, raw_text)
ALLOWED = (ExpressionError, ItemError)


def placeholders(expression: str) -> tuple[dict, dict]:
    names = {n: NAME_POOL.get(n, "a") for n in re.findall(r"#[A-Za-z0-9_]+", expression)}
    values = {v: VALUE_POOL.get(v, {"N": "1"}) for v in re.findall(r":[A-Za-z0-9_]+", expression)}
    return names, values


@pytest.mark.timeout(120)
@settings(max_examples=1200)
@given(inputs)
def test_condition_parser_never_crashes(expression: str) -> None:
    try:
        parsed = Condition(expression)
    except ExpressionError:
        return
    names, values = placeholders(expression)
    with contextlib.suppress(*ALLOWED):
        assert parsed.evaluate(ITEM, names, values) in (True, False)


@pytest.mark.timeout(120)
@settings(max_examples=1200)
@given(inputs)
def test_update_parser_never_crashes(expression: str) -> None:
    try:
        parsed = Update(expression)
    except ExpressionError:
        return
    names, values = placeholders(expression)
    try:
        new, changed = parsed.apply(ITEM, names, values)
    except ALLOWED:
        return
    differing = {a for a in set(new) | set(ITEM) if new.get(a) != ITEM.get(a)}
    assert differing <= changed  # every attribute that changed is reported
    validate_item(new)  # an applied update never produces an item DynamoDB would reject


@pytest.mark.timeout(120)
@settings(max_examples=1000)
@given(inputs)
def test_projection_parser_never_crashes(expression: str) -> None:
    try:
        parsed = Projection(expression)
    except ExpressionError:
        return
    names, _ = placeholders(expression)
    try:
        projected = parsed.apply(ITEM, names)
    except ExpressionError:
        return
    assert set(projected) <= set(ITEM)


@pytest.mark.timeout(120)
@settings(max_examples=1000)
@given(inputs)
def test_key_condition_parser_never_crashes(expression: str) -> None:
    try:
        parsed = KeyCondition(expression)
    except ExpressionError:
        return
    names, values = placeholders(expression)
    try:
        _, predicate = parsed.bind(names, values, "pk", "sk")
    except ExpressionError:
        return
    if predicate is not None:
        assert predicate({"N": "3"}) in (True, False)
        assert predicate(None) is False


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
wire_ish = st.one_of(
    json_like,
    st.dictionaries(
        st.sampled_from(["S", "N", "B", "SS", "NS", "BS", "L", "M", "BOOL", "NULL"]),
        json_like,
        max_size=2,
    ),
)


def use(parsed: Condition | Update | KeyCondition, names: dict, values: dict) -> object:
    """What a request does with a parsed expression: evaluate, apply or bind it."""
    if isinstance(parsed, Condition):
        return parsed.evaluate(ITEM, names, values)
    if isinstance(parsed, Update):
        return parsed.apply(ITEM, names, values)
    return parsed.bind(names, values, "pk", "sk")


@pytest.mark.timeout(120)
@settings(max_examples=400)
@given(st.sampled_from(VALID), wire_ish)
@example("SET n = n + :one, title = :s REMOVE m.b ADD tags :tags", {"SS": None})  # found by it
def test_malformed_values_are_expression_errors(expression: str, value: object) -> None:
    """A value the expression uses that is no valid AttributeValue is refused with
    DynamoDB's ExpressionAttributeValues error before any evaluation (a JSON type its
    deserializer refuses, `{"S": null}`, with its SerializationException); a valid one may still
    fail on types, but only with an ExpressionError or ItemError."""
    names, values = placeholders(expression)
    values = dict.fromkeys(values, value)
    try:
        validate_value(value, ":v")
        malformed = False
        mistyped = False
    except ItemSerializationError:  # a JSON type the deserializer refuses: SerializationException
        malformed = mistyped = True
    except ItemError:
        malformed = True
        mistyped = False
    for parse in (Condition, Update, KeyCondition):
        try:
            parsed = parse(expression)
        except ExpressionError:
            continue
        if mistyped and parsed.values_used:
            with pytest.raises(ItemSerializationError):
                use(parsed, names, values)
        elif malformed and parsed.values_used:
            with pytest.raises(ExpressionError, match="ExpressionAttributeValues contains invalid"):
                use(parsed, names, values)
        else:
            with contextlib.suppress(*ALLOWED):
                use(parsed, names, values)
