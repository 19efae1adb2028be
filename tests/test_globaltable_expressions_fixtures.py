"""A sample item and placeholder values shared by the expression tests."""

from __future__ import annotations

import base64

ITEM: dict = {
    "pk": {"S": "user#1"},
    "n": {"N": "5"},
    "price": {"N": "12.50"},
    "title": {"S": "hello world"},
    "b": {"B": base64.b64encode(b"\x01\x02\x03").decode()},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "tags": {"SS": ["red", "blue"]},
    "nums": {"NS": ["1", "2.5"]},
    "l": {"L": [{"S": "x"}, {"N": "2"}, {"M": {"deep": {"S": "y"}}}]},
    "m": {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"S": "z"}}}, "dot.ted": {"S": "d"}}},
    "dot.ted": {"S": "top"},
}

VALUES: dict = {
    ":five": {"N": "5"},
    ":five0": {"N": "5.0"},
    ":one": {"N": "1"},
    ":ten": {"N": "10"},
    ":hello": {"S": "hello world"},
    ":he": {"S": "he"},
    ":wo": {"S": "wo"},
    ":red": {"S": "red"},
    ":x": {"S": "x"},
    ":two": {"N": "2"},
    ":twofive": {"N": "2.50"},
    ":true": {"BOOL": True},
    ":S": {"S": "S"},
    ":SS": {"S": "SS"},
    ":M": {"S": "M"},
    ":NULL": {"S": "NULL"},
    ":b12": {"B": base64.b64encode(b"\x01\x02").decode()},
    ":tags": {"SS": ["blue", "red"]},
    ":a": {"S": "a"},
    ":z": {"S": "z"},
}

NAMES: dict = {"#n": "n", "#dt": "dot.ted", "#m": "m", "#size": "size", "#t": "title"}
