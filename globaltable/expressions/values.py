"""Comparison semantics of wire values, as conditions see them.

Equality is deep and type-strict (numbers by value, sets ignoring order); ordering exists only
between two S, two N or two B values — any other pairing makes `<` etc. false, as in DynamoDB.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal

from globaltable.items import decode_binary, parse_number


def kind_of(value: dict) -> str:
    """The type tag of a wire value ("S", "N", "L", ...)."""
    return next(iter(value))


def equal(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return False
    ((kind, left),) = a.items()
    right = b.get(kind)
    if right is None or len(b) != 1:
        return False
    if kind == "S" or kind == "BOOL" or kind == "NULL":
        return left == right
    if kind == "N":
        return left == right or parse_number(left) == parse_number(right)
    if kind == "B":
        return left == right or decode_binary(left) == decode_binary(right)
    if kind == "SS":
        return set(left) == set(right)
    if kind == "NS":
        return {parse_number(n) for n in left} == {parse_number(n) for n in right}
    if kind == "BS":
        return {decode_binary(x) for x in left} == {decode_binary(x) for x in right}
    if kind == "L":
        return len(left) == len(right) and all(map(equal, left, right))
    if kind == "M":
        return left.keys() == right.keys() and all(equal(v, right[k]) for k, v in left.items())
    return False


def ordered_pair(a: dict | None, b: dict | None) -> tuple[object, object] | None:
    """Both payloads in comparable form, or None when `a < b` is not defined for them."""
    if a is None or b is None:
        return None
    ((kind, left),) = a.items()
    right = b.get(kind)
    if right is None:
        return None
    if kind == "S":
        return left, right  # code-point order equals DynamoDB's UTF-8 byte order
    if kind == "N":
        return parse_number(left), parse_number(right)
    if kind == "B":
        return decode_binary(left), decode_binary(right)
    return None


ORDER: dict[str, Callable[[object, object], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def ordered(op: str, a: dict | None, b: dict | None) -> bool:
    """`a op b` for an ordering comparator; false when the pair has no order."""
    pair = ordered_pair(a, b)
    return pair is not None and ORDER[op](*pair)


def between(value: dict | None, low: dict | None, high: dict | None) -> bool:
    """`value BETWEEN low AND high`, inclusive; false unless all three share an ordered type."""
    return ordered("<=", low, value) and ordered("<=", value, high)


def size_of(value: dict | None) -> dict | None:
    """`size(path)`: string length, binary bytes, set/list/map element count."""
    if value is None:
        return None
    ((kind, data),) = value.items()
    if kind == "S":
        return {"N": str(len(data))}
    if kind == "B":
        return {"N": str(len(decode_binary(data)))}
    if kind in ("SS", "NS", "BS", "L", "M"):
        return {"N": str(len(data))}
    return None


def contains(haystack: dict | None, needle: dict | None) -> bool:
    """`contains(path, operand)`: substring of S/B, member of a set, element of a list."""
    if haystack is None or needle is None:
        return False
    ((kind, data),) = haystack.items()
    if kind == "S":
        sub = needle.get("S")
        return sub is not None and sub in data
    if kind == "B":
        sub = needle.get("B")
        return sub is not None and decode_binary(sub) in decode_binary(data)
    if kind == "SS":
        return "S" in needle and needle["S"] in data
    if kind == "NS":
        if "N" not in needle:
            return False
        wanted = parse_number(needle["N"])
        return any(parse_number(n) == wanted for n in data)
    if kind == "BS":
        if "B" not in needle:
            return False
        wanted_bytes = decode_binary(needle["B"])
        return any(decode_binary(x) == wanted_bytes for x in data)
    if kind == "L":
        return any(equal(element, needle) for element in data)
    return False


def begins_with(value: dict | None, prefix: dict | None) -> bool:
    if value is None or prefix is None:
        return False
    if "S" in value and "S" in prefix:
        return value["S"].startswith(prefix["S"])
    if "B" in value and "B" in prefix:
        return decode_binary(value["B"]).startswith(decode_binary(prefix["B"]))
    return False


def number(value: dict) -> Decimal:
    return parse_number(value["N"])
