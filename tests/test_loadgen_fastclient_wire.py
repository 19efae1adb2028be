"""What the fast client puts on the wire equals what botocore would: bodies and signatures."""

from __future__ import annotations

import datetime
from typing import Any

import botocore.auth
import orjson
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.serialize import create_serializer
from botocore.session import get_session

from loadgen.fastclient import (
    DATA_OPERATIONS,
    TARGET_PREFIX,
    encode_request,
    needs_signature,
    request_host,
)
from loadgen.sigv4 import CONTENT_TYPE, SigV4Signer

MODEL = get_session().get_service_model("dynamodb")
FIXED = datetime.datetime(2024, 6, 10, 12, 34, 56)


def _botocore_authorization(
    url: str, target: str, body: bytes, creds: Credentials, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FIXED)
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": target},
    )
    botocore.auth.SigV4Auth(creds, "dynamodb", "eu-west-1").add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("token", [None, "session-token/with+chars="])
@pytest.mark.parametrize(
    "url", ["https://dynamodb.eu-west-1.amazonaws.com", "http://127.0.0.1:8001", "http://h:80"]
)
def test_signature_equals_botocore(
    url: str, token: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = encode_request("PutItem", {"TableName": "t", "Item": {"pk": {"S": "é#1"}}})
    target = TARGET_PREFIX + "PutItem"
    expected = _botocore_authorization(
        url, target, body, Credentials("AKIDEXAMPLE", "wJalr/secret", token), monkeypatch
    )
    signer = SigV4Signer("AKIDEXAMPLE", "wJalr/secret", "eu-west-1", token)
    ours = signer.headers(request_host(url), target, body, FIXED.strftime("%Y%m%dT%H%M%SZ"))
    assert ours["Authorization"] == expected["Authorization"]
    assert ours["X-Amz-Date"] == expected["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == expected.get("X-Amz-Security-Token")
    # the cached signing key must not leak into another day's signature
    other_day = signer.headers(request_host(url), target, body, "20240611T000000Z")
    assert other_day["Authorization"] != ours["Authorization"]


def test_only_aws_endpoints_are_signed_by_default() -> None:
    assert needs_signature("https://dynamodb.us-east-1.amazonaws.com")
    assert not needs_signature("http://127.0.0.1:8000")
    assert not needs_signature("http://amazonaws.com.example.org:8000")


REQUESTS: list[tuple[str, dict[str, Any]]] = [
    (
        "PutItem",
        {
            "TableName": "t",
            "Item": {
                "pk": {"S": "cart#1"},
                "b": {"B": b"\x00\xff"},
                "bs": {"BS": [b"a", bytearray(b"b")]},
                "m": {"M": {"l": {"L": [{"N": "1.5"}, {"B": b"\x01"}]}}},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValues": "ALL_OLD",
            "ReturnConsumedCapacity": "TOTAL",
        },
    ),
    ("Scan", {"TableName": "t", "Limit": 10, "ExclusiveStartKey": {"pk": {"S": "x"}}}),
]


@pytest.mark.parametrize(("operation", "request_body"), REQUESTS)
def test_request_bodies_equal_botocore(operation: str, request_body: dict[str, Any]) -> None:
    serialized = create_serializer("json").serialize_to_request(
        request_body, MODEL.operation_model(operation)
    )
    assert orjson.loads(encode_request(operation, request_body)) == orjson.loads(serialized["body"])


def _typed_leaves(shape: Any, path: str, seen: frozenset[str]) -> set[tuple[str, str]]:
    kind = shape.type_name
    if kind in ("double", "float", "blob", "timestamp"):
        return {(path, kind)}
    if shape.name in seen:
        return set()
    seen = seen | {shape.name}
    if kind == "structure":
        return set().union(
            *(_typed_leaves(s, f"{path}.{n}", seen) for n, s in shape.members.items())
        )
    if kind == "list":
        return _typed_leaves(shape.member, path + "[]", seen)
    if kind == "map":
        return _typed_leaves(shape.value, path + "{}", seen)
    return set()


@pytest.mark.parametrize("operation", sorted(DATA_OPERATIONS))
def test_hand_decoding_covers_every_converted_type_in_the_model(operation: str) -> None:
    """The hot path converts doubles in ConsumedCapacity/ItemCollectionMetrics and blobs in
    AttributeValues by hand; if botocore's model ever converts anything else, this fails."""
    leaves = _typed_leaves(MODEL.operation_model(operation).output_shape, "", frozenset())
    for path, kind in leaves:
        if kind == "blob":
            assert path.endswith((".B", ".BS[]")), path
        else:
            assert kind == "double", path
            assert path.startswith((".ConsumedCapacity", ".ItemCollectionMetrics")), path
            assert path.endswith(
                ("CapacityUnits", "ReadCapacityUnits", "WriteCapacityUnits", "RangeGB[]")
            ), path
