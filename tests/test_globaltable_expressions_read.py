"""ProjectionExpression, KeyConditionExpression and the request-level placeholder checks."""

from __future__ import annotations

import pytest

from globaltable.expressions import (
    ExpressionError,
    check_unused,
    condition,
    key_condition,
    projection,
    update,
)
from tests.expression_fixtures import ITEM, NAMES


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("pk, n", {"pk": ITEM["pk"], "n": ITEM["n"]}),
        ("pk, absent", {"pk": ITEM["pk"]}),
        ("#dt", {"dot.ted": {"S": "top"}}),
        ("m.b.c", {"m": {"M": {"b": {"M": {"c": {"S": "z"}}}}}}),
        ("m.a, m.#dt", {"m": {"M": {"a": {"N": "1"}, "dot.ted": {"S": "d"}}}}),
        ("l[2].deep, l[0]", {"l": {"L": [{"S": "x"}, {"M": {"deep": {"S": "y"}}}]}}),
        ("l[7], m.zz, n.x", {}),
        ("#m.b", {"m": {"M": {"b": {"M": {"c": {"S": "z"}}}}}}),
    ],
)
def test_projection(expression: str, expected: dict) -> None:
    assert projection(expression).apply(ITEM, NAMES) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("pk,", 'Syntax error; token: "<EOF>"'),
        ("pk n", 'Syntax error; token: "n"'),
        ("pk, pk", "Two document paths overlap"),
        ("m, m.a", "path one: [m], path two: [m, a]"),
        ("l[0], l.a", "Two document paths conflict"),
        (":v", 'Syntax error; token: ":v"'),
        ("size", "reserved keyword: size"),
    ],
)
def test_projection_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        projection(expression)
    assert message in str(caught.value)
    assert str(caught.value).startswith("Invalid ProjectionExpression: ")


def test_projection_names_must_be_defined_and_not_overlap() -> None:
    with pytest.raises(ExpressionError, match="attribute name: #q"):
        projection("#q").apply(ITEM, {})
    with pytest.raises(ExpressionError, match="overlap"):
        projection("#n, n").apply(ITEM, NAMES)


KEY_VALUES = {
    ":pk": {"S": "user#1"},
    ":lo": {"N": "10"},
    ":hi": {"N": "20"},
    ":p": {"S": "ab"},
}


@pytest.mark.parametrize(
    ("expression", "inside", "outside"),
    [
        ("pk = :pk AND sk = :lo", [{"N": "10"}, {"N": "10.0"}], [{"N": "11"}, {"S": "10"}]),
        ("pk = :pk AND sk < :lo", [{"N": "9.99"}, {"N": "-5"}], [{"N": "10"}, None]),
        ("pk = :pk AND sk <= :lo", [{"N": "10"}], [{"N": "10.01"}]),
        ("pk = :pk AND sk > :lo", [{"N": "11"}], [{"N": "10"}]),
        ("pk = :pk AND sk >= :lo", [{"N": "10"}], [{"N": "9"}]),
        (
            "pk = :pk AND sk BETWEEN :lo AND :hi",
            [{"N": "10"}, {"N": "20"}, {"N": "15"}],
            [{"N": "21"}],
        ),
        (
            "pk = :pk AND begins_with(sk, :p)",
            [{"S": "ab"}, {"S": "abc"}],
            [{"S": "a"}, {"S": "xab"}],
        ),
        ("begins_with(#sk, :p) AND #pk = :pk", [{"S": "abz"}], [{"S": "b"}]),
        ("(pk = :pk) AND (sk > :lo)", [{"N": "11"}], [{"N": "1"}]),
        (":pk = pk AND :lo < sk", [{"N": "11"}], [{"N": "10"}]),
        (":lo >= sk AND :pk = pk", [{"N": "10"}, {"N": "9"}], [{"N": "11"}]),
    ],
)
def test_key_condition_range_predicates(expression: str, inside: list, outside: list) -> None:
    names = {"#pk": "pk", "#sk": "sk"} if "#" in expression else {}
    hash_value, predicate = key_condition(expression).bind(names, KEY_VALUES, "pk", "sk")
    assert hash_value == {"S": "user#1"}
    assert predicate is not None
    assert all(predicate(v) for v in inside)
    assert not any(predicate(v) for v in outside)


def test_key_condition_hash_only() -> None:
    hash_value, predicate = key_condition("#k = :pk").bind({"#k": "pk"}, KEY_VALUES, "pk", None)
    assert hash_value == KEY_VALUES[":pk"]
    assert predicate is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("pk = :pk OR sk = :lo", "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT pk = :pk", "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk = :pk AND sk <> :lo", "Unsupported operator on KeyConditionExpression: operator: <>"),
        ("pk = :pk AND sk IN (:lo)", "Invalid operator used in KeyConditionExpression: IN"),
        (
            "pk = :pk AND attribute_exists(sk)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        ("pk = :pk AND sk = :lo AND x = :hi", "only contain one condition per key"),
        ("pk = :pk AND m.sk = :lo", "nested attributes"),
        ("pk = :pk AND sk = price", "Multiple attribute names used in one condition"),
        ("pk = :pk AND :lo < :hi", "No key attribute specified"),
        ("pk = :pk AND :lo BETWEEN sk AND :hi", "BETWEEN operator must have the key attribute"),
        ("pk = :pk AND size(sk) = :lo", "cannot contain nested operations"),
        ("pk = :pk AND", 'Syntax error; token: "<EOF>"'),
    ],
)
def test_key_condition_parse_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        key_condition(expression)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("sk = :lo", "Query condition missed key schema element: pk"),
        ("pk > :pk", "Query key condition not supported"),
        ("pk = :pk AND price = :lo", "Query condition missed key schema element: sk"),
        ("pk = :pk AND sk <> :lo", "Unsupported operator on KeyConditionExpression"),
        ("pk = :pk AND sk BETWEEN :hi AND :lo", "requires upper bound to be greater"),
        ("pk = :pk AND pk = :pk", "only contain one condition per key"),
        ("pk = :pk AND sk = :nope", "attribute value: :nope"),
    ],
)
def test_key_condition_bind_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        key_condition(expression).bind({}, KEY_VALUES, "pk", "sk")
    assert message in str(caught.value)


def test_check_unused_placeholders_across_expressions() -> None:
    cond = condition("#a = :x")
    upd = update("SET #b = :y")
    check_unused({"#a": "a", "#b": "b"}, {":x": {"S": "1"}, ":y": {"S": "2"}}, cond, upd, None)
    with pytest.raises(ExpressionError, match=r"ExpressionAttributeNames unused .*keys: \{#c\}"):
        check_unused({"#a": "a", "#c": "c"}, {":x": {"S": "1"}, ":y": {"S": "2"}}, cond, upd)
    with pytest.raises(ExpressionError, match=r"ExpressionAttributeValues unused .*keys: \{:z\}"):
        check_unused({"#a": "a", "#b": "b"}, {":x": {"S": "1"}, ":y": {}, ":z": {}}, cond, upd)
