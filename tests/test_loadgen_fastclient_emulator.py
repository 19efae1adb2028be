"""The fast client and boto3 see the same store the same way: one script, two tables, equal answers."""

from __future__ import annotations

from typing import Any

import pytest

from loadgen.client import Boto3Client, ConditionFailed, DynamoClient, StoreError
from loadgen.fastclient import FastClient
from tests.globaltable_fixtures import RunningEmulator

REGION = "us-east-1"


def _script(client: DynamoClient, table: str) -> list[Any]:
    """Every data operation a workload uses, with ReturnValues and ConsumedCapacity."""
    key = {"pk": {"S": "profile#1"}}
    cap: dict[str, Any] = {"TableName": table, "ReturnConsumedCapacity": "TOTAL"}
    answers: list[Any] = []

    def call(operation: str, **request: Any) -> None:
        try:
            answers.append(client.call(operation, {**cap, **request}))
        except StoreError as exc:
            answers.append((type(exc).__name__, exc.code))

    item = {**key, "hh_vid": {"S": "w:1"}, "n": {"N": "1"}, "b": {"B": b"\x00\xff"}}
    call("PutItem", Item=item, ReturnValues="ALL_OLD")
    call("PutItem", Item={**item, "hh_vid": {"S": "w:2"}}, ReturnValues="ALL_OLD")
    call("GetItem", Key=key, ConsistentRead=True)
    call(
        "UpdateItem",
        Key=key,
        UpdateExpression="SET hh_vid = :v ADD n :one",
        ExpressionAttributeValues={":v": {"S": "w:3"}, ":one": {"N": "2"}},
        ReturnValues="ALL_NEW",
    )
    call(
        "UpdateItem",
        Key=key,
        UpdateExpression="SET hh_vid = :v",
        ConditionExpression="hh_vid = :old",
        ExpressionAttributeValues={":v": {"S": "w:4"}, ":old": {"S": "w:1"}},
    )
    call("PutItem", Item={"pk": {"S": "profile#2"}, "hh_vid": {"S": "w:5"}})
    call(
        "Query",
        KeyConditionExpression="pk = :k",
        ExpressionAttributeValues={":k": {"S": "profile#1"}},
    )
    call("Scan", Limit=1)
    call("DeleteItem", Key=key, ReturnValues="ALL_OLD")
    call("GetItem", Key=key)
    call("GetItem", Key={"nokey": {"S": "x"}})  # ValidationException from the store
    return answers


def _create(client: DynamoClient, table: str) -> None:
    client.call(
        "CreateTable",
        {
            "TableName": table,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def _same_table_name(node: Any, table: str) -> Any:
    """The answers with the table's name replaced, so two tables' answers compare equal."""
    if isinstance(node, dict):
        return {k: _same_table_name(v, table) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_same_table_name(v, table) for v in node]
    return "T" if node == table else node


@pytest.mark.slow
def test_fast_client_sees_the_emulator_as_boto3_does(start_emulator: Any) -> None:  # noqa: F811
    emu: RunningEmulator = start_emulator("--regions", REGION)
    url = emu.regions[REGION]
    boto, fast = Boto3Client(REGION, url), FastClient(REGION, url)
    _create(boto, "hothot-boto")
    _create(fast, "hothot-fast")
    by_boto = _script(boto, "hothot-boto")
    by_fast = _script(fast, "hothot-fast")
    assert ("ConditionFailed", "ConditionalCheckFailedException") in by_fast
    assert ("StoreError", "ValidationException") in by_fast
    assert _same_table_name(by_fast, "hothot-fast") == _same_table_name(by_boto, "hothot-boto")
    described = fast.call("DescribeTable", {"TableName": "hothot-fast"})["Table"]
    by_boto3 = boto.call("DescribeTable", {"TableName": "hothot-boto"})["Table"]
    # the table's own fields (BillingModeSummary holds its LastUpdateToPayPerRequestDateTime)
    own = ("TableName", "TableArn", "CreationDateTime", "TableId", "BillingModeSummary")
    assert described == {**by_boto3, **{k: described[k] for k in own if k in described}}
    assert described["BillingModeSummary"].keys() == by_boto3["BillingModeSummary"].keys()
    with pytest.raises(ConditionFailed):
        fast.call(
            "PutItem",
            {
                "TableName": "hothot-fast",
                "Item": {"pk": {"S": "profile#2"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            },
        )
