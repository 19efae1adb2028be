"""Legacy (pre-expression) parameters over boto3: Expected + ConditionalOperator,
AttributeUpdates, KeyConditions, QueryFilter, ScanFilter, AttributesToGet, and DynamoDB's rules
and messages for mixing them with expressions. They run through the same engine: a legacy
write replicates like any other."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.globaltable_fixtures import RunningEmulator, client_error

EAST, WEST = "us-east-1", "us-west-2"
_names = itertools.count()


@pytest.fixture
def ranged(fast_emu: RunningEmulator) -> str:
    return fast_emu.create_table(f"legacy-r-{next(_names)}", EAST, sk="N")


def S(text: str) -> dict[str, str]:  # noqa: N802 - DynamoDB's type letter
    return {"S": text}


def N(number: int) -> dict[str, str]:  # noqa: N802
    return {"N": str(number)}


def test_expected_exists_value_and_operators(east_ddb: Any, east_table: str) -> None:
    east_ddb.put_item(
        TableName=east_table, Item={"pk": S("a"), "v": N(1)}, Expected={"pk": {"Exists": False}}
    )
    failed = east_ddb.exceptions.ConditionalCheckFailedException
    with pytest.raises(failed):
        east_ddb.put_item(
            TableName=east_table, Item={"pk": S("a")}, Expected={"pk": {"Exists": False}}
        )
    east_ddb.put_item(
        TableName=east_table, Item={"pk": S("a"), "v": N(2)}, Expected={"v": {"Value": N(1)}}
    )
    with pytest.raises(failed):
        east_ddb.put_item(
            TableName=east_table, Item={"pk": S("a")}, Expected={"v": {"Value": N(1)}}
        )
    cond = {"v": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(1), N(3)]}}
    east_ddb.put_item(
        TableName=east_table, Item={"pk": S("a"), "v": N(3), "s": S("hello")}, Expected=cond
    )
    either = {
        "v": {"ComparisonOperator": "GT", "AttributeValueList": [N(100)]},
        "s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("he")]},
    }
    with pytest.raises(failed):
        east_ddb.delete_item(TableName=east_table, Key={"pk": S("a")}, Expected=either)
    east_ddb.delete_item(
        TableName=east_table, Key={"pk": S("a")}, Expected=either, ConditionalOperator="OR"
    )
    assert "Item" not in east_ddb.get_item(TableName=east_table, Key={"pk": S("a")})


def test_missing_attribute_semantics(east_ddb: Any, east_table: str) -> None:
    """NE holds for a missing attribute; NOT_CONTAINS, like CONTAINS, does not (hothot's reading,
    docs/emulator.md)."""
    east_ddb.put_item(TableName=east_table, Item={"pk": S("m")})
    ne = {"x": {"ComparisonOperator": "NE", "AttributeValueList": [S("y")]}}
    east_ddb.put_item(TableName=east_table, Item={"pk": S("m")}, Expected=ne)
    not_contains = {"x": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [S("y")]}}
    with pytest.raises(east_ddb.exceptions.ConditionalCheckFailedException):
        east_ddb.put_item(TableName=east_table, Item={"pk": S("m")}, Expected=not_contains)
    east_ddb.put_item(
        TableName=east_table, Item={"pk": S("m"), "x": S("abc")}, Expected={"x": {"Exists": False}}
    )
    east_ddb.put_item(
        TableName=east_table, Item={"pk": S("m"), "x": S("abc")}, Expected=not_contains
    )


def test_attribute_updates_put_add_delete(
    fast_emu: RunningEmulator, east_ddb: Any, east_table: str
) -> None:
    key = {"pk": S("u")}
    answer = east_ddb.update_item(
        TableName=east_table,
        Key=key,
        AttributeUpdates={
            "n": {"Action": "ADD", "Value": N(5)},
            "tags": {"Action": "ADD", "Value": {"SS": ["a", "b"]}},
            "log": {"Action": "ADD", "Value": {"L": [S("first")]}},
            "name": {"Value": S("Ada")},
        },
        ReturnValues="ALL_NEW",
    )
    assert answer["Attributes"] == {
        "pk": S("u"),
        "n": N(5),
        "tags": {"SS": ["a", "b"]},
        "log": {"L": [S("first")]},
        "name": S("Ada"),
    }
    answer = east_ddb.update_item(
        TableName=east_table,
        Key=key,
        AttributeUpdates={
            "n": {"Action": "ADD", "Value": N(-2)},
            "tags": {"Action": "DELETE", "Value": {"SS": ["a"]}},
            "log": {"Action": "ADD", "Value": {"L": [S("second")]}},
            "name": {"Action": "DELETE"},
        },
        Expected={"n": {"Value": N(5)}},
        ReturnValues="UPDATED_NEW",
    )
    assert answer["Attributes"] == {
        "n": N(3),
        "tags": {"SS": ["b"]},
        "log": {"L": [S("first"), S("second")]},
    }
    code, message = client_error(
        east_ddb.update_item,
        TableName=east_table,
        Key=key,
        AttributeUpdates={
            "name": {"Action": "ADD", "Value": N(1)},
            "n": {"Action": "ADD", "Value": {"SS": ["x"]}},
        },
    )
    assert (code, message) == ("ValidationException", "Type mismatch for attribute to update")
    assert fast_emu.control_client.quiesce(10)["converged"]
    west = fast_emu.client(WEST).get_item(TableName=east_table, Key=key, ConsistentRead=True)[
        "Item"
    ]
    assert west["n"] == N(3) and west["tags"] == {"SS": ["b"]}


def test_attributes_to_get_on_reads(east_ddb: Any, east_table: str) -> None:
    east_ddb.put_item(TableName=east_table, Item={"pk": S("g"), "a": N(1), "b": N(2), "c": N(3)})
    got = east_ddb.get_item(
        TableName=east_table, Key={"pk": S("g")}, AttributesToGet=["a", "c", "zz"]
    )
    assert got["Item"] == {"a": N(1), "c": N(3)}
    batch = east_ddb.batch_get_item(
        RequestItems={east_table: {"Keys": [{"pk": S("g")}], "AttributesToGet": ["b"]}}
    )
    assert batch["Responses"][east_table] == [{"b": N(2)}]
    code, message = client_error(
        east_ddb.get_item, TableName=east_table, Key={"pk": S("g")}, AttributesToGet=["a", "a"]
    )
    assert (
        message == "One or more parameter values were invalid: Duplicate value in attribute name: a"
    )


def test_query_key_conditions_filters_and_scan_filter(east_ddb: Any, ranged: str) -> None:
    for i in range(10):
        east_ddb.put_item(TableName=ranged, Item={"pk": S("p"), "sk": N(i), "odd": N(i % 2)})
    east_ddb.put_item(TableName=ranged, Item={"pk": S("q"), "sk": N(1)})
    answer = east_ddb.query(
        TableName=ranged,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("p")]},
            "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(2), N(7)]},
        },
        QueryFilter={"odd": {"ComparisonOperator": "EQ", "AttributeValueList": [N(1)]}},
        AttributesToGet=["sk"],
        ScanIndexForward=False,
    )
    assert [i["sk"] for i in answer["Items"]] == [N(7), N(5), N(3)]
    assert answer["ScannedCount"] == 6
    mixed = east_ddb.query(
        TableName=ranged,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("p")]}},
        FilterExpression="odd = :t",
        ExpressionAttributeValues={":t": N(0)},
    )
    assert mixed["Count"] == 5
    scanned = east_ddb.scan(
        TableName=ranged,
        ScanFilter={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("q")]},
            "sk": {"ComparisonOperator": "IN", "AttributeValueList": [N(8), N(9)]},
        },
        ConditionalOperator="OR",
    )
    assert sorted((i["pk"]["S"], i["sk"]["N"]) for i in scanned["Items"]) == [
        ("p", "8"),
        ("p", "9"),
        ("q", "1"),
    ]


@pytest.mark.parametrize(
    ("call", "kwargs", "message"),
    [
        (
            "put_item",
            {"Expected": {"a": {"Exists": False}}, "ConditionExpression": "attribute_exists(a)"},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            "put_item",
            {"Expected": {"a": {"Exists": False}}, "ExpressionAttributeNames": {"#a": "a"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        (
            "put_item",
            {"Expected": {"a": {"Exists": True}}},
            "One or more parameter values were invalid: Value must be provided when Exists is "
            "true for Attribute: a",
        ),
        (
            "put_item",
            {"Expected": {"a": {"Exists": False, "Value": S("x")}}},
            "One or more parameter values were invalid: Value cannot be used when Exists is "
            "false for Attribute: a",
        ),
        (
            "put_item",
            {
                "Expected": {
                    "a": {"ComparisonOperator": "EQ", "AttributeValueList": [S("1"), S("2")]}
                }
            },
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ "
            "ComparisonOperator",
        ),
        (
            "put_item",
            {
                "Expected": {
                    "a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(3), N(1)]}
                }
            },
            "The BETWEEN condition was provided a range where the lower bound is greater than the "
            "upper bound",
        ),
        (
            "put_item",
            {
                "Expected": {
                    "a": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"SS": ["x"]}]}
                }
            },
            "One or more parameter values were invalid: ComparisonOperator CONTAINS is not valid "
            "for SS AttributeValue type",
        ),
        (
            "put_item",
            {"Expected": {"a": {"ComparisonOperator": "NULL", "Exists": True}}},
            "One or more parameter values were invalid: Exists and ComparisonOperator cannot be "
            "used together for Attribute: a",
        ),
    ],
)
def test_legacy_validation_messages(
    east_ddb: Any, east_table: str, call: str, kwargs: dict, message: str
) -> None:
    code, got = client_error(
        getattr(east_ddb, call), TableName=east_table, Item={"pk": S("v")}, **kwargs
    )
    assert (code, got) == ("ValidationException", message)


def test_update_and_query_mixing_rules(east_ddb: Any, east_table: str, ranged: str) -> None:
    code, message = client_error(
        east_ddb.update_item,
        TableName=east_table,
        Key={"pk": S("x")},
        AttributeUpdates={"a": {"Value": N(1)}},
        UpdateExpression="SET b = :b",
        ExpressionAttributeValues={":b": N(1)},
    )
    assert message == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}"
    )
    code, message = client_error(
        east_ddb.update_item,
        TableName=east_table,
        Key={"pk": S("x")},
        AttributeUpdates={"pk": {"Value": S("y")}},
    )
    assert message == (
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute "
        "is part of the key"
    )
    code, message = client_error(east_ddb.query, TableName=ranged)
    assert message == (
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request."
    )
    code, message = client_error(
        east_ddb.query,
        TableName=ranged,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("p")]}},
        QueryFilter={"sk": {"ComparisonOperator": "GT", "AttributeValueList": [N(1)]}},
    )
    assert message == (
        "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"
    )
    code, message = client_error(
        east_ddb.query,
        TableName=ranged,
        KeyConditions={"pk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("p")]}},
    )
    assert message == "Query key condition not supported"
    code, message = client_error(
        east_ddb.query,
        TableName=ranged,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("p")]},
            "sk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("1")]},
        },
    )
    assert message == (
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type"
    )
