"""DynamoDB's answers on the table-level APIs where they are easy to get subtly wrong: stream
ARNs that are malformed (ValidationException) or name no stream (ResourceNotFoundException),
an empty shard's starting sequence number, shard filters, limits; tags' characters, count
and listing; a GSI created by UpdateTable needs its keys in the request's AttributeDefinitions,
with the types the table already gives them."""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pytest

from tests.globaltable_fixtures import CREDENTIALS, RunningEmulator, client_error

EAST = "us-east-1"
_names = itertools.count()
HASH = [{"AttributeName": "pk", "KeyType": "HASH"}]
PK = [{"AttributeName": "pk", "AttributeType": "S"}]


def table(fast_emu: RunningEmulator, **extra: Any) -> str:
    name = f"exact-t-{next(_names)}"
    fast_emu.client(EAST).create_table(
        TableName=name,
        KeySchema=HASH,
        AttributeDefinitions=PK,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


@pytest.fixture
def stream(fast_emu: RunningEmulator) -> tuple[Any, str, str]:
    """(streams client, stream ARN, shard id) of a new table's empty stream."""
    name = table(
        fast_emu, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    client = boto3.client(
        "dynamodbstreams", region_name=EAST, endpoint_url=fast_emu.regions[EAST], **CREDENTIALS
    )
    arn = fast_emu.client(EAST).describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return client, arn, shard


def test_stream_arns_malformed_or_unknown(stream: tuple[Any, str, str]) -> None:
    client, arn, _ = stream
    bogus = "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf"
    assert client_error(client.describe_stream, StreamArn=bogus)[0] == "ValidationException"
    unknown = arn.replace(":table/", ":table/x")
    assert client_error(client.describe_stream, StreamArn=unknown)[0] == "ResourceNotFoundException"
    code, _ = client_error(client.list_streams, ExclusiveStartStreamArn=bogus)
    assert code == "ValidationException"


def test_an_empty_shard_and_its_listing(stream: tuple[Any, str, str]) -> None:
    client, arn, shard = stream
    described = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    start = described["SequenceNumberRange"]["StartingSequenceNumber"]
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        iterator = client.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType=kind, SequenceNumber=start
        )["ShardIterator"]
        assert client.get_records(ShardIterator=iterator)["Records"] == []
    code, _ = client_error(
        client.get_shard_iterator,
        StreamArn=arn,
        ShardId=shard,
        ShardIteratorType="LATEST",
        SequenceNumber=start,
    )
    assert code == "ValidationException"
    later = client.describe_stream(StreamArn=arn, ExclusiveStartShardId="z" * 40)
    assert later["StreamDescription"]["Shards"] == []
    children = client.describe_stream(
        StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard}
    )
    assert children["StreamDescription"]["Shards"] == []
    code, _ = client_error(client.describe_stream, StreamArn=arn, ShardFilter={"ShardId": shard})
    assert code == "ValidationException"  # a filter needs its Type


def test_get_records_limits(stream: tuple[Any, str, str]) -> None:
    client, arn, shard = stream
    iterator = client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    client.get_records(ShardIterator=iterator, Limit=1000)
    code, message = client_error(client.get_records, ShardIterator=iterator, Limit=1001)
    assert code == "ValidationException" and "less than or equal to 1000" in message


def test_tags_characters_count_and_listing(fast_emu: RunningEmulator) -> None:
    ddb = fast_emu.client(EAST)
    arn = ddb.describe_table(TableName=table(fast_emu))["Table"]["TableArn"]
    ddb.tag_resource(
        ResourceArn=arn, Tags=[{"Key": f"k {i}:+=._/@", "Value": ""} for i in range(40)]
    )
    assert len(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == 40  # in one answer
    for bad in ("hi!", "d%g", '"hello"'):
        code, _ = client_error(ddb.tag_resource, ResourceArn=arn, Tags=[{"Key": bad, "Value": "v"}])
        assert code == "ValidationException", bad
    more = [{"Key": f"more{i}", "Value": "v"} for i in range(11)]
    code, message = client_error(ddb.tag_resource, ResourceArn=arn, Tags=more)
    assert code == "ValidationException" and "cannot exceed 50" in message


def test_a_gsi_created_later_needs_its_keys_defined(fast_emu: RunningEmulator) -> None:
    ddb = fast_emu.client(EAST)
    name = table(fast_emu)
    index = {"IndexName": "by_pk", "KeySchema": HASH, "Projection": {"ProjectionType": "ALL"}}
    code, message = client_error(
        ddb.update_table, TableName=name, GlobalSecondaryIndexUpdates=[{"Create": index}]
    )
    assert code == "ValidationException" and "not defined in AttributeDefinitions" in message
    code, message = client_error(
        ddb.update_table,
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": index}],
    )
    assert code == "ValidationException" and "Attributes cannot be redefined" in message
    ddb.update_table(
        TableName=name, AttributeDefinitions=PK, GlobalSecondaryIndexUpdates=[{"Create": index}]
    )
    code, message = client_error(
        ddb.update_table,
        TableName=name,
        AttributeDefinitions=PK,
        GlobalSecondaryIndexUpdates=[{"Create": index, "Delete": {"IndexName": "by_pk"}}],
    )
    assert code == "ValidationException" and "only one of Create, Update, Delete" in message
    two = [{"Create": {**index, "IndexName": f"two{i}"}} for i in range(2)]
    code, _ = client_error(
        ddb.update_table, TableName=name, AttributeDefinitions=PK, GlobalSecondaryIndexUpdates=two
    )
    assert code == "LimitExceededException"  # one index created or deleted per call


def test_limits_and_continuous_backups_are_described(fast_emu: RunningEmulator) -> None:
    ddb = fast_emu.client(EAST)
    limits = ddb.describe_limits()
    assert limits["TableMaxWriteCapacityUnits"] == 40000
    backups = ddb.describe_continuous_backups(TableName=table(fast_emu))
    description = backups["ContinuousBackupsDescription"]
    assert description["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    code, _ = client_error(ddb.describe_continuous_backups, TableName="no-such-table")
    assert code == "ResourceNotFoundException"
    code, _ = client_error(
        ddb.update_continuous_backups,
        TableName="no-such-table",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    assert code == "UnknownOperationException"  # point-in-time recovery is not emulated


def test_a_gsi_backfill_leaves_out_keys_a_write_would_refuse(fast_emu: RunningEmulator) -> None:
    ddb = fast_emu.client(EAST)
    name = table(fast_emu)
    for pk, x in (("ok", "hello"), ("long", "x" * 2049), ("number", None)):
        item = {"pk": {"S": pk}, **({"x": {"S": x}} if x else {"x": {"N": "1"}})}
        ddb.put_item(TableName=name, Item=item)
    ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by_x",
                    "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    indexed = ddb.scan(TableName=name, IndexName="by_x")["Items"]
    assert [i["pk"]["S"] for i in indexed] == ["ok"]


def test_an_update_expression_past_an_index_key_limit(fast_emu: RunningEmulator) -> None:
    ddb = fast_emu.client(EAST)
    name = f"exact-t-{next(_names)}"
    ddb.create_table(
        TableName=name,
        KeySchema=HASH,
        AttributeDefinitions=[*PK, {"AttributeName": "x", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_x",
                "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    code, message = client_error(
        ddb.update_item,
        TableName=name,
        Key={"pk": {"S": "k"}},
        UpdateExpression="SET x = :x",
        ExpressionAttributeValues={":x": {"S": "x" * 2049}},
    )
    assert message == (
        "The update expression attempted to update the secondary index key beyond allowed size "
        "limits"
    )
    code, message = client_error(
        ddb.put_item, TableName=name, Item={"pk": {"S": "k"}, "x": {"S": "x" * 2049}}
    )
    assert "Size of hashkey has exceeded the maximum size limit" in message
