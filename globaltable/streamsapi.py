"""The DynamoDB Streams API of one region (`DynamoDBStreams_20120810.*` on the region's port):
ListStreams, DescribeStream, GetShardIterator (all four iterator types), GetRecords.

Shard iterators are self-describing tokens (stream, shard, position, issue time), valid for
15 minutes as on DynamoDB; nothing is kept per iterator in the emulator."""

from __future__ import annotations

import base64
import binascii
import time
from typing import TYPE_CHECKING, Any

import orjson

from globaltable.errors import DynamoError, validation
from globaltable.request import choice, field
from globaltable.streams import RegionStream, not_found, seq_text

if TYPE_CHECKING:
    from globaltable.engine import GlobalTable

ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
ITERATOR_LIFE_S = 15 * 60
MAX_RECORDS_PER_CALL = 1000
SERVICE_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def _streams(gt: GlobalTable, region: str) -> list[RegionStream]:
    out: list[RegionStream] = []
    for table in gt.tables.values():
        if table.streams is not None:
            out.extend(table.streams.all(region))
    return out


def _stream(gt: GlobalTable, region: str, arn: Any) -> RegionStream:
    if not isinstance(arn, str) or not 37 <= len(arn) <= 1024:
        raise validation(
            "1 validation error detected: Value at 'streamArn' failed to satisfy constraint: "
            "Member must have length between 37 and 1024"
        )
    for stream in _streams(gt, region):
        if stream.arn == arn:
            return stream
    raise not_found(f"Stream: {arn} not found")


def list_streams(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    table_name = field(req, "TableName", str)
    limit = field(req, "Limit", int) or 100
    if not 1 <= limit <= 100:
        raise validation(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value between 1 and 100"
        )
    start = field(req, "ExclusiveStartStreamArn", str)
    streams = [s for s in _streams(gt, region) if table_name in (None, s.table.name)]
    streams.sort(key=lambda s: s.arn)
    if start is not None:
        streams = [s for s in streams if s.arn > start]
    page = streams[:limit]
    resp: dict[str, Any] = {
        "Streams": [
            {"StreamArn": s.arn, "TableName": s.table.name, "StreamLabel": s.label} for s in page
        ]
    }
    if len(streams) > limit:
        resp["LastEvaluatedStreamArn"] = page[-1].arn
    return resp


def describe_stream(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stream = _stream(gt, region, field(req, "StreamArn", str, True))
    start = field(req, "ExclusiveStartShardId", str)
    shards = [] if start == stream.shard_id else [stream.shard()]
    return {
        "StreamDescription": {
            "StreamArn": stream.arn,
            "StreamLabel": stream.label,
            "StreamStatus": "ENABLED" if stream.enabled else "DISABLED",
            "StreamViewType": stream.view_type,
            "CreationRequestDateTime": stream.created,
            "TableName": stream.table.name,
            "KeySchema": stream.table.definition["KeySchema"],
            "Shards": shards,
        }
    }


def _token(stream: RegionStream, position: int) -> str:
    raw = orjson.dumps({"a": stream.arn, "s": stream.shard_id, "p": position, "t": time.time()})
    return base64.urlsafe_b64encode(raw).decode()


def get_shard_iterator(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    stream = _stream(gt, region, field(req, "StreamArn", str, True))
    shard = field(req, "ShardId", str, True)
    kind = choice(req, "ShardIteratorType", ITERATOR_TYPES)
    if req.get("ShardIteratorType") is None:
        raise validation(
            "1 validation error detected: Value null at 'shardIteratorType' failed to satisfy "
            "constraint: Member must not be null"
        )
    if shard != stream.shard_id:
        raise not_found(f"Shard: {shard} in Stream: {stream.arn} not found")
    if kind == "TRIM_HORIZON":
        position = stream.oldest_kept()
    elif kind == "LATEST":
        position = stream.next_seq
    else:
        text = field(req, "SequenceNumber", str)
        if text is None:
            raise validation(f"SequenceNumber is required when ShardIteratorType is {kind}")
        if not text.isdigit() or len(text) > 40:
            raise validation(f"Invalid SequenceNumber: {text}")
        seq = int(text)
        if not stream.first_seq <= seq < stream.next_seq:
            raise validation(
                f"Invalid SequenceNumber {text}: it is not in the range of shard {shard}"
            )
        if seq < stream.oldest_kept():
            raise _trimmed(seq)
        position = seq + 1 if kind == "AFTER_SEQUENCE_NUMBER" else seq
    return {"ShardIterator": _token(stream, position)}


def _trimmed(seq: int) -> DynamoError:
    return DynamoError(
        "TrimmedDataAccessException",
        f"The requested data at sequence number {seq_text(seq)} is beyond the trim horizon",
    )


def _position(gt: GlobalTable, region: str, token: str) -> tuple[RegionStream, int]:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        arn, shard, position, issued = decoded["a"], decoded["s"], decoded["p"], decoded["t"]
        if not isinstance(position, int) or not isinstance(issued, float | int):
            raise TypeError
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise validation("Invalid ShardIterator") from None
    stream = _stream(gt, region, arn)
    if shard != stream.shard_id:
        raise validation("Invalid ShardIterator")
    if time.time() - issued > ITERATOR_LIFE_S:
        raise DynamoError("ExpiredIteratorException", "Iterator expired")
    return stream, position


def get_records(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    token = field(req, "ShardIterator", str, True)
    if not 1 <= len(token) <= 2048:
        raise validation("Invalid ShardIterator")
    limit = field(req, "Limit", int) or MAX_RECORDS_PER_CALL
    if not 1 <= limit <= MAX_RECORDS_PER_CALL:
        raise validation(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000"
        )
    stream, position = _position(gt, region, token)
    oldest = stream.oldest_kept()
    if position < oldest:
        raise _trimmed(position)
    records = stream.records
    start = position - oldest
    chosen = records[start : start + limit]
    out = [_record(stream, r) for r in chosen]
    resp: dict[str, Any] = {"Records": out}
    after = chosen[-1][0] + 1 if chosen else position
    if stream.enabled or after < stream.next_seq:
        resp["NextShardIterator"] = _token(stream, after)
    return resp


def _record(stream: RegionStream, record: tuple[Any, ...]) -> dict[str, Any]:
    seq, created, prev, new, origin = record
    old_item = prev.item() if prev is not None else None
    new_item = new.item()
    schema = stream.table.schema
    keys = schema.key_attrs(new_item if new_item is not None else old_item)
    if old_item is None:
        name = "INSERT"
    elif new_item is None:
        name = "REMOVE"
    else:
        name = "MODIFY"
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": float(int(created)),
        "Keys": keys,
        "SequenceNumber": seq_text(seq),
        "StreamViewType": stream.view_type,
    }
    view = stream.view_type
    if new_item is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["NewImage"] = new_item
    if old_item is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["OldImage"] = old_item
    body["SizeBytes"] = len(orjson.dumps(keys)) + sum(
        len(orjson.dumps(body[k])) for k in ("NewImage", "OldImage") if k in body
    )
    out: dict[str, Any] = {
        "eventID": f"{stream.event_prefix}{seq:016x}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": stream.region,
        "dynamodb": body,
    }
    if origin == "ttl":
        out["userIdentity"] = SERVICE_IDENTITY
    return out
