"""DynamoDB's error shape, so that boto3 raises its usual exception classes."""

from __future__ import annotations

import orjson

_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class DynamoError(Exception):
    """An error answered to the client as `{"__type": ..., "message": ...}`."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> bytes:
        return orjson.dumps({"__type": _PREFIX + self.code, "message": self.message})


def validation(message: str) -> DynamoError:
    return DynamoError("ValidationException", message)


def not_found(table: str) -> DynamoError:
    return DynamoError(
        "ResourceNotFoundException", f"Requested resource not found: Table: {table} not found"
    )


def condition_failed() -> DynamoError:
    return DynamoError("ConditionalCheckFailedException", "The conditional request failed")


def unavailable(message: str) -> DynamoError:
    return DynamoError("ServiceUnavailable", message, 503)


def write_conflict(region: str) -> DynamoError:
    return DynamoError(
        "ReplicatedWriteConflictException",
        f"Transaction is in progress on this item from region {region}; retry",
    )
