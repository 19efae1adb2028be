"""Fuzz the HTTP request layer and the expression parsers over the wire: garbage bodies,
wrong types, unknown operations and tables, random expressions. Never a 500, never a hang,
and the server keeps serving."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.globaltable_fixtures import launch

OPS = [
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "CreateTable",
    "DescribeTable",
    "ListTables",
    "TransactWriteItems",
    "TransactGetItems",
    "UpdateTable",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "TagResource",
    "UntagResource",
    "ListTagsOfResource",
    "Nope",
    "",
]
STREAM_OPS = ["ListStreams", "DescribeStream", "GetShardIterator", "GetRecords", "Nope"]
FIELDS = [
    "TableName",
    "Item",
    "Key",
    "ConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
    "KeyConditionExpression",
    "FilterExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "Limit",
    "ExclusiveStartKey",
    "RequestItems",
    "TransactItems",
    "ConsistentRead",
    "Select",
    "Segment",
    "TotalSegments",
    "KeySchema",
    "AttributeDefinitions",
    "Expected",
    "ConditionalOperator",
    "AttributeUpdates",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "AttributesToGet",
    "IndexName",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "GlobalSecondaryIndexUpdates",
    "StreamSpecification",
    "TimeToLiveSpecification",
    "BillingMode",
    "ProvisionedThroughput",
    "ResourceArn",
    "Tags",
    "TagKeys",
    "ClientRequestToken",
    "StreamArn",
    "ShardId",
    "ShardIteratorType",
    "ShardIterator",
    "SequenceNumber",
]
TOKENS = [
    "pk",
    "a",
    "#n",
    ":v",
    "=",
    "<>",
    "<",
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    ",",
    "SET",
    "ADD",
    "REMOVE",
    "DELETE",
    "+",
    "-",
    "attribute_exists",
    "size",
    "begins_with",
    "list_append",
    "if_not_exists",
    "BETWEEN",
    "IN",
    "[0]",
    ".b",
    "contains",
    " ",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["fuzz", "S", "N", "pk", "ALL_NEW"]),
)
attr_values = st.one_of(
    st.dictionaries(
        st.sampled_from(["S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "X"]),
        scalars,
        max_size=2,
    ),
    scalars,
)
json_values = st.recursive(
    st.one_of(scalars, attr_values),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["pk", "a", ":v", "#n", "fuzz", "Keys"]), inner, max_size=3
        ),
    ),
    max_leaves=8,
)
expressions = st.lists(st.sampled_from(TOKENS), max_size=10).map(" ".join)
bodies = st.fixed_dictionaries(
    {"TableName": st.sampled_from(["fuzz", "missing", 7])},
    optional={f: (expressions if f.endswith("Expression") else json_values) for f in FIELDS[1:]},
)


@pytest.fixture(scope="module")
def server() -> Any:
    emu = launch("--replication-delay", "10ms", "--replication-jitter", "0ms")
    emu.client("us-east-1").create_table(
        TableName="fuzz",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    url = urlsplit(emu.regions["us-east-1"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    yield emu, conn
    conn.close()
    emu.stop()


def post(
    conn: http.client.HTTPConnection, op: str, body: bytes, service: str = "DynamoDB_20120810"
) -> tuple[int, bytes]:
    conn.request(
        "POST",
        "/",
        body=body,
        headers={
            "X-Amz-Target": f"{service}.{op}",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    answer = conn.getresponse()
    return answer.status, answer.read()


def check(status: int, payload: bytes) -> None:
    assert status in (200, 400), (status, payload)
    decoded = json.loads(payload)
    if status == 400:
        assert decoded["__type"].startswith("com.amazonaws.dynamodb.v20120810#")
        assert decoded["message"]


@settings(max_examples=250)
@given(op=st.sampled_from(OPS), body=bodies)
def test_structured_garbage_never_crashes(server, op, body):
    _, conn = server
    check(*post(conn, op, json.dumps(body).encode()))


@settings(max_examples=150)
@given(op=st.sampled_from(STREAM_OPS), body=bodies)
def test_stream_api_garbage_never_crashes(server, op, body):
    _, conn = server
    check(*post(conn, op, json.dumps(body).encode(), "DynamoDBStreams_20120810"))


@settings(max_examples=150)
@given(op=st.sampled_from(OPS), raw=st.binary(max_size=64))
def test_raw_bytes_never_crash(server, op, raw):
    _, conn = server
    check(*post(conn, op, raw))


def test_server_still_serves_after_fuzzing(server):
    emu, _ = server
    ddb = emu.client("eu-west-1")
    ddb.put_item(TableName="fuzz", Item={"pk": {"S": "alive"}})
    assert emu.control_client.quiesce(10)["converged"]
    assert emu.client("us-east-1").get_item(TableName="fuzz", Key={"pk": {"S": "alive"}})["Item"]


def test_malformed_http_gets_400_and_server_survives(server):
    emu, _ = server
    import socket

    url = urlsplit(emu.regions["us-east-1"])
    with socket.create_connection((url.hostname, url.port), timeout=5) as raw:
        raw.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")
    assert emu.client("us-east-1").list_tables()["TableNames"]
