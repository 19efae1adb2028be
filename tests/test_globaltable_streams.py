"""DynamoDB Streams over boto3 (`dynamodbstreams` pointed at a region's port): per-region
streams carrying local and replicated writes with the view type asked for, all iterator types,
closed shards, TTL records; a stream in region B shows a write made in region A only once the
link between them has healed."""

from __future__ import annotations

import itertools
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.globaltable_fixtures import CREDENTIALS, RunningEmulator

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
_names = itertools.count()


def streams(fast_emu: RunningEmulator, region: str) -> Any:
    return boto3.client(
        "dynamodbstreams", region_name=region, endpoint_url=fast_emu.regions[region], **CREDENTIALS
    )


def streamed_table(fast_emu: RunningEmulator, view: str = "NEW_AND_OLD_IMAGES") -> str:
    name = f"str-{next(_names)}"
    fast_emu.client(EAST).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    return name


def read_all(
    fast_emu: RunningEmulator, region: str, table: str, kind: str = "TRIM_HORIZON"
) -> list:
    client = streams(fast_emu, region)
    arn = fast_emu.client(region).describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind)[
        "ShardIterator"
    ]
    out: list = []
    while iterator:
        page = client.get_records(ShardIterator=iterator, Limit=2)
        out.extend(page["Records"])
        if not page["Records"]:
            break
        iterator = page.get("NextShardIterator")
    return out


def test_records_of_local_writes_with_view_types(fast_emu: RunningEmulator) -> None:
    name = streamed_table(fast_emu)
    ddb = fast_emu.client(EAST)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})  # no change: no record
    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})  # nothing to delete: no record
    records = read_all(fast_emu, EAST, name)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert insert["Keys"] == {"pk": {"S": "a"}} and "OldImage" not in insert
    assert modify["OldImage"]["v"] == {"N": "1"} and modify["NewImage"]["v"] == {"N": "2"}
    assert remove["OldImage"]["v"] == {"N": "2"} and "NewImage" not in remove
    assert records[0]["awsRegion"] == EAST and records[0]["eventSource"] == "aws:dynamodb"
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    keys_only = streamed_table(fast_emu, "KEYS_ONLY")
    ddb.put_item(TableName=keys_only, Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    (record,) = read_all(fast_emu, EAST, keys_only)
    assert set(record["dynamodb"]) >= {"Keys", "SequenceNumber", "SizeBytes"}
    assert "NewImage" not in record["dynamodb"]


def test_iterator_types_and_stream_listing(fast_emu: RunningEmulator) -> None:
    name = streamed_table(fast_emu, "NEW_IMAGE")
    ddb, client = fast_emu.client(EAST), streams(fast_emu, EAST)
    for i in range(3):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    listed = client.list_streams(TableName=name)["Streams"]
    assert len(listed) == 1 and listed[0]["TableName"] == name
    arn = listed[0]["StreamArn"]
    assert arn.startswith(f"arn:aws:dynamodb:{EAST}:") and f"table/{name}/stream/" in arn
    west_arn = streams(fast_emu, WEST).list_streams(TableName=name)["Streams"][0]["StreamArn"]
    assert west_arn != arn and f":{WEST}:" in west_arn  # each region has its own stream
    shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    records = read_all(fast_emu, EAST, name)
    second = records[1]["dynamodb"]["SequenceNumber"]

    def keys(kind: str, seq: str | None = None) -> list[str]:
        extra = {} if seq is None else {"SequenceNumber": seq}
        iterator = client.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra
        )["ShardIterator"]
        return [
            r["dynamodb"]["Keys"]["pk"]["S"]
            for r in client.get_records(ShardIterator=iterator)["Records"]
        ]

    assert keys("AT_SEQUENCE_NUMBER", second) == ["k1", "k2"]
    assert keys("AFTER_SEQUENCE_NUMBER", second) == ["k2"]
    latest = client.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")
    ddb.put_item(TableName=name, Item={"pk": {"S": "after"}})
    page = client.get_records(ShardIterator=latest["ShardIterator"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["after"]
    with pytest.raises(ClientError) as caught:
        client.get_records(ShardIterator="not-an-iterator")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_stream(StreamArn=arn.replace(name, "no-such-table"))


def test_stream_in_region_b_shows_a_write_made_in_a_after_the_link_heals(
    fast_emu: RunningEmulator,
) -> None:
    name = streamed_table(fast_emu)
    cc = fast_emu.control_client
    fault = cc.apply({"fault": "partition", "regions": [EAST, WEST]})
    try:
        fast_emu.client(EAST).put_item(TableName=name, Item={"pk": {"S": "from-east"}})
        assert cc.quiesce(0.3)["converged"] is False
        assert [r["awsRegion"] for r in read_all(fast_emu, EU, name)] == [EU]  # replicated to eu
        assert read_all(fast_emu, WEST, name) == []  # not (yet) applied in us-west-2
    finally:
        cc.heal(fault)
    assert cc.quiesce(10)["converged"]
    (record,) = read_all(fast_emu, WEST, name)
    assert record["awsRegion"] == WEST and record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"]["pk"] == {"S": "from-east"}


def test_disable_closes_the_shard_and_reenable_starts_a_new_stream(
    fast_emu: RunningEmulator,
) -> None:
    name = streamed_table(fast_emu, "NEW_IMAGE")
    ddb, client = fast_emu.client(EAST), streams(fast_emu, EAST)
    ddb.put_item(TableName=name, Item={"pk": {"S": "x"}})
    first = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    described = client.describe_stream(StreamArn=first)["StreamDescription"]
    assert described["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in described["Shards"][0]["SequenceNumberRange"]
    iterator = client.get_shard_iterator(
        StreamArn=first, ShardId=described["Shards"][0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = client.get_records(ShardIterator=iterator)
    assert len(page["Records"]) == 1 and "NextShardIterator" not in page  # closed, read out
    with pytest.raises(ClientError) as caught:
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    time.sleep(0.002)  # labels are millisecond timestamps
    ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    second = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    assert second != first
    assert len(client.list_streams(TableName=name)["Streams"]) == 2


def test_ttl_deletes_carry_the_service_identity(fast_emu: RunningEmulator) -> None:
    name = streamed_table(fast_emu)
    ddb = fast_emu.client(EAST)
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "t"}, "exp": {"N": str(int(time.time()) - 1)}})
    assert fast_emu.control_client.sweep_ttl() == 1
    assert fast_emu.control_client.quiesce(10)["converged"]
    removed = read_all(fast_emu, EAST, name)[-1]
    assert removed["eventName"] == "REMOVE"
    assert removed["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    replicated = read_all(fast_emu, WEST, name)[-1]
    assert replicated["eventName"] == "REMOVE" and "userIdentity" not in replicated


def _in_process_stream() -> tuple[Any, Any]:
    """An emulator engine with a streamed table, driven without HTTP."""
    import orjson

    from globaltable import api
    from globaltable.engine import GlobalTable

    gt = GlobalTable(["a", "b"], delay_s=0.0, jitter_s=0.0, ttl_sweep_s=0)

    def call(target: str, body: dict) -> dict:
        status, payload = api.handle(gt, "a", target, orjson.dumps(body), None)  # type: ignore[misc]
        return {"status": status, **orjson.loads(payload)}

    call(
        api.TARGET_PREFIX + "CreateTable",
        {
            "TableName": "str",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        },
    )
    return gt, call


def test_iterators_expire_and_trimmed_records_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from globaltable import api, streams, streamsapi

    monkeypatch.setattr(streams, "MAX_RECORDS", 3)
    monkeypatch.setattr(streams, "TRIM_EVERY", 1)
    gt, call = _in_process_stream()
    stream = gt.tables["str"].streams.current["a"]
    target = "DynamoDBStreams_20120810."
    first = call(
        target + "GetShardIterator",
        {"StreamArn": stream.arn, "ShardId": stream.shard_id, "ShardIteratorType": "TRIM_HORIZON"},
    )["ShardIterator"]
    for i in range(5):
        call(api.TARGET_PREFIX + "PutItem", {"TableName": "str", "Item": {"pk": {"S": f"k{i}"}}})
    trimmed = call(target + "GetRecords", {"ShardIterator": first})
    assert trimmed["status"] == 400 and trimmed["__type"].endswith("#TrimmedDataAccessException")
    fresh = call(
        target + "GetShardIterator",
        {"StreamArn": stream.arn, "ShardId": stream.shard_id, "ShardIteratorType": "TRIM_HORIZON"},
    )["ShardIterator"]
    kept = call(target + "GetRecords", {"ShardIterator": fresh})["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in kept] == ["k2", "k3", "k4"]
    later = streamsapi.time.time() + streamsapi.ITERATOR_LIFE_S + 1
    monkeypatch.setattr(streamsapi.time, "time", lambda: later)
    expired = call(target + "GetRecords", {"ShardIterator": fresh})
    assert expired["__type"].endswith("#ExpiredIteratorException")
