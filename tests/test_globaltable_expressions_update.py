"""UpdateExpression semantics and errors, case by case (results worked out by hand)."""

from __future__ import annotations

import copy

import pytest

from globaltable.expressions import ExpressionError, update
from tests.expression_fixtures import ITEM, NAMES, UPDATE_VALUES


def apply(
    expression: str, item: dict | None = None, names: dict | None = None
) -> tuple[dict, set[str]]:
    return update(expression).apply(
        copy.deepcopy(ITEM if item is None else item), names or NAMES, UPDATE_VALUES
    )


@pytest.mark.parametrize(
    ("expression", "path", "expected"),
    [
        ("SET title = :s", ("title",), {"S": "new"}),
        ("SET fresh = :s", ("fresh",), {"S": "new"}),
        ("SET n = n + :one", ("n",), {"N": "6"}),
        ("SET n = n - :ten", ("n",), {"N": "-5"}),
        ("SET n = :ten - n", ("n",), {"N": "5"}),
        ("SET price = price + :neg", ("price",), {"N": "12"}),
        ("SET n = :one + :one", ("n",), {"N": "2"}),
        ("SET c = if_not_exists(c, :one)", ("c",), {"N": "1"}),
        ("SET n = if_not_exists(n, :one)", ("n",), {"N": "5"}),
        ("SET c = if_not_exists(c, :one) + :ten", ("c",), {"N": "11"}),
        ("SET l2 = list_append(:list, :empty)", ("l2",), {"L": [{"S": "q"}]}),
        ("SET l = list_append(l, :list)", ("l", 3), {"S": "q"}),
        ("SET l = list_append(:list, l)", ("l", 0), {"S": "q"}),
        ("SET c = list_append(if_not_exists(c, :empty), :list)", ("c",), {"L": [{"S": "q"}]}),
        ("SET dup = title", ("dup",), {"S": "hello world"}),
        ("SET m.b.c = :s", ("m", "b", "c"), {"S": "new"}),
        ("SET m.newkey = :s", ("m", "newkey"), {"S": "new"}),
        ("SET #m.#dt = :s", ("m", "dot.ted"), {"S": "new"}),
        ("SET #dt = :s", ("dot.ted",), {"S": "new"}),
        ("SET l[0] = :s", ("l", 0), {"S": "new"}),
        ("SET l[2].deep = :s", ("l", 2, "deep"), {"S": "new"}),
        ("SET l[9] = :s", ("l", 3), {"S": "new"}),  # past the end: appended
        ("SET m = :map", ("m", "k"), {"S": "v"}),
        ("ADD n :one", ("n",), {"N": "6"}),
        ("ADD c :one", ("c",), {"N": "1"}),
        ("ADD tags :more", ("tags",), {"SS": ["red", "blue", "green"]}),
        ("ADD fresh :more", ("fresh",), {"SS": ["green", "red"]}),
        ("ADD nums :nums", ("nums",), {"NS": ["1", "2.5", "7"]}),
        ("DELETE tags :drop", ("tags",), {"SS": ["blue"]}),
        ("DELETE nums :nums", ("nums",), {"NS": ["1"]}),
        ("ADD m.a :one", ("m", "a"), {"N": "2"}),
        ("SET n = :big - :big", ("n",), {"N": "0"}),
    ],
)
def test_update_result(expression: str, path: tuple, expected: dict) -> None:
    new, _ = apply(expression)
    value: dict = new[path[0]]
    for element in path[1:]:
        value = value["L"][element] if isinstance(element, int) else value["M"][element]
    assert value == expected


@pytest.mark.parametrize(
    ("expression", "gone"),
    [
        ("REMOVE title", ("title",)),
        ("REMOVE absent", ("absent",)),
        ("REMOVE m.b", ("m", "b")),
        ("DELETE tags :all", ("tags",)),  # a set emptied by DELETE disappears
        ("REMOVE title, n, #dt", ("title",)),
    ],
)
def test_removals(expression: str, gone: tuple) -> None:
    new, _ = apply(expression)
    holder = new if len(gone) == 1 else new[gone[0]]["M"]
    assert gone[-1] not in holder


def test_remove_list_elements_use_original_indexes() -> None:
    item = {"l": {"L": [{"N": str(i)} for i in range(5)]}}
    new, _ = apply("REMOVE l[1], l[3]", item)
    assert new["l"] == {"L": [{"N": "0"}, {"N": "2"}, {"N": "4"}]}
    new, _ = apply("REMOVE l[3], l[1], l[7]", item)
    assert new["l"] == {"L": [{"N": "0"}, {"N": "2"}, {"N": "4"}]}


def test_clauses_combine_in_any_order_and_see_the_old_item() -> None:
    new, changed = apply("ADD n :one SET old_n = n, title = :s REMOVE flag DELETE tags :drop")
    assert new["n"] == {"N": "6"}
    assert new["old_n"] == {"N": "5"}  # right-hand sides read the item before the update
    assert new["title"] == {"S": "new"}
    assert "flag" not in new
    assert new["tags"] == {"SS": ["blue"]}
    assert changed == {"n", "old_n", "title", "flag", "tags"}


def test_input_item_is_untouched() -> None:
    original = copy.deepcopy(ITEM)
    item = copy.deepcopy(ITEM)
    update("SET m.b.c = :s, l[0] = :s REMOVE m.a ADD tags :more").apply(item, NAMES, UPDATE_VALUES)
    assert item == original


def test_keywords_are_case_insensitive_and_changed_names_are_top_level() -> None:
    new, changed = apply("set m.b.c = :s remove l[0]")
    assert changed == {"m", "l"}
    assert new["l"]["L"][0] == {"N": "2"}


def test_numbers_keep_38_digits_and_render_canonically() -> None:
    new, _ = apply("SET n = :big - :one")
    assert new["n"] == {"N": "99999999999999999999999999999999999998"}
    new, _ = apply("SET price = price + :twofive")
    assert new["price"] == {"N": "15"}


ERRORS = [
    ("SET", 'Syntax error; token: "<EOF>"'),
    ("title = :s", 'Syntax error; token: "title"'),
    ("SET title :s", 'Syntax error; token: ":s"'),
    ("SET n = n + :one + :one", 'Syntax error; token: "+"'),
    ("SET n = :one, ", 'Syntax error; token: "<EOF>"'),
    ("REMOVE title = :s", 'Syntax error; token: "="'),
    ("ADD n", 'Syntax error; token: "<EOF>"'),
    ("ADD n n", 'Syntax error; token: "n"'),
    ("SET a = :s SET b = :s", 'The "SET" section can only be used once in an update expression'),
    ("REMOVE a REMOVE b", 'The "REMOVE" section can only be used once'),
    ("SET a = :s REMOVE a", "Two document paths overlap with each other"),
    ("SET m = :s, m.b = :s", "path one: [m], path two: [m, b]"),
    ("SET l[1] = :s REMOVE l[1]", "path one: [l, [1]], path two: [l, [1]]"),
    ("SET m.a = :s, m[0] = :s", "Two document paths conflict with each other"),
    ("SET a = foo(b)", "Invalid function name; function: foo"),
    ("SET a = if_not_exists(:s, :s)", "requires a document path"),
    ("SET status = :s", "reserved keyword: status"),
]


@pytest.mark.parametrize(("expression", "message"), ERRORS)
def test_parse_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        update(expression)
    assert message in str(caught.value)
    assert str(caught.value).startswith("Invalid UpdateExpression: ")


APPLY_ERRORS = [
    ("SET a = absent", "refers to an attribute that does not exist in the item"),
    ("SET n = absent + :one", "refers to an attribute that does not exist in the item"),
    ("SET a = list_append(absent, :list)", "refers to an attribute that does not exist"),
    ("SET n = title + :one", "An operand in the update expression has an incorrect data type"),
    ("SET n = n + :s", "An operand in the update expression has an incorrect data type"),
    ("SET a = list_append(title, :list)", "incorrect data type"),
    ("ADD title :one", "incorrect data type"),
    ("ADD tags :nums", "incorrect data type"),
    ("ADD n :more", "incorrect data type"),
    ("DELETE tags :nums", "incorrect data type"),
    ("ADD n :s", "operator: ADD, operand type: STRING"),
    ("ADD n :list", "operator: ADD, operand type: LIST"),
    ("DELETE tags :one", "operator: DELETE, operand type: NUMBER"),
    ("SET absent.x = :s", "document path provided in the update expression is invalid"),
    ("SET title.x = :s", "document path provided in the update expression is invalid"),
    ("SET m[0] = :s", "document path provided in the update expression is invalid"),
    ("SET l.x = :s", "document path provided in the update expression is invalid"),
    ("SET n = :big + :neg", "more than 38 significant digits"),
    (
        "SET n = :undefined",
        "attribute value used in expression is not defined; attribute value: :undefined",
    ),
    (
        "SET #undefined = :s",
        "attribute name used in the document path is not defined; attribute name: #undefined",
    ),
    ("SET #n = :s REMOVE n", "Two document paths overlap"),  # found after resolving names
]


@pytest.mark.parametrize(("expression", "message"), APPLY_ERRORS)
def test_apply_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        apply(expression)
    assert message in str(caught.value)
