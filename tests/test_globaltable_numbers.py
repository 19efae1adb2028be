"""Numbers whose exponent Decimal itself cannot hold (issue 16, case 1): DynamoDB's
ValidationException wherever a number is parsed, never a 500 with a traceback on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from globaltable.items import NumberError, canonical_number, parse_number
from tests.globaltable_fixtures import RunningEmulator, launch

HUGE = "1e1000000000000000000"
TINY = "1e-999999999999999999999"
TABLE = "numbers"


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningEmulator, Path]]:
    """An emulator whose stderr goes to a file, with a hash-only and a numeric-key table."""
    log = tmp_path_factory.mktemp("numbers") / "stderr.log"
    with log.open("w") as stderr:
        emu = launch("--replication-delay", "10ms", "--replication-jitter", "0ms", stderr=stderr)
        emu.create_table(TABLE)
        emu.create_table("numkeys", pk="N")
        yield emu, log
        emu.stop()


def _calls(number: str) -> dict[str, tuple[str, dict[str, Any]]]:
    value = {"N": number}
    return {
        "PutItem item": ("put_item", {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "n": value}}),
        "PutItem nested": (
            "put_item",
            {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "m": {"M": {"l": {"L": [value]}}}}},
        ),
        "PutItem number set": (
            "put_item",
            {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "ns": {"NS": ["1", number]}}},
        ),
        "UpdateItem ADD": (
            "update_item",
            {
                "TableName": TABLE,
                "Key": {"pk": {"S": "a"}},
                "UpdateExpression": "ADD c :v",
                "ExpressionAttributeValues": {":v": value},
            },
        ),
        "UpdateItem SET a + b": (
            "update_item",
            {
                "TableName": TABLE,
                "Key": {"pk": {"S": "a"}},
                "UpdateExpression": "SET c = :one + :v",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":v": value},
            },
        ),
        "Query key condition": (
            "query",
            {
                "TableName": "numkeys",
                "KeyConditionExpression": "pk = :v",
                "ExpressionAttributeValues": {":v": value},
            },
        ),
        "GetItem key": ("get_item", {"TableName": "numkeys", "Key": {"pk": value}}),
        "BatchWriteItem": (
            "batch_write_item",
            {"RequestItems": {TABLE: [{"PutRequest": {"Item": {"pk": {"S": "b"}, "n": value}}}]}},
        ),
        "PutItem condition": (
            "put_item",
            {
                "TableName": TABLE,
                "Item": {"pk": {"S": "a"}},
                "ConditionExpression": "attribute_not_exists(n) OR n < :v",
                "ExpressionAttributeValues": {":v": value},
            },
        ),
    }


@pytest.mark.parametrize("number", [HUGE, TINY, "-" + HUGE, "9" * 40 + "e" + "9" * 30])
@pytest.mark.parametrize("call", sorted(_calls("1")))
def test_out_of_range_number_is_a_validation_exception(quiet, number, call):
    emu, log = quiet
    ddb = emu.client("us-east-1")
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "n": {"N": "5"}})  # conditions see one
    method, request = _calls(number)[call]
    with pytest.raises(ClientError) as caught:
        getattr(ddb, method)(**request)
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400, error
    assert error["Error"]["Code"] == "ValidationException", error
    message = error["Error"]["Message"]
    assert "Number overflow" in message or "Number underflow" in message or "38" in message
    assert "Traceback" not in log.read_text(), log.read_text()


def test_zero_with_a_huge_exponent_is_zero():
    assert canonical_number("0e1000000000000000000") == "0"
    assert canonical_number("-0.000e-999999999999999999999") == "0"


@pytest.mark.parametrize("text", [HUGE, "1E+1000000000000000000", "+.5e99999999999999999999"])
def test_huge_exponent_overflows(text):
    with pytest.raises(NumberError, match="Number overflow"):
        parse_number(text)


def test_tiny_exponent_underflows():
    with pytest.raises(NumberError, match="Number underflow"):
        parse_number(TINY)
