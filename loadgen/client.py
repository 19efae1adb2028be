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
    "UpdateTable": "update_table",
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


class NoAnswer(Exception):
    """The store gave no answer; the subclass says whether the request may have reached it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutcomeUnknown(NoAnswer):
    """Timeout, connection lost mid-call or 5xx: the operation may or may not have happened."""


class NotSent(NoAnswer):
    """The request never left this process: the name did not resolve, the connection was
    refused or timed out, the TLS handshake failed (on every attempt). The operation
    certainly did not happen, so the history records it as `fail`, never `unknown`.
    `reason` is short (`NotSent:<what failed>`, the history's `error`); `detail` says more."""

    def __init__(self, cause: str, detail: str = "") -> None:
        super().__init__(f"NotSent:{cause}")
        self.detail = detail or cause

    def __str__(self) -> str:
        return f"{self.reason} ({self.detail})"


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


#: local endpoints need some credentials to sign with, never real ones
LOCAL_CREDENTIALS = {"aws_access_key_id": "hothot", "aws_secret_access_key": "hothot"}


def dynamodb_client(
    region: str,
    endpoint_url: str | None,
    *,
    credentials: dict[str, str] | None = None,
    retries: int = 0,
    timeout_s: float = 5.0,
    session: boto3.session.Session | None = None,
) -> Any:
    """The botocore DynamoDB client of `Boto3Client`, and the one `loadgen.endpoints` asks
    where requests go: one construction, so both clients resolve endpoints alike."""
    config = Config(
        region_name=region,
        retries={"max_attempts": retries, "mode": "standard"},
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        max_pool_connections=64,
    )
    creds = credentials
    if creds is None and endpoint_url is not None:
        creds = LOCAL_CREDENTIALS
    if session is None:
        session = _session()
    else:  # a fresh session (fresh environment and config files) with the cached model
        loader = _session()._session.get_component("data_loader")
        session._session.register_component("data_loader", loader)
    return session.client("dynamodb", endpoint_url=endpoint_url, config=config, **(creds or {}))


#: botocore errors raised before any byte of the request left (urllib3's connect phase)
_CONNECT_ERRORS = (
    botocore.exceptions.EndpointConnectionError,  # DNS failure, connection refused
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ProxyConnectionError,
)
#: TLS failures that can only happen in a new connection's handshake (an SSLError on an
#: established connection may come after the request went out: that one stays unknown)
_HANDSHAKE_FAILURES = (
    "CERTIFICATE_VERIFY_FAILED",
    "WRONG_VERSION_NUMBER",
    "HANDSHAKE",
    "TLSV1_ALERT",
)


def was_not_sent(exc: BaseException | None) -> bool:
    """Whether a botocore exception proves the request never left this process."""
    if isinstance(exc, _CONNECT_ERRORS):
        return True
    if isinstance(exc, botocore.exceptions.SSLError):
        return any(mark in str(exc).upper() for mark in _HANDSHAKE_FAILURES)
    return False


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
        self._client = dynamodb_client(
            region, endpoint_url, credentials=credentials, retries=retries, timeout_s=timeout_s
        )
        #: what each attempt of the current call raised (botocore retries inside one call)
        self._attempts: list[BaseException | None] = []
        self._client.meta.events.register("needs-retry.dynamodb", self._note_attempt)

    def _note_attempt(self, caught_exception: BaseException | None = None, **_: Any) -> None:
        self._attempts.append(caught_exception)

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        try:
            method = getattr(self._client, OPERATIONS[operation])
        except KeyError:
            raise ValueError(
                f"operation {operation!r} is not supported by hothot's client"
            ) from None
        self._attempts = []
        try:
            answer: dict[str, Any] = method(**request)
        except (*_CONNECT_ERRORS, botocore.exceptions.SSLError) as exc:
            if was_not_sent(exc) and all(map(was_not_sent, self._attempts)):
                raise NotSent(type(exc).__name__, str(exc)) from exc
            raise OutcomeUnknown(type(exc).__name__) from exc
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
