"""DynamoDB behaviours users' boto3 code relies on, driven against a running emulator: the
current item on a failed condition, empty placeholder maps and batch request maps, unused
names in BatchGetItem."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.globaltable_fixtures import RunningEmulator

TABLE = "qa_fidelity"
OLD = {"pk": {"S": "lock"}, "version": {"N": "7"}, "owner": {"S": "us-east-1"}}


@pytest.fixture(scope="module")
def ddb(emulator: RunningEmulator) -> Any:  # noqa: F811
    emulator.create_table(TABLE)
    client = emulator.client("us-east-1")
    client.put_item(TableName=TABLE, Item=OLD)
    return client


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response


STALE = {
    "ConditionExpression": "version = :seen",
    "ExpressionAttributeValues": {":seen": {"N": "6"}},
}


@pytest.mark.parametrize(
    ("operation", "request_fields"),
    [
        ("put_item", {"Item": {"pk": {"S": "lock"}, "version": {"N": "7"}}}),
        (
            "update_item",
            {
                "Key": {"pk": {"S": "lock"}},
                "UpdateExpression": "SET version = :next",
                "ExpressionAttributeValues": {":seen": {"N": "6"}, ":next": {"N": "7"}},
            },
        ),
        ("delete_item", {"Key": {"pk": {"S": "lock"}}}),
    ],
)
def test_failed_condition_returns_the_current_item_when_asked(
    ddb: Any, operation: str, request_fields: dict[str, Any]
) -> None:
    """ReturnValuesOnConditionCheckFailure=ALL_OLD: optimistic locking reads the winner from
    the error (`Item`); without it (or with NONE) the error carries no item."""
    call = getattr(ddb, operation)
    request = {"TableName": TABLE, **STALE, **request_fields}  # update_item: its own values
    answer = _error(call, ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
    assert answer["Error"]["Code"] == "ConditionalCheckFailedException"
    assert answer["Item"] == OLD
    for extra in ({}, {"ReturnValuesOnConditionCheckFailure": "NONE"}):
        answer = _error(call, **extra, **request)
        assert answer["Error"]["Code"] == "ConditionalCheckFailedException"
        assert "Item" not in answer
    assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": "lock"}})["Item"] == OLD


def test_failed_condition_on_a_missing_item_returns_no_item(ddb: Any) -> None:
    answer = _error(
        ddb.update_item,
        TableName=TABLE,
        Key={"pk": {"S": "never-written"}},
        UpdateExpression="SET version = :one",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    assert answer["Error"]["Code"] == "ConditionalCheckFailedException"
    assert "Item" not in answer


def test_return_values_on_condition_check_failure_rejects_other_values(ddb: Any) -> None:
    answer = _error(
        ddb.delete_item,
        TableName=TABLE,
        Key={"pk": {"S": "lock"}},
        ReturnValuesOnConditionCheckFailure="ALL_NEW",
    )
    assert answer["Error"]["Code"] == "ValidationException"
    assert "at 'returnValuesOnConditionCheckFailure'" in answer["Error"]["Message"]


@pytest.mark.parametrize("which", ["ExpressionAttributeNames", "ExpressionAttributeValues"])
def test_empty_placeholder_maps_are_rejected(ddb: Any, which: str) -> None:
    """DynamoDB rejects an empty map (code that builds the maps dynamically hits this)."""
    answer = _error(
        ddb.update_item,
        TableName=TABLE,
        Key={"pk": {"S": "lock"}},
        UpdateExpression="SET version = version",
        **{which: {}},
    )
    assert answer["Error"]["Code"] == "ValidationException"
    assert answer["Error"]["Message"] == f"{which} must not be empty"


@pytest.mark.parametrize("operation", ["batch_get_item", "batch_write_item"])
def test_empty_request_items_are_rejected(ddb: Any, operation: str) -> None:
    answer = _error(getattr(ddb, operation), RequestItems={})
    assert answer["Error"]["Code"] == "ValidationException"
    assert "requestItems" in answer["Error"]["Message"]


def test_batch_get_rejects_unused_attribute_names(ddb: Any) -> None:
    request = {"Keys": [{"pk": {"S": "lock"}}], "ExpressionAttributeNames": {"#v": "version"}}
    answer = _error(ddb.batch_get_item, RequestItems={TABLE: request})
    assert answer["Error"]["Code"] == "ValidationException"
    assert answer["Error"]["Message"] == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )
    request["ProjectionExpression"] = "#v"
    got = ddb.batch_get_item(RequestItems={TABLE: request})["Responses"][TABLE]
    assert got == [{"version": {"N": "7"}}]


@pytest.fixture(scope="module")
def ranged(emulator: RunningEmulator) -> Any:  # noqa: F811
    client = emulator.client("us-east-1")
    emulator.create_table("qa_ranged", sk="N")
    for sk in range(4):
        client.put_item(
            TableName="qa_ranged",
            Item={"pk": {"S": "p"}, "sk": {"N": str(sk)}, "odd": {"BOOL": sk % 2 == 1}},
        )
    return client


@pytest.mark.parametrize(
    ("filter_expression", "names", "key_attribute"),
    [
        ("sk > :one", None, "sk"),
        ("odd = :yes AND size(#k) >= :one", {"#k": "pk"}, "pk"),
    ],
)
def test_query_refuses_a_filter_on_key_attributes(
    ranged: Any, filter_expression: str, names: dict[str, str] | None, key_attribute: str
) -> None:
    """DynamoDB: key attributes belong in KeyConditionExpression, never in a Query filter."""
    values = {":p": {"S": "p"}, ":one": {"N": "1"}}
    if "odd" in filter_expression:
        values[":yes"] = {"BOOL": True}
    extra = {"ExpressionAttributeNames": names} if names else {}
    answer = _error(
        ranged.query,
        TableName="qa_ranged",
        KeyConditionExpression="pk = :p",
        FilterExpression=filter_expression,
        ExpressionAttributeValues=values,
        **extra,
    )
    assert answer["Error"]["Code"] == "ValidationException"
    assert answer["Error"]["Message"] == (
        "Filter Expression can only contain non-primary key attributes: "
        f"Primary key attribute: {key_attribute}"
    )
    # a Scan may filter on key attributes, and a Query on the others
    scanned = ranged.scan(
        TableName="qa_ranged",
        FilterExpression=filter_expression,
        ExpressionAttributeValues={k: v for k, v in values.items() if k != ":p"},
        **extra,
    )
    assert scanned["Count"] >= 1
    odd = ranged.query(
        TableName="qa_ranged",
        KeyConditionExpression="pk = :p",
        FilterExpression="odd = :yes",
        ExpressionAttributeValues={":p": {"S": "p"}, ":yes": {"BOOL": True}},
    )
    assert [i["sk"]["N"] for i in odd["Items"]] == ["1", "3"]


@pytest.mark.parametrize(
    ("key_condition", "values", "message"),
    [
        (
            "pk = :p AND sk > :v",
            {":v": {"S": "1"}},
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
        (
            "pk = :p AND sk BETWEEN :v AND :w",
            {":v": {"N": "1"}, ":w": {"S": "3"}},
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
        (
            "pk = :p AND begins_with(sk, :v)",
            {":v": {"N": "1"}},
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N",
        ),
    ],
)
def test_query_refuses_sort_key_values_of_the_wrong_type(
    ranged: Any, key_condition: str, values: dict[str, Any], message: str
) -> None:
    """A string bound on a number sort key is an error in DynamoDB, not an empty page."""
    answer = _error(
        ranged.query,
        TableName="qa_ranged",
        KeyConditionExpression=key_condition,
        ExpressionAttributeValues={":p": {"S": "p"}, **values},
    )
    assert answer["Error"]["Code"] == "ValidationException"
    assert answer["Error"]["Message"] == message
    right = {k: {"N": next(iter(v.values()))} for k, v in values.items()}
    if "begins_with" not in key_condition:
        page = ranged.query(
            TableName="qa_ranged",
            KeyConditionExpression=key_condition,
            ExpressionAttributeValues={":p": {"S": "p"}, **right},
        )
        assert page["Count"] >= 1


def test_numbers_come_back_in_canonical_text(emulator: RunningEmulator) -> None:  # noqa: F811
    """DynamoDB stores numbers canonically: whatever text was sent, reads (and the other
    regions' replicas) return `12.5`, `0`, `100` - top level, in sets, lists and maps, in
    SET values and in a number key."""
    emulator.create_table("qa_numbers", pk="N")
    client = emulator.client("us-east-1")
    client.put_item(
        TableName="qa_numbers",
        Item={
            "pk": {"N": "1.0"},
            "n": {"N": "00012.500"},
            "z": {"N": "-0"},
            "e": {"N": "1E+2"},
            "ns": {"NS": ["2.50", "3"]},
            "doc": {"M": {"l": {"L": [{"N": "0.10"}]}}},
        },
    )
    client.update_item(
        TableName="qa_numbers",
        Key={"pk": {"N": "1"}},
        UpdateExpression="SET s = :s",
        ExpressionAttributeValues={":s": {"N": "7.000"}},
    )
    item = client.get_item(TableName="qa_numbers", Key={"pk": {"N": "1.00"}})["Item"]
    assert item["pk"] == {"N": "1"}
    assert (item["n"], item["z"], item["e"], item["s"]) == (
        {"N": "12.5"}, {"N": "0"}, {"N": "100"}, {"N": "7"},
    )  # fmt: skip
    assert sorted(item["ns"]["NS"]) == ["2.5", "3"]
    assert item["doc"] == {"M": {"l": {"L": [{"N": "0.1"}]}}}
