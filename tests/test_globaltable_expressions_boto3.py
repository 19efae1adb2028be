"""Expressions as boto3's `conditions` builder writes them parse and mean what boto3 meant.

Random condition trees are built with `boto3.dynamodb.conditions`, rendered by boto3's own
ConditionExpressionBuilder, evaluated by the emulator's parser, and compared with a direct
Python evaluation of the same tree on the same item.
"""

from __future__ import annotations

from decimal import Decimal

from boto3.dynamodb.conditions import Attr, ConditionBase, ConditionExpressionBuilder, Key
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from globaltable.expressions import condition, key_condition

SERIALIZE = TypeSerializer().serialize
ATTRS = ("a", "b", "c")
numbers = st.integers(-3, 3)


@st.composite
def leaves(draw: st.DrawFn) -> tuple[ConditionBase, object]:
    """A boto3 condition and a reference predicate `item -> bool` on plain Python values."""
    name = draw(st.sampled_from(ATTRS))
    kind = draw(
        st.sampled_from(
            ["eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "exists", "not_exists"]
        )
    )
    attr = Attr(name)
    x, y = draw(numbers), draw(numbers)
    if kind == "between":
        low, high = min(x, y), max(x, y)
        return attr.between(low, high), lambda i: name in i and low <= i[name] <= high
    if kind == "in":
        options = draw(st.lists(numbers, min_size=1, max_size=4))
        return attr.is_in(options), lambda i: name in i and i[name] in options
    if kind == "exists":
        return attr.exists(), lambda i: name in i
    if kind == "not_exists":
        return attr.not_exists(), lambda i: name not in i
    if kind == "ne":
        return attr.ne(x), lambda i: i.get(name) != x
    compare = {
        "eq": lambda v: v == x,
        "lt": lambda v: v < x,
        "lte": lambda v: v <= x,
        "gt": lambda v: v > x,
        "gte": lambda v: v >= x,
    }[kind]
    return getattr(attr, kind)(x), lambda i: name in i and compare(i[name])


def combine(children: st.SearchStrategy) -> st.SearchStrategy:
    def join(parts: tuple) -> tuple:
        op, (left, lref), (right, rref) = parts
        if op == "and":
            return left & right, lambda i: lref(i) and rref(i)
        if op == "or":
            return left | right, lambda i: lref(i) or rref(i)
        return ~left, lambda i: not lref(i)

    return st.tuples(st.sampled_from(["and", "or", "not"]), children, children).map(join)


trees = st.recursive(leaves(), combine, max_leaves=8)
items = st.dictionaries(st.sampled_from(ATTRS), numbers)


@settings(max_examples=600)
@given(trees, items)
def test_boto3_built_conditions_evaluate_like_the_tree(tree: tuple, item: dict) -> None:
    built, reference = tree
    expression = ConditionExpressionBuilder().build_expression(built)
    values = {k: SERIALIZE(v) for k, v in expression.attribute_value_placeholders.items()}
    wire_item = {k: SERIALIZE(Decimal(v)) for k, v in item.items()}
    parsed = condition(expression.condition_expression)
    got = parsed.evaluate(wire_item, expression.attribute_name_placeholders, values)
    assert got is bool(reference(item)), expression.condition_expression


def test_boto3_key_conditions_bind() -> None:
    built = Key("pk").eq("user#1") & Key("sk").between(2, 5)
    expression = ConditionExpressionBuilder().build_expression(built, is_key_condition=True)
    values = {k: SERIALIZE(v) for k, v in expression.attribute_value_placeholders.items()}
    hash_value, predicate = key_condition(expression.condition_expression).bind(
        expression.attribute_name_placeholders, values, "pk", "sk"
    )
    assert hash_value == {"S": "user#1"}
    assert predicate is not None
    assert [predicate({"N": str(n)}) for n in range(1, 7)] == [False, True, True, True, True, False]


def test_boto3_functions_and_nested_paths() -> None:
    item = {"m": {"M": {"b": {"L": [{"S": "q"}, {"S": "xyz"}]}}}, "tags": {"SS": ["a", "b"]}}
    cases = [
        (Attr("m.b[1]").begins_with("xy"), True),
        (Attr("m.b[0]").contains("q"), True),
        (Attr("tags").contains("c"), False),
        (Attr("tags").size().eq(2), True),
        (Attr("m").attribute_type("M") & Attr("m.b").attribute_type("L"), True),
        (Attr("m.b[2]").exists(), False),
    ]
    for built, expected in cases:
        expression = ConditionExpressionBuilder().build_expression(built)
        values = {k: SERIALIZE(v) for k, v in expression.attribute_value_placeholders.items()}
        parsed = condition(expression.condition_expression)
        got = parsed.evaluate(item, expression.attribute_name_placeholders, values)
        assert got is expected, expression.condition_expression
