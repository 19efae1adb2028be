"""ConditionExpression semantics, case by case (expected results worked out by hand)."""

from __future__ import annotations

import pytest

from globaltable.expressions import ExpressionError, condition
from tests.test_globaltable_expressions_fixtures import ITEM, NAMES, VALUES

CASES = [
    # comparators: numbers by value, strings, type mismatches are false
    ("n = :five", True),
    ("n = :five0", True),
    ("n <> :five", False),
    ("n <> :one", True),
    ("n < :ten", True),
    ("n <= :five", True),
    ("n > :five", False),
    ("n >= :five0", True),
    ("price = :ten", False),
    ("title = :hello", True),
    ("title > :he", True),
    ("title < :he", False),
    ("n < :hello", False),  # N vs S: not comparable, false
    ("n = :hello", False),
    ("flag = :true", True),
    ("tags = :tags", True),  # sets compare ignoring order
    ("absent = :one", False),
    ("absent <> :one", True),  # a absent attribute differs from any value
    ("absent < :one", False),
    (":one < n", True),
    ("n = n", True),
    # BETWEEN and IN
    ("n BETWEEN :one AND :ten", True),
    ("n BETWEEN :five AND :five", True),
    ("price BETWEEN :one AND :five", False),
    ("title BETWEEN :a AND :z", True),
    ("absent BETWEEN :one AND :ten", False),
    ("n IN (:one, :two, :five0)", True),
    ("n IN (:one, :two)", False),
    ("title IN (:hello)", True),
    # functions
    ("attribute_exists(n)", True),
    ("attribute_exists(absent)", False),
    ("attribute_not_exists(absent)", True),
    ("attribute_exists(m.b.c)", True),
    ("attribute_exists(m.b.q)", False),
    ("attribute_exists(l[2].deep)", True),
    ("attribute_exists(l[3])", False),
    ("attribute_exists(n[0])", False),
    ("attribute_exists(n.x)", False),
    ("attribute_type(tags, :SS)", True),
    ("attribute_type(tags, :S)", False),
    ("attribute_type(m, :M)", True),
    ("attribute_type(nothing, :NULL)", True),
    ("attribute_type(absent, :S)", False),
    ("begins_with(title, :he)", True),
    ("begins_with(title, :wo)", False),
    ("begins_with(b, :b12)", True),
    ("begins_with(n, :he)", False),
    ("contains(title, :wo)", True),
    ("contains(title, :red)", False),
    ("contains(tags, :red)", True),
    ("contains(tags, :x)", False),
    ("contains(nums, :twofive)", True),
    ("contains(nums, :two)", False),
    ("contains(l, :x)", True),
    ("contains(l, :two)", True),
    ("contains(l, :red)", False),
    ("contains(absent, :x)", False),
    ("contains(b, :b12)", True),
    # size
    ("size(title) = :ten", False),
    ("size(title) > :ten", True),  # 11 characters
    ("size(tags) = :two", True),
    ("size(l) BETWEEN :two AND :ten", True),
    ("size(m) = :two", False),  # 3 entries
    ("size(b) < :five", True),
    ("size(n) = :one", False),  # numbers have no size: false
    ("size(absent) = :one", False),
    # boolean logic and precedence: NOT > AND > OR
    ("n = :one OR n = :five AND title = :hello", True),
    ("n = :five OR n = :one AND title = :he", True),
    ("(n = :five OR n = :one) AND title = :he", False),
    ("NOT n = :one", True),
    ("NOT n = :five AND title = :hello", False),
    ("NOT (n = :five AND title = :he)", True),
    ("not attribute_exists(absent) and NOT NOT flag = :true", True),
    ("n = :one OR n = :two OR n = :five", True),
    ("(n = :five)", True),
    ("(n = :five) AND (title = :hello)", True),
    # names, dots and nesting
    ("#n = :five", True),
    ("#dt = :x", False),
    ("attribute_exists(#dt)", True),  # "dot.ted" is one top-level name
    ("attribute_exists(#m.#dt)", True),
    ("attribute_exists(m.#dt)", True),
    ("#m.b.c = :z", True),
    ("l[0] = :x", True),
    ("l[1] = :two", True),
    ("attribute_exists(#size)", False),  # reserved words work through placeholders
    ("begins_with(#t, :he)", True),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
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
    ("size(size(n)) = :one", "reserved keyword: size"),  # size(:v) is allowed, as on AWS
    ("size(n, n) = :one", "operator or function: size, number of operands: 2"),
    ("_n = :one", 'Syntax error; token: "_"'),  # names start with a letter
    ("n" + ".m" * 32 + " = :one", "too many nesting levels; nesting levels: 33"),
    ("n[99999999999] = :one", "List index is not within the allowable range"),
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
