"""DynamoDB's error shape, so that boto3 raises its usual exception classes."""

from __future__ import annotations

from typing import Any

import orjson

_PREFIX = "com.amazonaws.dynamodb.v20120810#"
#: how DynamoDB begins the ValidationException of a request parameter it refuses
INVALID = "One or more parameter values were invalid: "


class DynamoError(Exception):
    """An error answered to the client as `{"__type": ..., "message": ...}`."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        extra: dict[str, Any] | None = None,
        message_key: str = "message",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra  # more top-level body fields (the failed condition's `Item`)
        self.message_key = message_key  # TransactionCanceledException spells it `Message`

    def body(self) -> bytes:
        body: dict[str, Any] = {"__type": _PREFIX + self.code, self.message_key: self.message}
        return orjson.dumps(body if self.extra is None else {**body, **self.extra})


def validation(message: str) -> DynamoError:
    return DynamoError("ValidationException", message)


def resource_not_found(what: str) -> DynamoError:
    """`what`: "Table: t not found", "Stream: arn not found", ... as DynamoDB words it."""
    return DynamoError("ResourceNotFoundException", f"Requested resource not found: {what}")


def not_found(table: str) -> DynamoError:
    return resource_not_found(f"Table: {table} not found")


def condition_failed(item: dict[str, Any] | None = None) -> DynamoError:
    """`item`: the current item, returned (as `Item`) for ReturnValuesOnConditionCheckFailure
    ALL_OLD; DynamoDB leaves `Item` out when there is no item."""
    return DynamoError(
        "ConditionalCheckFailedException",
        "The conditional request failed",
        extra=None if item is None else {"Item": item},
    )


def unavailable(message: str) -> DynamoError:
    return DynamoError("ServiceUnavailable", message, 503)


def write_conflict(region: str) -> DynamoError:
    return DynamoError(
        "ReplicatedWriteConflictException",
        f"Transaction is in progress on this item from region {region}; retry",
    )
