"""UpdateItem where DynamoDB's answer is easy to get subtly wrong: an update that only removes
does not create a missing item (and so writes nothing that could win last-writer-wins in
another region), and a REMOVE through a missing attribute is refused like a SET."""

from __future__ import annotations

from typing import Any

import pytest

from tests.globaltable_fixtures import RunningEmulator, client_error

INVALID_PATH = "The document path provided in the update expression is invalid for update"


@pytest.mark.parametrize(
    "update",
    [
        {"UpdateExpression": "REMOVE a, b.c"},
        {"UpdateExpression": "DELETE s :s", "ExpressionAttributeValues": {":s": {"SS": ["x"]}}},
        {"AttributeUpdates": {"a": {"Action": "DELETE"}}},
    ],
)
def test_an_update_that_only_removes_leaves_a_missing_item_missing(
    east_ddb: Any, east_table: str, update: dict[str, Any]
) -> None:
    key = {"pk": {"S": "missing"}}
    answer = east_ddb.update_item(TableName=east_table, Key=key, ReturnValues="ALL_NEW", **update)
    assert "Attributes" not in answer
    assert "Item" not in east_ddb.get_item(TableName=east_table, Key=key, ConsistentRead=True)


def test_an_empty_update_still_creates_the_item(east_ddb: Any, east_table: str) -> None:
    key = {"pk": {"S": "created"}}
    east_ddb.update_item(TableName=east_table, Key=key, AttributeUpdates={})
    assert east_ddb.get_item(TableName=east_table, Key=key)["Item"] == key


def test_a_removing_update_of_a_missing_item_loses_no_write_made_elsewhere(
    fast_emu: RunningEmulator, east_table: str
) -> None:
    """Were the key-only item written, its later timestamp would win last-writer-wins over the
    item written in us-west-2 meanwhile, and both regions would converge on an empty item."""
    east, west = fast_emu.client("us-east-1"), fast_emu.client("us-west-2")
    key = {"pk": {"S": "raced"}}
    fast_emu.control_client.apply({"fault": "partition", "regions": ["us-east-1", "us-west-2"]})
    try:
        west.put_item(TableName=east_table, Item={**key, "a": {"S": "west"}, "b": {"N": "1"}})
        east.update_item(TableName=east_table, Key=key, UpdateExpression="REMOVE a")
    finally:
        fast_emu.control_client.heal_all()
    assert fast_emu.control_client.quiesce(10)["converged"]
    for client in (east, west):
        item = client.get_item(TableName=east_table, Key=key, ConsistentRead=True)["Item"]
        assert item == {**key, "a": {"S": "west"}, "b": {"N": "1"}}


def test_remove_through_a_missing_attribute_is_refused(east_ddb: Any, east_table: str) -> None:
    key = {"pk": {"S": "doc"}}
    item = {**key, "m": {"M": {"x": {"N": "1"}}}, "l": {"L": [{"S": "a"}]}}
    east_ddb.put_item(TableName=east_table, Item=item)
    for expression in ("REMOVE c.d", "REMOVE c[0]", "REMOVE m.x.y", "REMOVE l.x"):
        code, message = client_error(
            east_ddb.update_item, TableName=east_table, Key=key, UpdateExpression=expression
        )
        assert (code, message) == ("ValidationException", INVALID_PATH), expression
    # a missing last element is fine: nothing to remove
    east_ddb.update_item(TableName=east_table, Key=key, UpdateExpression="REMOVE m.y, l[5], z")
    assert east_ddb.get_item(TableName=east_table, Key=key)["Item"] == item


def test_the_item_size_limit_in_each_operation_s_words(east_ddb: Any, east_table: str) -> None:
    big = {"S": "x" * 300_000}
    code, message = client_error(
        east_ddb.put_item, TableName=east_table, Item={"pk": {"S": "big"}, "a": big, "b": big}
    )
    assert message == "Item size has exceeded the maximum allowed size"
    code, message = client_error(
        east_ddb.update_item,
        TableName=east_table,
        Key={"pk": {"S": "big"}},
        UpdateExpression="SET a = :big, b = :big",
        ExpressionAttributeValues={":big": big},
    )
    assert message == "Item size to update has exceeded the maximum allowed size"
