"""What DynamoDB refuses in the request itself, whatever the item (a ValidationException, not a
failed condition): values an operator cannot compare, BETWEEN bounds of two types or in the
wrong order, filters checked even when nothing reaches them, ConditionalOperator without
conditions, attribute names that are empty or too long. And what it accepts that the
reference does not list: size() and attribute_type() of a request value, legacy EQ on lists,
maps and booleans."""

from __future__ import annotations

from typing import Any

import pytest

from tests.globaltable_fixtures import RunningEmulator, client_error

KEY = {"pk": {"S": "k"}}


def update(ddb: Any, table: str, condition: str, values: dict[str, Any]) -> Any:
    return ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET z = :z",
        ConditionExpression=condition,
        ExpressionAttributeValues={":z": {"N": "1"}, **values},
    )


@pytest.mark.parametrize(
    ("condition", "values", "fragment"),
    [
        ("a < :v", {":v": {"L": []}}, "operator or function: <, operand type: L"),
        (":v >= a", {":v": {"BOOL": True}}, "operator or function: >=, operand type: BOOL"),
        (
            "a BETWEEN :lo AND :hi",
            {":lo": {"N": "2"}, ":hi": {"S": "x"}},
            "requires same data type for lower and upper bounds",
        ),
        (
            "a BETWEEN :lo AND :hi",
            {":lo": {"N": "2"}, ":hi": {"N": "1"}},
            "requires upper bound to be greater than or equal to lower bound",
        ),
        ("size(:v) > :z", {":v": {"N": "3"}}, "operator or function: size, operand type: N"),
        ("begins_with(a, :v)", {":v": {"N": "3"}}, "begins_with, operand type: N"),
    ],
)
def test_request_values_an_operator_refuses(
    east_ddb: Any, east_table: str, condition: str, values: dict[str, Any], fragment: str
) -> None:
    """Refused before the item is read: the item does not even exist."""
    code, message = client_error(
        update, ddb=east_ddb, table=east_table, condition=condition, values=values
    )
    assert code == "ValidationException"
    assert message.startswith("Invalid ConditionExpression: ")
    assert fragment in message


def test_stored_values_of_the_wrong_type_only_fail_the_condition(
    east_ddb: Any, east_table: str
) -> None:
    east_ddb.put_item(TableName=east_table, Item={**KEY, "a": {"L": [{"N": "1"}]}})
    code, _ = client_error(
        update, ddb=east_ddb, table=east_table, condition="a < :v", values={":v": {"N": "5"}}
    )
    assert code == "ConditionalCheckFailedException"


def test_size_and_attribute_type_of_request_values(east_ddb: Any, east_table: str) -> None:
    values = {":s": {"S": "abc"}, ":two": {"N": "2"}, ":t": {"S": "S"}}
    update(east_ddb, east_table, "size(:s) > :two AND attribute_type(:s, :t)", values)
    assert east_ddb.get_item(TableName=east_table, Key=KEY)["Item"]["z"] == {"N": "1"}


def test_a_filter_is_checked_when_no_item_reaches_it(
    east_ddb: Any, fast_emu: RunningEmulator
) -> None:
    table = fast_emu.create_table("exact-filter", "us-east-1", sk="N")
    code, message = client_error(
        east_ddb.query,
        TableName=table,
        KeyConditionExpression="pk = :p",
        FilterExpression="begins_with(s, :n)",
        ExpressionAttributeValues={":p": {"S": "nothing here"}, ":n": {"N": "3"}},
    )
    assert code == "ValidationException"
    assert "Invalid FilterExpression" in message and "begins_with" in message


def test_legacy_equality_on_lists_maps_and_booleans(east_ddb: Any, east_table: str) -> None:
    items = [
        {
            "pk": {"S": "1"},
            "l": {"L": [{"N": "1"}]},
            "m": {"M": {"a": {"S": "x"}}},
            "b": {"BOOL": True},
        },
        {
            "pk": {"S": "2"},
            "l": {"L": [{"N": "2"}]},
            "m": {"M": {"a": {"S": "y"}}},
            "b": {"BOOL": False},
        },
    ]
    for item in items:
        east_ddb.put_item(TableName=east_table, Item=item)
    for attribute in ("l", "m", "b"):
        found = east_ddb.scan(
            TableName=east_table,
            ScanFilter={
                attribute: {"ComparisonOperator": "EQ", "AttributeValueList": [items[0][attribute]]}
            },
        )["Items"]
        assert [i["pk"]["S"] for i in found] == ["1"], attribute


def test_conditional_operator_needs_conditions(east_ddb: Any, east_table: str) -> None:
    for expected in ({}, None):
        request = {"Expected": expected} if expected is not None else {}
        code, message = client_error(
            east_ddb.update_item,
            TableName=east_table,
            Key=KEY,
            AttributeUpdates={"z": {"Value": {"N": "4"}, "Action": "PUT"}},
            ConditionalOperator="OR",
            **request,
        )
        assert code == "ValidationException"
        assert "ConditionalOperator" in message and "Expected" in message
    # an empty Expected alone is no condition at all
    east_ddb.update_item(
        TableName=east_table,
        Key=KEY,
        AttributeUpdates={"z": {"Value": {"N": "4"}, "Action": "PUT"}},
        Expected={},
    )


def test_attribute_name_lengths(east_ddb: Any, east_table: str) -> None:
    longest = "n" * 65535
    east_ddb.put_item(TableName=east_table, Item={**KEY, longest: {"N": "1"}})
    code, message = client_error(
        east_ddb.put_item, TableName=east_table, Item={**KEY, longest + "n": {"N": "1"}}
    )
    assert (code, "must be less than 65536 bytes" in message) == ("ValidationException", True)
    code, message = client_error(
        east_ddb.get_item,
        TableName=east_table,
        Key=KEY,
        ProjectionExpression="#n",
        ExpressionAttributeNames={"#n": ""},
    )
    assert (
        message
        == "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n"
    )
    code, message = client_error(
        east_ddb.create_table,
        TableName="exact-long-key",
        KeySchema=[{"AttributeName": "k" * 256, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k" * 256, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert "Member must have length less than or equal to 255" in message


def test_a_parallel_scan_starts_only_from_a_key_of_its_segment(
    east_ddb: Any, east_table: str
) -> None:
    for i in range(20):
        east_ddb.put_item(TableName=east_table, Item={"pk": {"S": f"item-{i}"}})
    scan = {"TableName": east_table, "TotalSegments": 2, "Limit": 1}
    mine = east_ddb.scan(**scan, Segment=0)["LastEvaluatedKey"]
    other = east_ddb.scan(**scan, Segment=1)["LastEvaluatedKey"]
    east_ddb.scan(**scan, Segment=0, ExclusiveStartKey=mine)  # continues its own pages
    code, message = client_error(east_ddb.scan, **scan, Segment=0, ExclusiveStartKey=other)
    assert code == "ValidationException" and "Exclusive start key" in message
