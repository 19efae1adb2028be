"""The one small interface every workload talks to a region through.

Requests and answers are DynamoDB JSON-protocol bodies — the same shapes boto3's low-level
client takes — so a workload runs unchanged on boto3 (the path users' applications take) or on
the fast client, and errors are reduced to the two distinctions the history needs: the store
said no (`StoreError`: the write did not happen) or we cannot know (`OutcomeUnknown`).
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import boto3
import botocore.exceptions
from botocore.config import Config

#: DynamoDB operation name -> boto3 client method
OPERATIONS: dict[str, str] = {
    "PutItem": "put_item",
    "GetItem": "get_item",
    "UpdateItem": "update_item",
    "DeleteItem": "delete_item",
    "Query": "query",
    "Scan": "scan",
    "BatchGetItem": "batch_get_item",
    "BatchWriteItem": "batch_write_item",
    "CreateTable": "create_table",
    "DescribeTable": "describe_table",
    "DeleteTable": "delete_table",
    "ListTables": "list_tables",
}


class StoreError(Exception):
    """The store answered with an error: the operation certainly did not take effect."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


#: the error code of a write whose condition did not hold
CONDITION_FAILED = "ConditionalCheckFailedException"


class ConditionFailed(StoreError):
    """ConditionalCheckFailedException: a guarded write found the item changed. `item` is
    the item the condition was checked against, when the request asked for it
    (ReturnValuesOnConditionCheckFailure=ALL_OLD) and the item existed; else None."""

    def __init__(self, code: str, message: str = "", item: dict[str, Any] | None = None) -> None:
        super().__init__(code, message)
        self.item = item


class Throttled(StoreError):
    """ProvisionedThroughputExceededException / ThrottlingException."""


class OutcomeUnknown(Exception):
    """Timeout, connection error or 5xx: the operation may or may not have happened."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_THROTTLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


def store_error(code: str, message: str = "", item: Any = None) -> StoreError:
    """The exception class for a DynamoDB error code (shared by every client); `item`: the
    error's `Item` (a condition failure's current item), kept only when it is an item."""
    if code == CONDITION_FAILED:
        return ConditionFailed(code, message, item if isinstance(item, dict) else None)
    if code in _THROTTLE_CODES:
        return Throttled(code, message)
    return StoreError(code, message)


class DynamoClient(Protocol):
    region: str

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]: ...


@functools.cache
def _session() -> boto3.session.Session:
    """One boto3 session per process: its loader caches the service model, which makes each
    further client cheap (a fresh session re-reads the model: ~0.3 s a client). Each client
    still has its own connection pool."""
    return boto3.session.Session()


class Boto3Client:
    """boto3's low-level client for one region. Retries are off unless asked for: a retry
    hides what the store did (a timed-out write retried may be applied twice)."""

    def __init__(
        self,
        region: str,
        endpoint_url: str | None,
        *,
        retries: int = 0,
        timeout_s: float = 5.0,
        credentials: dict[str, str] | None = None,
    ) -> None:
        self.region = region
        config = Config(
            region_name=region,
            retries={"max_attempts": retries, "mode": "standard"},
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            max_pool_connections=64,
        )
        creds = credentials
        if creds is None and endpoint_url is not None:
            # a local endpoint needs some credentials to sign with, never real ones
            creds = {"aws_access_key_id": "hothot", "aws_secret_access_key": "hothot"}
        self._client = _session().client(
            "dynamodb", endpoint_url=endpoint_url, config=config, **(creds or {})
        )

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        try:
            method = getattr(self._client, OPERATIONS[operation])
        except KeyError:
            raise ValueError(
                f"operation {operation!r} is not supported by hothot's client"
            ) from None
        try:
            answer: dict[str, Any] = method(**request)
        except botocore.exceptions.ClientError as exc:
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            code = str(err.get("Code", "Unknown"))
            if status >= 500:
                raise OutcomeUnknown(f"{code} (HTTP {status})") from exc
            message = str(err.get("Message", ""))
            raise store_error(code, message, exc.response.get("Item")) from exc
        except (
            botocore.exceptions.ConnectionError,
            botocore.exceptions.HTTPClientError,
            botocore.exceptions.ReadTimeoutError,
        ) as exc:
            raise OutcomeUnknown(type(exc).__name__) from exc
        answer.pop("ResponseMetadata", None)
        return answer
