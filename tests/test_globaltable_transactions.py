"""TransactWriteItems through boto3: all-or-nothing in the receiving region, one
CancellationReason per action, each item replicated on its own, refused on MRSC tables."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.globaltable_fixtures import RunningEmulator, launch

TABLE = "qa_transactions"


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    running = launch("--replication-delay", "20ms", "--replication-jitter", "0ms")
    running.create_table(TABLE)
    yield running
    running.stop()


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def test_all_actions_commit_together_and_replicate(emu: RunningEmulator) -> None:
    east, west = emu.client("us-east-1"), emu.client("us-west-2")
    east.put_item(TableName=TABLE, Item={**key("account"), "balance": {"N": "10"}})
    east.put_item(TableName=TABLE, Item={**key("limits"), "open": {"BOOL": True}})
    answer = east.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key("account"),
                    "UpdateExpression": "ADD balance :minus",
                    "ConditionExpression": "balance >= :amount",
                    "ExpressionAttributeValues": {":minus": {"N": "-4"}, ":amount": {"N": "4"}},
                }
            },
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {**key("payment-1"), "amount": {"N": "4"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": key("limits"),
                    "ConditionExpression": "#o = :yes",
                    "ExpressionAttributeNames": {"#o": "open"},
                    "ExpressionAttributeValues": {":yes": {"BOOL": True}},
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    # two 1-WCU writes, doubled for a transaction; the ConditionCheck writes nothing
    assert answer["ConsumedCapacity"] == [
        {"TableName": TABLE, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0}
    ]
    assert east.get_item(TableName=TABLE, Key=key("account"))["Item"]["balance"] == {"N": "6"}
    assert emu.control_client.quiesce(10)["converged"]
    assert west.get_item(TableName=TABLE, Key=key("payment-1"))["Item"]["amount"] == {"N": "4"}
    assert west.get_item(TableName=TABLE, Key=key("account"))["Item"]["balance"] == {"N": "6"}


def test_one_failure_cancels_everything_with_a_reason_per_action(emu: RunningEmulator) -> None:
    ddb = emu.client("us-east-1")
    ddb.put_item(TableName=TABLE, Item={**key("taken"), "owner": {"S": "someone"}})
    actions = [
        {"Put": {"TableName": TABLE, "Item": {**key("would-be-written")}}},
        {
            "Put": {
                "TableName": TABLE,
                "Item": {**key("taken"), "owner": {"S": "me"}},
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {
            "Update": {
                "TableName": TABLE,
                "Key": key("taken"[::-1]),
                "UpdateExpression": "SET n = n + :one",  # n does not exist: a runtime error
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
    ]
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as info:
        ddb.transact_write_items(TransactItems=actions)
    response = info.value.response
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {**key("taken"), "owner": {"S": "someone"}},
        },
        {
            "Code": "ValidationError",
            "Message": "The provided expression refers to an attribute that does not exist in the item",
        },
    ]
    assert "[None, ConditionalCheckFailed, ValidationError]" in response["Error"]["Message"]
    assert "Item" not in ddb.get_item(TableName=TABLE, Key=key("would-be-written"))
    assert "Item" not in ddb.get_item(TableName=TABLE, Key=key("taken"[::-1]))


@pytest.mark.parametrize(
    ("actions", "fragment"),
    [
        (
            [
                {"Put": {"TableName": TABLE, "Item": key("twice")}},
                {"Delete": {"TableName": TABLE, "Key": key("twice")}},
            ],
            "multiple operations on one item",
        ),
        (
            [{"Put": {"TableName": TABLE, "Item": key(f"k{i}")}} for i in range(101)],
            "transactItems",
        ),
        (
            [{"ConditionCheck": {"TableName": TABLE, "Key": key("x"), "ConditionExpression": ""}}],
            "ConditionExpression",
        ),
    ],
)
def test_invalid_transactions_are_validation_errors(
    emu: RunningEmulator, actions: list[dict[str, Any]], fragment: str
) -> None:
    ddb = emu.client("us-east-1")
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(TransactItems=actions)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert fragment in info.value.response["Error"]["Message"]
    assert "Item" not in ddb.get_item(TableName=TABLE, Key=key("twice"))


def test_an_item_nested_past_the_json_encoders_limit_is_a_validation_error(
    emu: RunningEmulator,
) -> None:
    """Sent raw (botocore's own serializer recurses too deep): was a 500 "Recursion limit
    reached" from the transaction's size check (found by tests/test_globaltable_wire_fuzz.py)."""
    deep: dict[str, Any] = {"S": "bottom"}
    for _ in range(200):
        deep = {"M": {"x": deep}}
    body = {"TransactItems": [{"Put": {"TableName": TABLE, "Item": {**key("deep"), "d": deep}}}]}
    request = urllib.request.Request(
        emu.regions["us-east-1"],
        data=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": "DynamoDB_20120810.TransactWriteItems",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 400
    answer = json.loads(info.value.read())
    assert answer["__type"].endswith("#ValidationException")
    assert "Nesting Levels have exceeded supported limits" in answer["message"]


def test_mrsc_tables_refuse_transactions(start_emulator: Any) -> None:  # noqa: F811
    """AWS: MRSC does not support transactions."""
    strong = start_emulator("--mode", "strong")
    strong.create_table(TABLE)
    ddb = strong.client("us-east-1")
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": key("a")}}])
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "MRSC" in info.value.response["Error"]["Message"]
