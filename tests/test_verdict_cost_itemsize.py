"""DynamoDB's item-size rules per attribute type (verdict.history.item_size), hand-computed."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from globaltable import items as emulator_items
from units.items import item_size


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"pk": {"S": "abc"}}, 2 + 3),
        # multi-byte strings: é is 2 UTF-8 bytes, 日本 6, the emoji 4
        ({"n": {"S": "héllo"}}, 1 + 6),
        ({"n": {"S": "日本"}}, 1 + 6),
        ({"n": {"S": "😀"}}, 1 + 4),
        ({"é": {"S": ""}}, 2 + 0),  # the name counts in UTF-8 too
        # numbers: ceil(significant digits / 2) + 1
        ({"n": {"N": "123"}}, 1 + 2 + 1),
        ({"n": {"N": "1000"}}, 1 + 1 + 1),  # trailing zeros trimmed: 1 digit
        ({"n": {"N": "0.001"}}, 1 + 1 + 1),  # leading zeros trimmed: 1 digit
        ({"n": {"N": "-12.345"}}, 1 + 3 + 1 + 1),  # 5 digits -> 3, +1, +1 negative
        ({"n": {"N": "0"}}, 1 + 1),  # zero: no significant digits
        ({"n": {"N": "9" * 38}}, 1 + 19 + 1),
        # binary: raw bytes, base64 text decoded
        ({"b": {"B": b"\x00\x01\x02"}}, 1 + 3),
        ({"b": {"B": base64.b64encode(b"\x00\x01\x02\x03").decode()}}, 1 + 4),
        ({"x": {"NULL": True}, "y": {"BOOL": False}}, (1 + 1) + (1 + 1)),
        # lists: 3 + per element (1 + element)
        ({"l": {"L": []}}, 1 + 3),
        ({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}, 1 + 3 + (1 + 2) + (1 + 2)),
        # maps: 3 + per entry (1 + key bytes + value)
        ({"m": {"M": {}}}, 1 + 3),
        ({"m": {"M": {"k": {"S": "v"}}}}, 1 + 3 + (1 + 1 + 1)),
        ({"m": {"M": {"a": {"L": [{"BOOL": True}]}}}}, 1 + 3 + (1 + 1 + (3 + 1 + 1))),
        # sets: the sum of their elements (hothot's choice)
        ({"s": {"SS": ["a", "bb"]}}, 1 + 1 + 2),
        ({"s": {"NS": ["1", "22", "-333"]}}, 1 + 2 + 2 + 4),
        ({"s": {"BS": [b"ab", base64.b64encode(b"xyz").decode()]}}, 1 + 2 + 3),
    ],
)
def test_item_size_by_type(item: dict, size: int) -> None:
    assert item_size(item) == size


@pytest.mark.parametrize(
    ("item", "where"),
    [
        ({"x": {"Q": "1"}}, "x"),
        ({"x": {"N": "twelve"}}, "x"),
        ({"x": {"B": "not base64!"}}, "x"),
        ({"m": {"M": {"k": {"S": 1}}}}, "m.k"),
        ({"l": {"L": [{"S": "a"}, "bare"]}}, "l[1]"),
        ({"x": {"S": "a", "N": "1"}}, "x"),
    ],
)
def test_bad_values_name_the_attribute(item: dict, where: str) -> None:
    with pytest.raises(ValueError, match=f"^{where.replace('[', '.').replace(']', '.')}"):
        item_size(item)


_scalar = st.one_of(
    st.text(max_size=20).map(lambda s: {"S": s}),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9)
    .map(lambda d: {"N": str(d)}),
    st.binary(max_size=20).map(lambda b: {"B": base64.b64encode(b).decode()}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(max_size=5), min_size=1, max_size=4, unique=True).map(lambda s: {"SS": s}),
)  # fmt: skip
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda v: {"L": v}),
        st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=4).map(lambda v: {"M": v}),
    ),
    max_leaves=12,
)
_item = st.dictionaries(st.text(min_size=1, max_size=8), _value, min_size=1, max_size=6)


@given(_item)
def test_agrees_with_the_emulator(item: dict) -> None:
    """The emulator keeps its own copy (it imports nothing of ours); both must bill alike."""
    assert item_size(item) == emulator_items.item_size(item)


def test_agrees_with_the_emulator_on_38_digit_numbers() -> None:
    item = {"n": {"N": "1" + "0" * 30 + "1"}, "m": {"N": "9" * 38}}
    assert item_size(item) == emulator_items.item_size(item)
