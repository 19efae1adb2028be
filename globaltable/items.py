"""Item rules of DynamoDB: attribute-value validation, item size, number form, key ordering.

Items are wire-format dicts (`{"a": {"S": "x"}, "n": {"N": "1.5"}}`). Numbers follow DynamoDB:
up to 38 significant digits, magnitude between 1E-130 and 1E+126, rendered in a canonical
plain form ("01.50" -> "1.5", "1e2" -> "100"). Sizes follow AWS's rules
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

MAX_ITEM_BYTES = 400 * 1024
MAX_NESTING = 32
MAX_DIGITS = 38
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}
ALL_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"})
_SET_WORDS = {"SS": "string", "NS": "number", "BS": "binary"}
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# exact for every storable number (<= 38 digits); the default context would round at 28
_EXACT = Context(prec=MAX_DIGITS + 2)
_OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
_UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)


class ItemError(ValueError):
    """An item or attribute value DynamoDB would reject; `attribute` names where."""

    def __init__(self, message: str, attribute: str = "") -> None:
        super().__init__(message)
        self.attribute = attribute


class ItemSerializationError(ItemError):
    """A value of the wrong JSON type inside an attribute value (`{"S": 5}`): DynamoDB's
    deserializer refuses it before validation, as a SerializationException."""


def wrong_json_type(data: Any, java: str, where: str) -> ItemSerializationError:
    """DynamoDB's deserializer message for `data` where a `java` type (String, Boolean, List,
    Map) was expected."""
    if isinstance(data, dict):
        message = "Start of structure or map found where not expected"
    elif isinstance(data, list):
        message = f"Unrecognized collection type class java.lang.{java}"
    elif java in ("List", "Map"):
        message = "Unexpected field type"
    elif isinstance(data, bool):
        message = f"{'TRUE' if data else 'FALSE'}_VALUE cannot be converted to {java}"
    elif isinstance(data, int):
        message = f"NUMBER_VALUE cannot be converted to {java}"
    elif isinstance(data, float):
        message = f"DECIMAL_VALUE cannot be converted to {java}"
    else:
        message = f"STRING_VALUE cannot be converted to {java}"
    return ItemSerializationError(message, where)


class NumberError(ItemError):
    """A number DynamoDB cannot store (bad text, too many digits, out of range)."""


def parse_number(text: str) -> Decimal:
    """The Decimal of a wire number, checked against DynamoDB's limits."""
    if not isinstance(text, str):
        raise NumberError(f"The parameter cannot be converted to a numeric value: {text!r}")
    return _parse_number_text(text)


@lru_cache(maxsize=65536)
def _parse_number_text(text: str) -> Decimal:
    if _NUMBER_TEXT.fullmatch(text) is None:
        raise NumberError(f"The parameter cannot be converted to a numeric value: {text!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        # an exponent beyond what Decimal itself can hold (|e| > 10^18): far out of range
        return _beyond_decimal(text)
    check_number(value)
    return value


def _beyond_decimal(text: str) -> Decimal:
    """A number whose exponent Decimal refuses: zero stays zero, anything else is DynamoDB's
    overflow or underflow (by the exponent's sign)."""
    mantissa, _, exponent = text.lower().partition("e")
    if not mantissa.strip("+-.0"):
        return Decimal(0)
    raise NumberError(_UNDERFLOW if exponent.startswith("-") else _OVERFLOW)


def significant_digits(value: Decimal) -> int:
    """Digits between the first and last non-zero digit (0 for zero)."""
    digits = value.as_tuple().digits
    end = len(digits)
    while end and digits[end - 1] == 0:
        end -= 1
    start = 0
    while start < end and digits[start] == 0:
        start += 1
    return end - start


def check_number(value: Decimal) -> None:
    """Raise NumberError unless DynamoDB can store `value` exactly."""
    if not value:
        return
    if len(value.as_tuple().digits) > MAX_DIGITS and significant_digits(value) > MAX_DIGITS:
        raise NumberError("Attempting to store more than 38 significant digits in a Number")
    exponent = value.adjusted()
    if exponent > 125:
        raise NumberError(_OVERFLOW)
    if exponent < -130:
        raise NumberError(_UNDERFLOW)


def format_number(value: Decimal) -> str:
    """DynamoDB's canonical text of a number: plain notation, no trailing zeros."""
    if not value:
        return "0"
    return format(value.normalize(_EXACT), "f")


def canonical_number(text: str) -> str:
    """Validate a wire number and return its canonical text."""
    return format_number(parse_number(text))


@lru_cache(maxsize=65536)
def _number_info(text: str) -> tuple[int, str]:
    """(bytes it counts, canonical text) of a wire number: DynamoDB stores and returns
    numbers canonically (`00012.500` -> `12.5`, `1E+2` -> `100`, `-0` -> `0`)."""
    value = parse_number(text)
    canonical = format_number(value)
    if not value:
        return 1, canonical
    return (significant_digits(value) + 1) // 2 + 1 + (1 if value < 0 else 0), canonical


def _number_size(text: str) -> int:
    return _number_info(text)[0]


def _canonical_numbers(value: dict, kind: str, data: Any) -> None:
    """Store a valid N or NS value's numbers in canonical text, in place."""
    if kind == "N":
        canonical = _number_info(data)[1]
        if canonical != data:
            value["N"] = canonical
    elif kind == "NS":
        texts = [_number_info(n)[1] for n in data]
        if texts != data:
            value["NS"] = texts


def decode_binary(data: Any) -> bytes:
    """The raw bytes of a wire binary value (base64 text, or bytes already decoded)."""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if not isinstance(data, str):
        raise ItemError("Binary value must be a base64 string")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ItemError("Base64 decoding failed for a binary value") from None


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def value_size(value: dict) -> int:
    """Bytes a single attribute value counts toward the item size."""
    ((kind, data),) = value.items()
    if kind == "S":
        return _utf8_len(data)
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(decode_binary(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8_len(s) for s in data)
    if kind == "NS":
        return sum(_number_size(n) for n in data)
    if kind == "BS":
        return sum(len(decode_binary(b)) for b in data)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in data)
    if kind == "M":
        return 3 + sum(_utf8_len(k) + value_size(v) + 1 for k, v in data.items())
    raise ItemError(f"Unknown attribute value type: {kind}")


def item_size(item: dict) -> int:
    """DynamoDB item size in bytes: attribute name bytes + value sizes."""
    return sum(_utf8_len(name) + value_size(value) for name, value in item.items())


def _invalid(message: str, where: str) -> ItemError:
    return ItemError(
        f"One or more parameter values were invalid: {message}; attribute: {where}", where
    )


def validate_value(value: Any, where: str, depth: int = 1) -> None:
    """Check one attribute value; `where` is its document path, used in the message. Numbers
    are rewritten in canonical text, as DynamoDB stores them."""
    if depth > MAX_NESTING:
        raise ItemError(f"Nesting Levels have exceeded supported limits; attribute: {where}", where)
    if not isinstance(value, dict) or not value:
        raise ItemError(
            "Supplied AttributeValue is empty, must contain exactly one of the supported "
            f"datatypes; attribute: {where}",
            where,
        )
    if len(value) > 1:
        raise ItemError(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            f"of the supported datatypes; attribute: {where}",
            where,
        )
    ((kind, data),) = value.items()
    try:
        _validate_payload(kind, data, where, depth)
    except ItemError as error:
        if error.attribute or isinstance(error, ItemSerializationError):
            raise
        raise ItemError(f"{error}; attribute: {where}", where) from None
    _canonical_numbers(value, kind, data)


def _validate_payload(kind: str, data: Any, where: str, depth: int) -> None:
    if kind == "S":
        if not isinstance(data, str):
            raise wrong_json_type(data, "String", where)
    elif kind == "N":
        if not isinstance(data, str):
            raise wrong_json_type(data, "String", where)
        parse_number(data)
    elif kind == "B":
        decode_binary(data)
    elif kind == "BOOL":
        if not isinstance(data, bool):
            raise wrong_json_type(data, "Boolean", where)
    elif kind == "NULL":
        if not isinstance(data, bool):
            raise wrong_json_type(data, "Boolean", where)
        if data is not True:
            raise _invalid("Null attribute value types must have the value of true", where)
    elif kind in SET_TYPES:
        _validate_set(kind, data, where)
    elif kind == "L":
        if not isinstance(data, list):
            raise wrong_json_type(data, "List", where)
        for index, element in enumerate(data):
            validate_value(element, f"{where}[{index}]", depth + 1)
    elif kind == "M":
        if not isinstance(data, dict):
            raise wrong_json_type(data, "Map", where)
        for name, element in data.items():
            validate_value(element, f"{where}.{name}", depth + 1)
    else:
        raise ItemError(
            f"Supplied AttributeValue has an unknown datatype {kind!r}, must contain exactly one "
            f"of the supported datatypes; attribute: {where}",
            where,
        )


def _validate_set(kind: str, data: Any, where: str) -> None:
    if not isinstance(data, list):
        raise wrong_json_type(data, "List", where)
    if not data:
        raise _invalid(f"An {_SET_WORDS[kind]} set  may not be empty", where)
    for element in data:
        if not isinstance(element, str):
            raise wrong_json_type(element, "String", where)
    if kind == "SS":
        keys: list[Any] = list(data)
    elif kind == "NS":
        keys = [parse_number(n) for n in data]
    else:
        keys = [decode_binary(b) for b in data]
    if len(set(keys)) != len(keys):
        shown = ", ".join(str(d) for d in data)
        raise _invalid(f"Input collection [{shown}] contains duplicates", where)


def validated_size(item: dict[str, Any]) -> int:
    """Validate every attribute of `item` and return its size, in one pass (the write hot
    path). Plain strings are checked and sized inline; any other value, and every error, goes
    through `validate_value`, so messages are those of the slow path. The 400 KB limit is the
    caller's (its message differs by operation)."""
    size = 0
    for name, value in item.items():
        if not name:
            raise ItemError("One or more parameter values were invalid: Empty attribute name", "")
        size += len(name) if name.isascii() else len(name.encode("utf-8"))
        if type(value) is dict and len(value) == 1:
            text = value.get("S")
            if type(text) is str:
                size += len(text) if text.isascii() else len(text.encode("utf-8"))
                continue
            text = value.get("N")
            if type(text) is str:
                try:
                    counted, canonical = _number_info(text)
                except ItemError:
                    pass  # validate_value raises it, naming the attribute
                else:
                    size += counted
                    if canonical != text:
                        value["N"] = canonical
                    continue
        validate_value(value, name)
        size += value_size(value)
    return size


def validate_item(item: Any) -> None:
    """Raise ItemError naming the attribute and the fault unless DynamoDB would store `item`."""
    if not isinstance(item, dict):
        raise ItemError("Item must be a map of attribute names to values")
    if not all(isinstance(name, str) for name in item):
        raise ItemError("One or more parameter values were invalid: Empty attribute name", "")
    if validated_size(item) > MAX_ITEM_BYTES:
        raise ItemError("Item size has exceeded the maximum allowed size")


def canonical_value(value: dict) -> dict:
    """A copy of a valid value with every number in canonical form (as DynamoDB returns it)."""
    ((kind, data),) = value.items()
    if kind == "N":
        return {"N": canonical_number(data)}
    if kind == "NS":
        return {"NS": [canonical_number(n) for n in data]}
    if kind == "L":
        return {"L": [canonical_value(v) for v in data]}
    if kind == "M":
        return {"M": {k: canonical_value(v) for k, v in data.items()}}
    return value


def canonical_item(item: dict) -> dict:
    """A copy of a valid item with numbers in canonical form."""
    return {name: canonical_value(value) for name, value in item.items()}


def _key_payload(value: dict) -> tuple[str, Any]:
    ((kind, data),) = value.items()
    if kind == "N":
        return kind, parse_number(data)
    if kind == "B":
        return kind, decode_binary(data)
    if kind == "S":
        return kind, data.encode("utf-8")
    raise ItemError(f"Key values must be S, N or B, not {kind}")


def compare_key_values(a: dict, b: dict) -> int:
    """-1/0/1 ordering of two S/N/B values of one type, as Query sorts range keys.

    Strings compare by UTF-8 bytes and binaries as unsigned bytes, as DynamoDB does.
    """
    kind_a, left = _key_payload(a)
    kind_b, right = _key_payload(b)
    if kind_a != kind_b:
        raise ItemError(f"Cannot compare key values of types {kind_a} and {kind_b}")
    return (left > right) - (left < right)
