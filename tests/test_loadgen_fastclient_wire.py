"""What the fast client puts on the wire equals what botocore would: bodies and signatures."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import botocore
import botocore.auth
import orjson
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.session import get_session

from loadgen.answers import AnswerDecoder
from loadgen.fastclient import (
    TARGET_PREFIX,
    encode_request,
    error_of,
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


BLOB = b"\x00\xffblob"
WIRE_LEAVES: dict[str, Any] = {
    "string": "s",
    "integer": 7,
    "long": 1 << 40,
    "boolean": True,
    "double": 1.5,
    "float": 2.25,
    "blob": base64.b64encode(BLOB).decode(),
    "timestamp": 1718022896.25,
}


def synthetic(
    shape: Any, leaves: set[str], path: str = "", depth: dict[str, int] | None = None
) -> Any:
    """A wire value (as DynamoDB would send it) holding every modelled leaf under `shape`;
    each recursive shape is entered at most twice on a path. `leaves` collects the paths."""
    depth = dict(depth or {})
    if shape.type_name in WIRE_LEAVES:
        leaves.add(f"{path}:{shape.type_name}")
        enum = getattr(shape, "enum", None)
        return enum[0] if enum else WIRE_LEAVES[shape.type_name]
    if depth.get(shape.name, 0) >= 2:
        return None
    depth[shape.name] = depth.get(shape.name, 0) + 1
    if shape.type_name == "list":
        return [synthetic(shape.member, leaves, path + "[]", depth)]
    if shape.type_name == "map":
        return {"k": synthetic(shape.value, leaves, path + "{}", depth)}
    assert shape.type_name == "structure", shape.type_name
    members = {
        name: synthetic(member, leaves, f"{path}.{name}", depth)
        for name, member in shape.members.items()
    }
    return {name: value for name, value in members.items() if value is not None}


def _botocore_parse(shape: Any, body: bytes) -> dict[str, Any]:
    parsed = create_parser("json").parse({"body": body, "headers": {}, "status_code": 200}, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


ANSWERING = sorted(n for n in MODEL.operation_names if MODEL.operation_model(n).output_shape)


@pytest.mark.parametrize("operation", ANSWERING)
def test_answers_decode_as_botocore_parses_them(operation: str) -> None:
    """Every modelled leaf of every operation's answer (generated from the installed model, so
    a member that a new botocore adds is covered without a change here) decodes to exactly
    what botocore's parser gives: the hot path for data operations relies on it."""
    shape = MODEL.operation_model(operation).output_shape
    leaves: set[str] = set()
    body = orjson.dumps(synthetic(shape, leaves))
    ours = AnswerDecoder(MODEL).decode(operation, body)
    assert ours == _botocore_parse(shape, body)
    # the comparison saw converted leaves where the model has them (not a vacuous equality)
    for leaf in leaves:
        if leaf.endswith((":blob", ":timestamp")):
            assert isinstance(_value_at(ours, leaf.split(":")[0]), bytes | datetime.datetime)


def _value_at(doc: Any, path: str) -> Any:
    for part in path.replace("[]", ".[]").replace("{}", ".{}").split(".")[1:]:
        doc = doc[0] if part == "[]" else doc["k"] if part == "{}" else doc[part]
    return doc


def test_every_data_operation_converts_what_the_model_says() -> None:
    """The decoder's skip test (a body without any converted member's name is not walked)
    never skips a body that botocore would convert: blobs inside items deep in M and L."""
    decoder = AnswerDecoder(MODEL)
    item = {"pk": {"S": "x"}, "m": {"M": {"l": {"L": [{"BS": ["AAE="]}, {"B": "/w=="}]}}}}
    body = orjson.dumps({"Attributes": item, "ConsumedCapacity": {"CapacityUnits": 1.0}})
    decoded = decoder.decode("PutItem", body)
    assert decoded["Attributes"]["m"]["M"]["l"]["L"] == [{"BS": [b"\x00\x01"]}, {"B": b"\xff"}]
    assert decoded == _botocore_parse(MODEL.operation_model("PutItem").output_shape, body)
    plain = orjson.dumps({"Attributes": {"pk": {"S": "x"}}})
    assert decoder.plan("PutItemOutput")[0]  # there are triggers, and this body has none
    assert not any(t in plain for t in decoder.plan("PutItemOutput")[0])


def test_vector_index_capacity_decodes_as_boto3() -> None:
    """botocore 1.44 added VectorIndexes to ConsumedCapacity (doubles): decoded as boto3 does."""
    capacity = MODEL.shape_for("ConsumedCapacity")
    if "VectorIndexes" not in capacity.members:
        pytest.skip(f"botocore {botocore.__version__} does not model VectorIndexes")
    body = orjson.dumps(
        {
            "Attributes": {"pk": {"S": "k"}, "b": {"B": "AAE="}},
            "ConsumedCapacity": {
                "TableName": "t",
                "CapacityUnits": 2.0,
                "VectorIndexes": {"v": {"VectorWriteRequestBytes": 12.5}},
            },
        }
    )
    ours = AnswerDecoder(MODEL).decode("PutItem", body)
    assert ours == _botocore_parse(MODEL.operation_model("PutItem").output_shape, body)
    assert ours["ConsumedCapacity"]["VectorIndexes"]["v"] == {"VectorWriteRequestBytes": 12.5}


def test_condition_failure_item_decodes_as_boto3() -> None:
    body = orjson.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            "message": "The conditional request failed",
            "Item": {"pk": {"S": "k"}, "b": {"B": "AAE="}},
        }
    )
    code, message, item = error_of(body, 400)
    assert (code, message) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert item == {"pk": {"S": "k"}, "b": {"B": b"\x00\x01"}}
