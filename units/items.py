"""DynamoDB's item size, the figure capacity units are charged by (per 1 KB written, 4 KB
read): loadgen records `item_bytes`/`old_bytes` with it and the cost model prices them.

The rules are AWS's (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html);
where AWS is silent (sets) the choice is hothot's and says so. The emulator keeps its own copy
inside its item validation (`globaltable.items`); a test keeps the two equal.
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal, InvalidOperation
from typing import Any


def item_size(item: dict[str, Any]) -> int:
    """Bytes DynamoDB bills for a wire-format item `{"name": {"S": "x"}, ...}`.

    Sum over attributes of the UTF-8 name plus the value: S = UTF-8 bytes; N = 1 byte per two
    significant digits + 1 (+1 if negative; zero is 1); B = raw bytes (base64 text in JSON is
    decoded); NULL/BOOL = 1; L/M = 3 + per element (1 + element, map keys count their UTF-8
    name); SS/NS/BS = sum of elements (AWS leaves sets unclear; hothot's choice). A bad value
    raises ValueError naming the attribute path.
    """
    if not isinstance(item, dict):
        raise ValueError(f"an item must be a dict of attributes, got {type(item).__name__}")
    return sum(len(name.encode()) + _value(typed, name) for name, typed in item.items())


def _number(text: Any, where: str) -> int:
    try:
        parsed = Decimal(str(text))
    except InvalidOperation:
        raise ValueError(f"{where}: {text!r} is not a DynamoDB number") from None
    if not parsed.is_finite():
        raise ValueError(f"{where}: {text!r} is not a DynamoDB number")
    if not parsed:
        return 1  # zero: no significant digits
    # count digits by hand: Decimal.normalize() would round to the context's 28 digits
    digits = "".join(map(str, parsed.as_tuple().digits)).strip("0")
    return math.ceil(len(digits) / 2) + 1 + (1 if parsed < 0 else 0)


def _binary(data: Any, where: str) -> int:
    if isinstance(data, bytes | bytearray | memoryview):
        return len(data)
    if isinstance(data, str):
        try:
            return len(base64.b64decode(data, validate=True))
        except ValueError:
            raise ValueError(f"{where}: binary value is not base64") from None
    raise ValueError(f"{where}: binary value must be bytes or base64 text")


def _value(typed: Any, where: str) -> int:
    if not isinstance(typed, dict) or len(typed) != 1:
        raise ValueError(f"{where}: expected one type tag like {{'S': ...}}, got {typed!r}")
    ((tag, v),) = typed.items()
    if tag == "S" and isinstance(v, str):
        return len(v.encode())
    if tag == "N":
        return _number(v, where)
    if tag == "B":
        return _binary(v, where)
    if tag in ("NULL", "BOOL"):
        return 1
    if tag == "SS" and isinstance(v, list):
        return sum(len(str(e).encode()) for e in v)
    if tag == "NS" and isinstance(v, list):
        return sum(_number(e, where) for e in v)
    if tag == "BS" and isinstance(v, list):
        return sum(_binary(e, where) for e in v)
    if tag == "L" and isinstance(v, list):
        return 3 + sum(1 + _value(e, f"{where}[{i}]") for i, e in enumerate(v))
    if tag == "M" and isinstance(v, dict):
        return 3 + sum(1 + len(k.encode()) + _value(e, f"{where}.{k}") for k, e in v.items())
    raise ValueError(f"{where}: unknown or malformed type {tag!r}")
