"""DynamoDB's exact answers where they are easy to get subtly wrong: serialization errors,
key size limits, nested ReturnValues, out-of-range list indexes, a key condition with the
value on the left, table descriptions, validation order."""

from __future__ import annotations

import http.client
import itertools
import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.globaltable_fixtures import RunningEmulator, client_error

EAST = "us-east-1"
_names = itertools.count()


def raw(fast_emu: RunningEmulator, op: str, body: Any) -> tuple[int, dict[str, Any]]:
    """A request boto3 would refuse to send (wrong JSON types)."""
    url = urlsplit(fast_emu.regions[EAST])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("POST", "/", json.dumps(body), {"X-Amz-Target": f"DynamoDB_20120810.{op}"})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"TableName": 5, "Key": {}}, "NUMBER_VALUE cannot be converted to String"),
        (
            {"TableName": "t", "Key": []},
            "Unrecognized collection type java.util.Map<java.lang.String, "
            "com.amazonaws.dynamodb.v20120810.AttributeValue>",
        ),
        ({"TableName": "t", "Key": {"pk": []}}, None),
        (
            {"TableName": "t", "Key": {"pk": {"S": True}}},
            "TRUE_VALUE cannot be converted to String",
        ),
        ({"TableName": "t", "Key": {"pk": {"S": "a"}}, "ConsistentRead": "maybe"}, None),
    ],
)
def test_payloads_that_do_not_deserialize(
    fast_emu: RunningEmulator, body: dict, message: str | None
) -> None:
    status, answer = raw(fast_emu, "GetItem", body)
    assert status == 400
    assert answer["__type"].endswith("#SerializationException")
    if message is not None:
        assert answer["message"] == message


def test_key_size_limits(east_ddb: Any, fast_emu: RunningEmulator, east_table: str) -> None:
    east_ddb.put_item(TableName=east_table, Item={"pk": {"S": "k" * 2048}})
    code, message = client_error(
        east_ddb.put_item, TableName=east_table, Item={"pk": {"S": "k" * 2049}}
    )
    assert message == (
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
        "size limit of2048 bytes"
    )
    ranged = fast_emu.create_table(f"exact-r-{next(_names)}", EAST, sk="S")
    east_ddb.put_item(TableName=ranged, Item={"pk": {"S": "p"}, "sk": {"S": "é" * 512}})
    code, message = client_error(
        east_ddb.put_item, TableName=ranged, Item={"pk": {"S": "p"}, "sk": {"S": "é" * 513}}
    )
    assert message == (
        "One or more parameter values were invalid: Aggregated size of all range keys has "
        "exceeded the size limit of 1024 bytes"
    )


def test_updated_values_on_nested_paths(east_ddb: Any, east_table: str) -> None:
    east_ddb.put_item(
        TableName=east_table,
        Item={
            "pk": {"S": "n"},
            "m": {"M": {"a": {"N": "1"}, "b": {"N": "2"}}},
            "l": {"L": [{"S": "x"}]},
        },
    )
    new = east_ddb.update_item(
        TableName=east_table,
        Key={"pk": {"S": "n"}},
        UpdateExpression="SET m.a = :v, l[0] = :w",
        ExpressionAttributeValues={":v": {"N": "10"}, ":w": {"S": "y"}},
        ReturnValues="UPDATED_NEW",
    )["Attributes"]
    assert new == {"m": {"M": {"a": {"N": "10"}}}, "l": {"L": [{"S": "y"}]}}
    old = east_ddb.update_item(
        TableName=east_table,
        Key={"pk": {"S": "n"}},
        UpdateExpression="SET m.b = :v",
        ExpressionAttributeValues={":v": {"N": "20"}},
        ReturnValues="UPDATED_OLD",
    )["Attributes"]
    assert old == {"m": {"M": {"b": {"N": "2"}}}}


def test_out_of_range_list_indexes_append_in_index_order(east_ddb: Any, east_table: str) -> None:
    east_ddb.put_item(TableName=east_table, Item={"pk": {"S": "l"}, "l": {"L": [{"S": "a"}]}})
    answer = east_ddb.update_item(
        TableName=east_table,
        Key={"pk": {"S": "l"}},
        UpdateExpression="SET l[10] = :ten, l[7] = :seven",
        ExpressionAttributeValues={":ten": {"S": "ten"}, ":seven": {"S": "seven"}},
        ReturnValues="UPDATED_NEW",
    )
    assert answer["Attributes"] == {"l": {"L": [{"S": "seven"}, {"S": "ten"}]}}
    item = east_ddb.get_item(TableName=east_table, Key={"pk": {"S": "l"}})["Item"]
    assert item["l"] == {"L": [{"S": "a"}, {"S": "seven"}, {"S": "ten"}]}


def test_key_condition_with_the_value_on_the_left(east_ddb: Any, fast_emu: RunningEmulator) -> None:
    ranged = fast_emu.create_table(f"exact-q-{next(_names)}", EAST, sk="N")
    for i in range(5):
        east_ddb.put_item(TableName=ranged, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}})
    answer = east_ddb.query(
        TableName=ranged,
        KeyConditionExpression=":p = pk AND :two < sk",
        ExpressionAttributeValues={":p": {"S": "p"}, ":two": {"N": "2"}},
    )
    assert [i["sk"]["N"] for i in answer["Items"]] == ["3", "4"]


def test_table_description_fields(east_ddb: Any, fast_emu: RunningEmulator) -> None:
    name = f"exact-d-{next(_names)}"
    created = east_ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    assert created["TableStatus"] == "CREATING"
    uuid.UUID(created["TableId"])
    table = east_ddb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["TableId"] == created["TableId"]
    assert "LastUpdateToPayPerRequestDateTime" in table["BillingModeSummary"]
    code, message = client_error(
        east_ddb.create_table,
        TableName=f"exact-p-{next(_names)}",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    assert message == (
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
        "must both be specified when BillingMode is PROVISIONED"
    )


def test_validation_comes_before_the_table_lookup(east_ddb: Any) -> None:
    """DynamoDB validates the request before it looks the table up."""
    code, _ = client_error(
        east_ddb.update_item,
        TableName="no-such-table",
        Key={"pk": {"S": "x"}},
        UpdateExpression="SET = oops",
    )
    assert code == "ValidationException"
    code, _ = client_error(east_ddb.get_item, TableName="no-such-table", Key={"pk": {"S": "x"}})
    assert code == "ResourceNotFoundException"
    code, message = client_error(east_ddb.get_item, TableName="ab", Key={"pk": {"S": "x"}})
    assert message == "TableName must be at least 3 characters long and at most 255 characters long"
