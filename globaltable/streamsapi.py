"""The DynamoDB Streams API of one region (`DynamoDBStreams_20120810.*` on the region's port):
ListStreams, DescribeStream, GetShardIterator (all four iterator types), GetRecords.

Shard iterators are self-describing tokens (stream, shard, position, issue time), valid for
15 minutes as on DynamoDB; nothing is kept per iterator in the emulator."""

from __future__ import annotations

import base64
import binascii
import re
import time
from typing import TYPE_CHECKING, Any

import orjson

from globaltable.errors import DynamoError, resource_not_found, validation
from globaltable.request import choice, field
from globaltable.streams import RegionStream, seq_text

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


#: what a stream ARN looks like; another string is refused (ValidationException), a
#: well-formed ARN of no stream is not found (ResourceNotFoundException), as on DynamoDB
_STREAM_ARN = re.compile(r"arn:aws:dynamodb:[^:]+:\d+:table/[^/]+/stream/.+")


def _stream(gt: GlobalTable, region: str, arn: Any) -> RegionStream:
    if not isinstance(arn, str) or not 37 <= len(arn) <= 1024:
        raise validation(
            "1 validation error detected: Value at 'streamArn' failed to satisfy constraint: "
            "Member must have length between 37 and 1024"
        )
    if _STREAM_ARN.fullmatch(arn) is None:
        raise validation(f"Invalid StreamArn: {arn}")
    for stream in _streams(gt, region):
        if stream.arn == arn:
            return stream
    raise resource_not_found(f"Stream: {arn} not found")


def list_streams(gt: GlobalTable, region: str, req: dict[str, Any]) -> dict[str, Any]:
    table_name = field(req, "TableName", str)
    limit = field(req, "Limit", int)
    if limit is None:
        limit = 100
    if not 1 <= limit <= 100:
        raise validation(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value between 1 and 100"
        )
    start = field(req, "ExclusiveStartStreamArn", str)
    if start is not None and _STREAM_ARN.fullmatch(start) is None:
        raise validation(f"Invalid ExclusiveStartStreamArn: {start}")
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
    # one shard: it is listed unless the listing starts at or after it (shard ids in order)
    shards = [stream.shard()] if start is None or start < stream.shard_id else []
    if _child_filter(req) is not None:
        shards = []  # the one shard has no children: it is never split here
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


def _child_filter(req: dict[str, Any]) -> str | None:
    """DescribeStream's `ShardFilter` (`CHILD_SHARDS` of a shard id), checked."""
    spec = field(req, "ShardFilter", dict)
    if spec is None:
        return None
    if spec.get("Type") != "CHILD_SHARDS":
        raise validation(
            f"1 validation error detected: Value '{spec.get('Type')}' at 'shardFilter.type' "
            "failed to satisfy constraint: Member must satisfy enum value set: [CHILD_SHARDS]"
        )
    shard = spec.get("ShardId")
    if not isinstance(shard, str) or not 28 <= len(shard) <= 65:
        raise validation(
            f"1 validation error detected: Value '{shard}' at 'shardFilter.shardId' failed to "
            "satisfy constraint: Member must have length between 28 and 65"
        )
    return shard


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
        raise resource_not_found(f"Shard: {shard} in Stream: {stream.arn} not found")
    if kind in ("TRIM_HORIZON", "LATEST") and req.get("SequenceNumber") is not None:
        raise validation(f"SequenceNumber is not allowed when ShardIteratorType is {kind}")
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
        # the shard's starting number is valid even before a record carries it
        if not stream.first_seq <= seq < max(stream.next_seq, stream.first_seq + 1):
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
    limit = field(req, "Limit", int)
    if limit is None:
        limit = MAX_RECORDS_PER_CALL
    if not 1 <= limit <= MAX_RECORDS_PER_CALL:
        bound = "less than or equal to 1000" if limit > 1 else "greater than or equal to 1"
        raise validation(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value {bound}"
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
