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

#: VALUES and what the update cases add
UPDATE_VALUES = {
    **VALUES,
    ":s": {"S": "new"},
    ":list": {"L": [{"S": "q"}]},
    ":empty": {"L": []},
    ":more": {"SS": ["green", "red"]},
    ":drop": {"SS": ["red"]},
    ":all": {"SS": ["red", "blue"]},
    ":nums": {"NS": ["2.50", "7"]},
    ":big": {"N": "99999999999999999999999999999999999999"},
    ":neg": {"N": "-0.5"},
    ":map": {"M": {"k": {"S": "v"}}},
}

#: ConditionExpression cases against ITEM and their expected results, worked out by hand
CONDITION_CASES = [
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
