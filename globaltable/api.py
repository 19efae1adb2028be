"""The DynamoDB JSON 1.0 front door of one region: `X-Amz-Target` -> operation, errors in
DynamoDB's shape, and the region-level faults (outage) applied before anything runs."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from globaltable import itemops, queries, tableops, transactions
from globaltable.engine import GlobalTable
from globaltable.errors import DynamoError, unavailable, validation
from globaltable.expressions import ExpressionError
from globaltable.items import ItemError

TARGET_PREFIX = "DynamoDB_20120810."
Operation = Callable[[GlobalTable, str, dict[str, Any]], Any]

OPERATIONS: dict[str, Operation] = {
    "CreateTable": tableops.create_table,
    "DescribeTable": tableops.describe_table,
    "ListTables": tableops.list_tables,
    "DeleteTable": tableops.delete_table,
    "PutItem": itemops.put_item,
    "GetItem": itemops.get_item,
    "UpdateItem": itemops.update_item,
    "DeleteItem": itemops.delete_item,
    "BatchGetItem": itemops.batch_get_item,
    "BatchWriteItem": itemops.batch_write_item,
    "Query": queries.query,
    "Scan": queries.scan,
    "TransactWriteItems": transactions.transact_write_items,
}

#: (HTTP status, JSON body)
Reply = tuple[int, bytes]


def _error(exc: BaseException) -> Reply:
    if isinstance(exc, DynamoError):
        return exc.status, exc.body()
    if isinstance(exc, ExpressionError | ItemError):
        err = validation(str(exc))
        return err.status, err.body()
    traceback.print_exception(exc, file=sys.stderr)
    err = DynamoError("InternalServerError", f"internal error: {type(exc).__name__}: {exc}", 500)
    return err.status, err.body()


def _encode(answer: dict[str, Any] | bytes) -> Reply:
    return 200, answer if isinstance(answer, bytes) else orjson.dumps(answer)


async def _settle(pending: Awaitable[Any]) -> Reply:
    try:
        return _encode(await pending)
    except Exception as exc:
        return _error(exc)


def operation_name(target: str | None) -> str:
    if target is None or not target.startswith(TARGET_PREFIX):
        return "-"
    return target[len(TARGET_PREFIX) :]


#: raw `X-Amz-Target` header -> (operation name, operation): the HTTP layer's dispatch
ROUTES: dict[bytes, tuple[str, Operation]] = {
    (TARGET_PREFIX + name).encode(): (name, op) for name, op in OPERATIONS.items()
}


def handle(
    gt: GlobalTable, region: str, target: str | None, body: bytes, vid: str | None
) -> Reply | Awaitable[Reply]:
    """Answer one request; never raises. Async only for MRSC writes."""
    try:
        if region in gt.outages:
            raise unavailable(f"region {region} is unavailable (region_outage fault)")
        if target is None:
            raise DynamoError(
                "MissingAction", "Missing the X-Amz-Target header naming the operation"
            )
        op = OPERATIONS.get(operation_name(target))
        if op is None:
            raise DynamoError(
                "UnknownOperationException",
                f"The hothot emulator does not support the operation {target!r}; it supports {', '.join(OPERATIONS)}",
            )
    except Exception as exc:
        return _error(exc)
    return run(gt, region, op, body, vid)


def run(
    gt: GlobalTable, region: str, op: Operation, body: bytes, vid: str | None
) -> Reply | Awaitable[Reply]:
    """Answer one request for a known operation; never raises. Async only for MRSC writes."""
    try:
        if region in gt.outages:
            raise unavailable(f"region {region} is unavailable (region_outage fault)")
        try:
            req = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError as exc:
            raise DynamoError(
                "SerializationException", f"Request body is not valid JSON: {exc}"
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
        return _settle(answer)
    except Exception as exc:
        return _error(exc)
