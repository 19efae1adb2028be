"""The JSON 1.0 front door of one region: `X-Amz-Target` -> operation (DynamoDB's, and
DynamoDB Streams' on the same port), errors in DynamoDB's shape, and the region-level faults
(outage) applied before anything runs."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from globaltable import (
    accountops,
    batchops,
    itemops,
    queries,
    streamsapi,
    tableops,
    tableupdate,
    tags,
    transactget,
    transactions,
    ttl,
)
from globaltable.engine import GlobalTable
from globaltable.errors import DynamoError, unavailable, validation
from globaltable.expressions import ExpressionError
from globaltable.items import ItemError, ItemSerializationError
from globaltable.shapes import type_error

TARGET_PREFIX = "DynamoDB_20120810."
Operation = Callable[[GlobalTable, str, dict[str, Any]], Any]

OPERATIONS: dict[str, Operation] = {
    "CreateTable": tableops.create_table,
    "DescribeTable": tableops.describe_table,
    "ListTables": tableops.list_tables,
    "DeleteTable": tableops.delete_table,
    "UpdateTable": tableupdate.update_table,
    "PutItem": itemops.put_item,
    "GetItem": itemops.get_item,
    "UpdateItem": itemops.update_item,
    "DeleteItem": itemops.delete_item,
    "BatchGetItem": batchops.batch_get_item,
    "BatchWriteItem": batchops.batch_write_item,
    "Query": queries.query,
    "Scan": queries.scan,
    "TransactWriteItems": transactions.transact_write_items,
    "TransactGetItems": transactget.transact_get_items,
    "UpdateTimeToLive": ttl.update_time_to_live,
    "DescribeTimeToLive": ttl.describe_time_to_live,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTagsOfResource": tags.list_tags_of_resource,
    "DescribeLimits": accountops.describe_limits,
    "DescribeContinuousBackups": accountops.describe_continuous_backups,
}
#: service (botocore's name) -> (X-Amz-Target prefix, its operations)
STREAM_OPERATIONS: dict[str, Operation] = {
    "ListStreams": streamsapi.list_streams,
    "DescribeStream": streamsapi.describe_stream,
    "GetShardIterator": streamsapi.get_shard_iterator,
    "GetRecords": streamsapi.get_records,
}
SERVICES: dict[str, tuple[str, dict[str, Operation]]] = {
    "dynamodb": (TARGET_PREFIX, OPERATIONS),
    "dynamodbstreams": ("DynamoDBStreams_20120810.", STREAM_OPERATIONS),
}
#: errors that mean the request was read and understood: no type check needed
_UNDERSTOOD = frozenset(
    {"ConditionalCheckFailedException", "TransactionCanceledException", "ServiceUnavailable"}
)

#: (HTTP status, JSON body)
Reply = tuple[int, bytes]


def _error(exc: BaseException) -> Reply:
    if isinstance(exc, DynamoError):
        return exc.status, exc.body()
    if isinstance(exc, ItemSerializationError):
        err = DynamoError("SerializationException", str(exc))
        return err.status, err.body()
    if isinstance(exc, ExpressionError | ItemError):
        err = validation(str(exc))
        return err.status, err.body()
    traceback.print_exception(exc, file=sys.stderr)
    err = DynamoError("InternalServerError", f"internal error: {type(exc).__name__}: {exc}", 500)
    return err.status, err.body()


def _failed(exc: BaseException, service: str, name: str, req: Any) -> Reply:
    """The answer to a request that failed: DynamoDB deserializes a request whole before it
    validates it, so a value of the wrong JSON type anywhere is what it reports first."""
    if not (isinstance(exc, DynamoError) and exc.code in _UNDERSTOOD):
        try:
            wrong = type_error(service, name, req)
        except RecursionError:
            wrong = None
        if wrong is not None:
            err = DynamoError("SerializationException", wrong)
            return err.status, err.body()
    return _error(exc)


async def _settle(pending: Awaitable[Any], service: str, name: str, req: Any) -> Reply:
    try:
        answer = await pending
    except Exception as exc:
        return _failed(exc, service, name, req)
    return 200, answer if isinstance(answer, bytes) else orjson.dumps(answer)


#: raw `X-Amz-Target` header -> (service, operation name, operation): the HTTP layer's dispatch
ROUTES: dict[bytes, tuple[str, str, Operation]] = {
    (prefix + name).encode(): (service, name, op)
    for service, (prefix, ops) in SERVICES.items()
    for name, op in ops.items()
}


def handle(
    gt: GlobalTable, region: str, target: str | None, body: bytes, vid: str | None
) -> Reply | Awaitable[Reply]:
    """Answer a request whose target is not a known route (an error); never raises."""
    try:
        if region in gt.outages:
            raise unavailable(f"region {region} is unavailable (region_outage fault)")
        if target is None:
            raise DynamoError(
                "MissingAction", "Missing the X-Amz-Target header naming the operation"
            )
        route = ROUTES.get(target.encode("latin-1", "replace"))
        if route is not None:
            return run(gt, region, route, body, vid)
        supported = ", ".join(n for _, ops in SERVICES.values() for n in ops)
        raise DynamoError(
            "UnknownOperationException",
            f"The hothot emulator does not support the operation {target!r}; it supports {supported}",
        )
    except Exception as exc:
        return _error(exc)


def run(
    gt: GlobalTable,
    region: str,
    route: tuple[str, str, Operation],
    body: bytes,
    vid: str | None,
) -> Reply | Awaitable[Reply]:
    """Answer one request for a known operation; never raises. Async only for MRSC writes."""
    service, name, op = route
    req: Any = None
    try:
        if region in gt.outages:
            raise unavailable(f"region {region} is unavailable (region_outage fault)")
        try:
            req = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError as exc:
            raise DynamoError(
                "SerializationException", f"Request body is not valid JSON: {exc.msg} at {exc.pos}"
            ) from None
        if type(req) is not dict:
            raise DynamoError("SerializationException", "Request body must be a JSON object")
        if itemops.VID_FIELD in req:
            del req[itemops.VID_FIELD]
        if vid is not None:
            req[itemops.VID_FIELD] = vid
        answer = op(gt, region, req)
        if type(answer) is dict:  # the fast path: no isawaitable
            return 200, orjson.dumps(answer) if answer else b"{}"
        if type(answer) is bytes:
            return 200, answer
        return _settle(answer, service, name, req)
    except Exception as exc:
        return _failed(exc, service, name, req)
