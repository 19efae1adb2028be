"""The fast client answers and fails exactly like the boto3 client, against a real HTTP server.

The server is `bench/nullserver.py` in a child process, scripted with canned DynamoDB answers
(shapes from the DynamoDB API reference) and error answers, so both clients parse the same bytes.
"""

from __future__ import annotations

import datetime
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from loadgen.client import (
    Boto3Client,
    ConditionFailed,
    NotSent,
    OutcomeUnknown,
    StoreError,
    Throttled,
)
from loadgen.fastclient import FastClient

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
TABLE = "hothot-test"

ITEM = {
    "pk": {"S": "profile#1"},
    "hh_vid": {"S": "w1:7"},
    "n": {"N": "42.5"},
    "blob": {"B": "AAEC/w=="},
    "blobs": {"BS": ["AQ==", "Ag=="]},
    "tags": {"SS": ["a", "b"]},
    "nested": {
        "M": {"B": {"S": "an attribute named B"}, "l": {"L": [{"B": "/w=="}, {"NULL": True}]}}
    },
    "ok": {"BOOL": False},
}
CAPACITY = {
    "TableName": TABLE,
    "CapacityUnits": 2,  # integral on the wire: boto3 keeps the int (its JSON parser does)
    "Table": {"CapacityUnits": 1},
    "GlobalSecondaryIndexes": {"by_vid": {"CapacityUnits": 1, "WriteCapacityUnits": 1}},
}
METRICS = {"ItemCollectionKey": {"pk": {"S": "profile#1"}}, "SizeEstimateRangeGB": [0, 1]}

ANSWERS: dict[str, dict[str, Any]] = {
    "PutItem": {"Attributes": ITEM, "ConsumedCapacity": CAPACITY, "ItemCollectionMetrics": METRICS},
    "GetItem": {"Item": ITEM, "ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 0.5}},
    "UpdateItem": {"Attributes": {"n": {"N": "43"}}, "ConsumedCapacity": CAPACITY},
    "DeleteItem": {"Attributes": ITEM, "ConsumedCapacity": CAPACITY},
    "Query": {
        "Items": [ITEM, {"pk": {"S": "profile#2"}}],
        "Count": 2,
        "ScannedCount": 2,
        "LastEvaluatedKey": {"pk": {"S": "profile#2"}},
        "ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 1},
    },
    "Scan": {"Items": [], "Count": 0, "ScannedCount": 5, "ConsumedCapacity": CAPACITY},
    "BatchWriteItem": {
        "UnprocessedItems": {TABLE: [{"PutRequest": {"Item": ITEM}}]},
        "ItemCollectionMetrics": {TABLE: [METRICS]},
        "ConsumedCapacity": [CAPACITY],
    },
    "DescribeTable": {
        "Table": {
            "TableName": TABLE,
            "TableStatus": "ACTIVE",
            "CreationDateTime": 1718000000.25,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "TableSizeBytes": 0,
        }
    },
}
REQUESTS: dict[str, dict[str, Any]] = {
    "PutItem": {"TableName": TABLE, "Item": {"pk": {"S": "profile#1"}}, "ReturnValues": "ALL_OLD"},
    "GetItem": {"TableName": TABLE, "Key": {"pk": {"S": "profile#1"}}, "ConsistentRead": True},
    "UpdateItem": {
        "TableName": TABLE,
        "Key": {"pk": {"S": "profile#1"}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
        "ReturnValues": "UPDATED_NEW",
    },
    "DeleteItem": {
        "TableName": TABLE,
        "Key": {"pk": {"S": "profile#1"}},
        "ReturnValues": "ALL_OLD",
    },
    "Query": {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :k",
        "ExpressionAttributeValues": {":k": {"S": "profile#1"}},
    },
    "Scan": {"TableName": TABLE, "Limit": 5},
    "BatchWriteItem": {"RequestItems": {TABLE: [{"PutRequest": {"Item": {"pk": {"S": "x"}}}}]}},
    "DescribeTable": {"TableName": TABLE},
}


def _error(code: str, status: int = 400) -> dict[str, Any]:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": f"says {code}"}
    return {"status": status, "body": body}


ERRORS: dict[str, dict[str, Any]] = {
    "PutItem": _error("ConditionalCheckFailedException"),
    "UpdateItem": _error("ProvisionedThroughputExceededException"),
    "DeleteItem": _error("ValidationException"),
    "Scan": _error("InternalServerError", 500),
    "Query": {"status": 503, "body": "<html>overloaded</html>"},
    "GetItem": {"status": 200, "body": {}, "delay_s": -1},  # never answers
    "BatchGetItem": {"status": 200, "body": {"Responses": {}}, "delay_s": 1.0},  # answers late
}


def _serve(tmp_path: Path, name: str, script: dict[str, Any], *more: str) -> Iterator[str]:
    path = tmp_path / f"{name}.json"
    path.write_bytes(orjson.dumps(script))
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "nullserver.py"), "--script", str(path), *more],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        yield orjson.loads(proc.stdout.readline())["url"]
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def canned_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    script = {op: {"status": 200, "body": body} for op, body in ANSWERS.items()}
    yield from _serve(tmp_path_factory.mktemp("canned"), "canned", script)


@pytest.fixture(scope="module")
def errors_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The error answers, from a server that counts the requests it gets (`arrived`)."""
    yield from _serve(tmp_path_factory.mktemp("errors"), "errors", ERRORS, "--count")


def arrived(url: str, operation: str) -> int:
    """How many `operation` requests the counting server has received so far."""
    with urllib.request.urlopen(f"{url}/counts", timeout=5) as answer:
        return int(orjson.loads(answer.read()).get(operation, 0))


@pytest.mark.parametrize("operation", sorted(ANSWERS))
def test_answers_equal_boto3(canned_url: str, operation: str) -> None:
    fast = FastClient(REGION, canned_url).call(operation, REQUESTS[operation])
    boto = Boto3Client(REGION, canned_url).call(operation, REQUESTS[operation])
    assert fast == boto
    assert "ResponseMetadata" not in fast


def _types(node: Any) -> Any:
    """The answer with every leaf replaced by its type: 2 == 2.0, but int is not float."""
    if isinstance(node, dict):
        return {k: _types(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_types(v) for v in node]
    return type(node)


@pytest.mark.parametrize("operation", sorted(ANSWERS))
def test_answer_types_follow_boto3(canned_url: str, operation: str) -> None:
    """Equality alone would let 2 == 2.0 through: the types must match too."""
    fast = FastClient(REGION, canned_url).call(operation, REQUESTS[operation])
    boto = Boto3Client(REGION, canned_url).call(operation, REQUESTS[operation])
    assert _types(fast) == _types(boto)


def test_answer_conversions(canned_url: str) -> None:
    client = FastClient(REGION, canned_url)
    attrs = client.call("PutItem", REQUESTS["PutItem"])["Attributes"]
    assert attrs["blob"]["B"] == b"\x00\x01\x02\xff"
    assert attrs["blobs"]["BS"] == [b"\x01", b"\x02"]
    assert attrs["nested"]["M"]["B"] == {"S": "an attribute named B"}
    assert attrs["nested"]["M"]["l"]["L"][0]["B"] == b"\xff"
    assert attrs["n"] == {"N": "42.5"}  # numbers stay strings, as in boto3's low-level client
    table = client.call("DescribeTable", REQUESTS["DescribeTable"])["Table"]
    assert isinstance(table["CreationDateTime"], datetime.datetime)


def test_error_mapping_equals_boto3(errors_url: str) -> None:
    cases = {
        "PutItem": (ConditionFailed, "ConditionalCheckFailedException"),
        "UpdateItem": (Throttled, "ProvisionedThroughputExceededException"),
        "DeleteItem": (StoreError, "ValidationException"),
    }
    for client in (FastClient(REGION, errors_url), Boto3Client(REGION, errors_url)):
        for operation, (cls, code) in cases.items():
            with pytest.raises(cls) as caught:
                client.call(operation, REQUESTS[operation])
            assert type(caught.value) is cls, (client, operation)
            assert caught.value.code == code
            assert caught.value.message == f"says {code}"
        for operation in ("Scan", "Query"):  # 500 with an error body, 503 with HTML
            with pytest.raises(OutcomeUnknown):
                client.call(operation, REQUESTS[operation])


def test_silence_is_an_unknown_outcome_and_the_socket_is_not_reused(errors_url: str) -> None:
    client = FastClient(REGION, errors_url, timeout_s=0.3, connections=1)
    with pytest.raises(OutcomeUnknown):
        client.call("GetItem", REQUESTS["GetItem"])
    # a late answer must not be read as the answer of the next request on the same pool
    with pytest.raises(OutcomeUnknown):
        client.call("BatchGetItem", {"RequestItems": {}})
    with pytest.raises(ConditionFailed):
        client.call("PutItem", REQUESTS["PutItem"])


def test_connection_refused_is_a_request_never_sent() -> None:
    """Refused before a byte left: certainly not applied, so `fail`, never `unknown`."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the call: nothing listens
    with pytest.raises(NotSent, match="ConnectionRefusedError") as caught:
        FastClient(REGION, f"http://127.0.0.1:{port}").call("GetItem", REQUESTS["GetItem"])
    assert not isinstance(caught.value, OutcomeUnknown)


@pytest.mark.parametrize(
    ("operation", "error", "retries", "attempts"),
    [
        ("UpdateItem", Throttled, 2, 3),
        ("UpdateItem", Throttled, 0, 1),
        ("Scan", OutcomeUnknown, 2, 3),  # a 500: the write may have happened, retried anyway
        ("PutItem", ConditionFailed, 2, 1),  # an answer, not a transient failure
        ("DeleteItem", StoreError, 2, 1),
    ],
)
def test_retries_stop_after_the_configured_count(
    errors_url: str, operation: str, error: type[Exception], retries: int, attempts: int
) -> None:
    """Counted where they land: `retries=2` is 3 requests, 0 is one, and errors that are the
    store's answer are never retried."""
    before = arrived(errors_url, operation)
    with pytest.raises(error):
        FastClient(REGION, errors_url, retries=retries).call(operation, REQUESTS[operation])
    assert arrived(errors_url, operation) - before == attempts


def test_retries_count_like_boto3(errors_url: str) -> None:
    """boto3's `max_attempts` (what Boto3Client's `retries` sets) counts retries, not attempts."""
    before = arrived(errors_url, "UpdateItem")
    with pytest.raises(Throttled):
        Boto3Client(REGION, errors_url, retries=1).call("UpdateItem", REQUESTS["UpdateItem"])
    assert arrived(errors_url, "UpdateItem") - before == 2


def test_signed_requests_reach_the_server(canned_url: str) -> None:
    creds = {"aws_access_key_id": "AKID", "aws_secret_access_key": "secret"}
    client = FastClient(REGION, canned_url, sign=True, credentials=creds)
    assert client.signer is not None
    assert client.call("GetItem", REQUESTS["GetItem"])["Item"]["pk"] == {"S": "profile#1"}


def test_bad_input_names_what_is_wrong(canned_url: str) -> None:
    with pytest.raises(ValueError, match="localhost:8000"):
        FastClient(REGION, "localhost:8000")
    with pytest.raises(ValueError, match="TransactWriteItems"):
        FastClient(REGION, canned_url).call("TransactWriteItems", {})
    with pytest.raises(TypeError, match="PutItem"):
        FastClient(REGION, canned_url).call("PutItem", {"TableName": TABLE, "Item": {1, 2}})
    with pytest.raises(ValueError, match="aws_secret_access_key"):
        FastClient(REGION, canned_url, sign=True, credentials={"aws_access_key_id": "A"})


def test_credentials_from_the_chain_are_reread_when_botocore_refreshes_them(
    canned_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSO or assumed-role credentials expire during a long run: the client signs with what
    botocore's refreshable source holds now, not with what it held when built."""
    from botocore.credentials import Credentials

    import loadgen.fastclient

    class Refreshing:  # stands in for botocore's RefreshableCredentials
        def __init__(self) -> None:
            self.now = Credentials("ASIA1", "secret1", "token1")

        def get_frozen_credentials(self) -> object:
            return self.now.get_frozen_credentials()

    source = Refreshing()
    monkeypatch.setattr(
        loadgen.fastclient,
        "get_session",
        lambda: type("S", (), {"get_credentials": lambda _: source})(),
    )
    client = FastClient(REGION, canned_url, sign=True)
    client.call("GetItem", REQUESTS["GetItem"])
    assert client.signer is not None and client.signer.access_key == "ASIA1"
    source.now = Credentials("ASIA2", "secret2", "token2")  # botocore refreshed them
    assert client.call("GetItem", REQUESTS["GetItem"])["Item"]["pk"] == {"S": "profile#1"}
    assert client.signer.identity == ("ASIA2", "secret2", "token2")


def test_a_request_larger_than_the_socket_buffers_arrives_whole() -> None:
    """The client sends a request with one send() and the rest only if the kernel took less:
    a server that reads late must still get every byte (a lost tail would hang the call)."""
    import hashlib
    import threading
    import time

    body = orjson.dumps({"TableName": TABLE, "Item": {"pk": {"S": "x" * (12 << 20)}}})
    got: dict[str, Any] = {}

    def serve(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn:
            time.sleep(0.3)  # let the client fill both sockets' buffers first
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            while len(rest) < length:
                rest += conn.recv(1 << 20)
            got["sha"] = hashlib.sha256(rest).hexdigest()
            answer = b"{}"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))  # fmt: skip

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        server = threading.Thread(target=serve, args=(listener,), daemon=True)
        server.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        assert FastClient(REGION, url, timeout_s=10).call("PutItem", orjson.loads(body)) == {}
        server.join(timeout=10)
    assert got["sha"] == hashlib.sha256(body).hexdigest()
