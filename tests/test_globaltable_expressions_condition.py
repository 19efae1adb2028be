"""ConditionExpression semantics, case by case (expected results worked out by hand)."""

from __future__ import annotations

import pytest

from globaltable.expressions import ExpressionError, condition
from tests.expression_fixtures import CONDITION_CASES, ITEM, NAMES, VALUES


@pytest.mark.parametrize(("expression", "expected"), CONDITION_CASES)
def test_condition_case(expression: str, expected: bool) -> None:
    assert condition(expression).evaluate(ITEM, NAMES, VALUES) is expected


def test_no_item_behaves_as_empty_item() -> None:
    assert condition("attribute_not_exists(pk)").evaluate(None, {}, {}) is True
    assert condition("attribute_exists(pk)").evaluate(None, {}, {}) is False
    assert condition("pk <> :x").evaluate(None, {}, {":x": {"S": "a"}}) is True


def test_parsed_once_and_placeholders_reported() -> None:
    parsed = condition("#a = :v AND contains(#b.c, :w)")
    assert condition("#a = :v AND contains(#b.c, :w)") is parsed
    assert parsed.names_used == ("#a", "#b")
    assert parsed.values_used == (":v", ":w")


ERRORS = [
    ("", "The expression can not be empty"),
    ("n = ", 'Syntax error; token: "<EOF>", near: "="'),
    ("n = :five AND", 'Syntax error; token: "<EOF>"'),
    ("n == :five", 'Syntax error; token: "="'),
    ("n = :five)", 'Syntax error; token: ")"'),
    ("(n = :five", 'Syntax error; token: "<EOF>"'),
    ("n = :five @", 'Syntax error; token: "@"'),
    ("l[x] = :five", 'Syntax error; token: "x"'),
    ("l[] = :five", 'Syntax error; token: "]"'),
    ("AND n = :five", 'Syntax error; token: "AND"'),
    ("n BETWEEN :one", 'Syntax error; token: "<EOF>"'),
    ("n IN ()", 'Syntax error; token: ")"'),
    ("size(n)", 'Syntax error; token: "<EOF>"'),
    ("((n = :five))", "The expression has redundant parentheses"),
    ("name = :five", "Attribute name is a reserved keyword; reserved keyword: name"),
    ("m.size = :five", "reserved keyword: size"),
    ("foo(n)", "Invalid function name; function: foo"),
    ("ATTRIBUTE_EXISTS(n)", "Invalid function name; function: ATTRIBUTE_EXISTS"),
    ("list_append(n, :one) = :one", "not allowed to be used this way"),
    ("attribute_exists(n, :one)", "Incorrect number of operands"),
    ("begins_with(n)", "Incorrect number of operands"),
    ("attribute_exists(:one)", "requires a document path"),
    ("size(:one) = :one", "requires a document path"),
    ("n IN (" + ", ".join([":one"] * 101) + ")", "at most 100 operands"),
    ("n = :" + "x" * 5000, "Expression size has exceeded the maximum allowed size"),
    ("(" * 101 + "n = :five" + ")" * 101, "nested too deeply"),
    ("NOT " * 101 + "n = :five", "nested too deeply"),
    (" AND ".join(["n=:five"] * 301), "too many operators"),
]


@pytest.mark.parametrize(("expression", "message"), ERRORS)
def test_parse_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        condition(expression)
    assert message in str(caught.value)
    assert str(caught.value).startswith("Invalid ConditionExpression: ")


def test_filter_label_prefixes_messages() -> None:
    with pytest.raises(ExpressionError, match="^Invalid FilterExpression: Syntax error"):
        condition("a = = :v", "FilterExpression")


EVALUATION_ERRORS = [
    ("n = :nope", {}, "attribute value used in expression is not defined; attribute value: :nope"),
    (
        "#nope = :one",
        {},
        "attribute name used in the document path is not defined; attribute name: #nope",
    ),
    ("attribute_type(n, :bad)", {":bad": {"S": "STRING"}}, "Invalid attribute type name"),
    (
        "attribute_type(n, :bad)",
        {":bad": {"N": "1"}},
        "operator or function: attribute_type, operand type: N",
    ),
    (
        "begins_with(title, :bad)",
        {":bad": {"N": "1"}},
        "operator or function: begins_with, operand type: N",
    ),
    (
        "n BETWEEN :hi AND :lo",
        {":hi": {"N": "9"}, ":lo": {"N": "1"}},
        "requires upper bound to be greater",
    ),
]


@pytest.mark.parametrize(("expression", "values", "message"), EVALUATION_ERRORS)
def test_evaluation_errors(expression: str, values: dict, message: str) -> None:
    parsed = condition(expression)
    with pytest.raises(ExpressionError) as caught:
        parsed.evaluate(ITEM, {}, values)
    assert message in str(caught.value)
