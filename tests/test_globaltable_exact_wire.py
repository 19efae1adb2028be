"""DynamoDB's answers at the wire where boto3 cannot reach (it checks or encodes first): binary
values that are not base64 and JSON that does not parse (SerializationException), empty bodies
for TagResource and UntagResource. (Bodies over 16 MiB: tests/test_globaltable_http_limits.py.)"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.globaltable_fixtures import RunningEmulator

EAST = "us-east-1"
MB = 1024 * 1024


def post(
    emu: RunningEmulator, op: str, body: bytes | Iterator[bytes], chunked: bool = False
) -> tuple[int, bytes]:
    url = urlsplit(emu.regions[EAST])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        headers = {"X-Amz-Target": f"DynamoDB_20120810.{op}"}
        conn.request("POST", "/", body, headers, encode_chunked=chunked)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def put_body(table: str, padding: int = 0, binary: str | None = None) -> bytes:
    item: dict[str, Any] = {"pk": {"S": "x"}}
    if binary is not None:
        item["b"] = {"B": binary}
    return b'{"TableName": "%s", %s"Item": %s}' % (
        table.encode(),
        b" " * padding,
        json.dumps(item).encode(),
    )


@pytest.mark.parametrize(
    ("binary", "message"),
    [
        (
            "YWJjZGVmZ2g",
            "'YWJjZGVmZ2g' can not be converted to a Blob: Base64 encoded length is expected a "
            "multiple of 4 bytes but found: 11",
        ),
        ("YWJj??!!", "'YWJj??!!' can not be converted to a Blob: Invalid Base64 character"),
    ],
)
def test_binary_that_is_not_base64_does_not_deserialize(
    fast_emu: RunningEmulator, east_table: str, binary: str, message: str
) -> None:
    status, answer = post(fast_emu, "PutItem", put_body(east_table, binary=binary))
    assert status == 400
    error = json.loads(answer)
    assert error["__type"].endswith("#SerializationException")
    assert error["message"] == message


def test_json_that_does_not_parse_is_a_serialization_exception(fast_emu: RunningEmulator) -> None:
    status, answer = post(fast_emu, "PutItem", b"{broken json")
    assert status == 400
    error = json.loads(answer)
    assert error["__type"].endswith("#SerializationException")
    assert error["message"].endswith(" at 1")  # where it broke


def test_tag_and_untag_answer_an_empty_body(
    fast_emu: RunningEmulator, east_ddb: Any, east_table: str
) -> None:
    arn = east_ddb.describe_table(TableName=east_table)["Table"]["TableArn"]
    tags = {"ResourceArn": arn, "Tags": [{"Key": "k", "Value": "v"}]}
    assert post(fast_emu, "TagResource", json.dumps(tags).encode()) == (200, b"")
    untag = {"ResourceArn": arn, "TagKeys": ["k"]}
    assert post(fast_emu, "UntagResource", json.dumps(untag).encode()) == (200, b"")
    assert east_ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
