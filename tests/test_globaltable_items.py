"""Item rules: sizes computed by hand from the reference's "Item size" section, validation."""

from __future__ import annotations

import base64

import pytest

from globaltable.items import (
    MAX_ITEM_BYTES,
    ItemError,
    ItemSerializationError,
    canonical_item,
    canonical_number,
    compare_key_values,
    item_size,
    validate_item,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"a": {"S": "hello"}}, 1 + 5),
        ({"a": {"S": "héllo"}}, 1 + 6),  # é is 2 bytes in UTF-8
        ({"名前": {"S": "日本"}}, 6 + 6),  # names count their UTF-8 bytes too
        ({"e": {"S": "😀"}}, 1 + 4),
        ({"e": {"S": ""}}, 1),
        ({"n": {"N": "12345"}}, 1 + 4),  # 5 digits -> 3 + 1
        ({"n": {"N": "1234"}}, 1 + 3),  # 4 digits -> 2 + 1
        ({"n": {"N": "-1.5"}}, 1 + 3),  # 2 digits -> 1 + 1, +1 negative
        ({"n": {"N": "0"}}, 1 + 1),
        ({"n": {"N": "100"}}, 1 + 2),  # one significant digit
        ({"n": {"N": "0.00012"}}, 1 + 2),
        ({"b": {"B": b64(b"\x00\x01\x02")}}, 1 + 3),
        ({"t": {"BOOL": True}, "z": {"NULL": True}}, 2 + 2),
        ({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}, 1 + 3 + (2 + 1) + (2 + 1)),
        ({"m": {"M": {"x": {"S": "ab"}}}}, 1 + 3 + (1 + 2 + 1)),
        ({"m": {"M": {}}}, 1 + 3),
        ({"l": {"L": [{"M": {"k": {"BOOL": False}}}]}}, 1 + 3 + (3 + (1 + 1 + 1)) + 1),
        ({"ss": {"SS": ["ab", "c"]}}, 2 + 3),
        ({"ns": {"NS": ["1", "22"]}}, 2 + 2 + 2),
        ({"bs": {"BS": [b64(b"abcd"), b64(b"x")]}}, 2 + 5),
        ({"n": {"N": "1" * 38}}, 1 + 20),  # 38 digits: no rounding at 28 digits
    ],
)
def test_item_size_by_hand(item: dict, size: int) -> None:
    assert item_size(item) == size


def test_item_size_is_the_sum_of_attributes() -> None:
    one, two = {"a": {"S": "x" * 10}}, {"bb": {"N": "3.25"}}
    assert item_size({**one, **two}) == item_size(one) + item_size(two) == 11 + 2 + 3


@pytest.mark.parametrize(
    ("item", "where", "fragment"),
    [
        ({"tags": {"SS": []}}, "tags", "string set  may not be empty"),
        ({"m": {"M": {"x": {"NS": []}}}}, "m.x", "number set  may not be empty"),
        ({"s": {"SS": ["a", "a"]}}, "s", "contains duplicates"),
        ({"s": {"NS": ["1", "1.0"]}}, "s", "contains duplicates"),
        ({"n": {"N": "abc"}}, "n", "cannot be converted to a numeric value"),
        ({"n": {"N": "1" * 39}}, "n", "more than 38 significant digits"),
        ({"n": {"N": "1e126"}}, "n", "Number overflow"),
        ({"n": {"N": "1e-131"}}, "n", "Number underflow"),
        ({"l": {"L": [{"S": "ok"}, {"NULL": False}]}}, "l[1]", "Null attribute value"),
        ({"x": {}}, "x", "Supplied AttributeValue is empty"),
        ({"x": {"S": "a", "N": "1"}}, "x", "more than one datatypes"),
        ({"x": {"Q": "a"}}, "x", "unknown datatype"),
    ],
)
def test_validate_item_names_attribute_and_fault(item: dict, where: str, fragment: str) -> None:
    with pytest.raises(ItemError) as caught:
        validate_item(item)
    assert fragment in str(caught.value)
    assert caught.value.attribute == where
    assert where in str(caught.value)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"x": {"S": 5}}, "NUMBER_VALUE cannot be converted to String"),
        ({"x": {"N": 1.5}}, "DECIMAL_VALUE cannot be converted to String"),
        ({"x": {"BOOL": "yes"}}, "STRING_VALUE cannot be converted to Boolean"),
        ({"x": {"NULL": 1}}, "NUMBER_VALUE cannot be converted to Boolean"),
        ({"x": {"L": "nope"}}, "Unexpected field type"),
        ({"x": {"M": []}}, "Unrecognized collection type class java.lang.Map"),
        ({"x": {"SS": [True]}}, "TRUE_VALUE cannot be converted to String"),
        ({"x": {"S": {"a": 1}}}, "Start of structure or map found where not expected"),
        (
            {"b": {"B": "not base64"}},
            "'not base64' can not be converted to a Blob: Base64 encoded length is expected a "
            "multiple of 4 bytes but found: 10",
        ),
    ],
)
def test_wrong_json_types_are_serialization_errors(item: dict, message: str) -> None:
    """DynamoDB's deserializer refuses these before validating (SerializationException)."""
    with pytest.raises(ItemSerializationError) as caught:
        validate_item(item)
    assert str(caught.value) == message


def test_validate_item_accepts_every_type() -> None:
    validate_item(
        {
            "s": {"S": ""},
            "n": {"N": "-1.5e10"},
            "b": {"B": b64(b"\xff")},
            "t": {"BOOL": False},
            "z": {"NULL": True},
            "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2"]},
            "bs": {"BS": [b64(b"a")]},
            "l": {"L": [{"M": {"k": {"S": "v"}}}]},
        }
    )


def test_validate_item_size_limit_and_nesting() -> None:
    validate_item({"big": {"S": "x" * (MAX_ITEM_BYTES - 3)}})
    with pytest.raises(ItemError, match="Item size has exceeded"):
        validate_item({"big": {"S": "x" * (MAX_ITEM_BYTES - 2)}})
    deep: dict = {"S": "leaf"}
    for _ in range(32):
        deep = {"L": [deep]}
    with pytest.raises(ItemError, match="Nesting Levels"):
        validate_item({"deep": deep})
    with pytest.raises(ItemError, match="Empty attribute name"):
        validate_item({"": {"S": "x"}})
    with pytest.raises(ItemError, match="map of attribute names"):
        validate_item([])


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("01.500", "1.5"),
        ("1e2", "100"),
        ("-0", "0"),
        ("0.0", "0"),
        ("1.5E-3", "0.0015"),
        ("+7", "7"),
    ],
)
def test_canonical_numbers(text: str, canonical: str) -> None:
    assert canonical_number(text) == canonical


def test_canonical_item_rewrites_nested_numbers() -> None:
    item = {"l": {"L": [{"N": "1.0"}, {"M": {"x": {"NS": ["2.50"]}}}]}, "s": {"S": "1.0"}}
    assert canonical_item(item) == {
        "l": {"L": [{"N": "1"}, {"M": {"x": {"NS": ["2.5"]}}}]},
        "s": {"S": "1.0"},
    }


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ({"N": "10"}, {"N": "9"}, 1),
        ({"N": "-1"}, {"N": "1.0"}, -1),
        ({"N": "2.0"}, {"N": "2"}, 0),
        ({"S": "a"}, {"S": "b"}, -1),
        ({"S": "Z"}, {"S": "a"}, -1),  # byte order, not alphabetical
        ({"S": "é"}, {"S": "z"}, 1),  # UTF-8 0xC3 > 0x7A
        ({"B": b64(b"\xff")}, {"B": b64(b"\x01")}, 1),  # unsigned bytes
    ],
)
def test_compare_key_values(a: dict, b: dict, order: int) -> None:
    assert compare_key_values(a, b) == order
    assert compare_key_values(b, a) == -order


def test_compare_key_values_rejects_mixed_or_non_key_types() -> None:
    with pytest.raises(ItemError):
        compare_key_values({"S": "1"}, {"N": "1"})
    with pytest.raises(ItemError):
        compare_key_values({"BOOL": True}, {"BOOL": True})
