"""Fuzz the newer API surfaces in process (no HTTP: thousands of requests a second): legacy
parameters, index definitions and index reads, TTL, streams, tags, transactions, with valid
skeletons and random leaves. Every answer is a 200 or a 400 in DynamoDB's shape, never a 500."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from globaltable import api
from globaltable.engine import GlobalTable

T = api.TARGET_PREFIX
STREAMS = "DynamoDBStreams_20120810."
OPERATORS = ["EQ", "NE", "LT", "LE", "GT", "GE", "IN", "BETWEEN", "NULL", "NOT_NULL",
             "CONTAINS", "NOT_CONTAINS", "BEGINS_WITH", "NOPE"]  # fmt: skip
NAMES = ["pk", "sk", "g", "a", "b", "#x", "", "ttl"]

leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "a", "1", "1e999", "x" * 3])
)
value = st.one_of(
    leaf,
    st.fixed_dictionaries({}, optional={k: leaf for k in ("S", "N", "B", "BOOL", "NULL")}),
    st.builds(
        lambda kind, items: {kind: items},
        st.sampled_from(["SS", "NS", "L", "M"]),
        st.lists(st.sampled_from(["1", "a", {"S": "a"}]), max_size=3),
    ),  # fmt: skip
)
condition = st.fixed_dictionaries(
    {},
    optional={
        "ComparisonOperator": st.sampled_from(OPERATORS),
        "AttributeValueList": st.one_of(leaf, st.lists(value, max_size=3)),
        "Value": value,
        "Exists": st.one_of(st.booleans(), leaf),
    },
)
conditions = st.dictionaries(st.sampled_from(NAMES), st.one_of(condition, leaf), max_size=3)
updates = st.dictionaries(
    st.sampled_from(NAMES),
    st.fixed_dictionaries(
        {}, optional={"Action": st.sampled_from(["PUT", "ADD", "DELETE", "X"]), "Value": value}
    ),
    max_size=3,
)
key = st.fixed_dictionaries({"pk": value}, optional={"sk": value})
index = st.fixed_dictionaries(
    {
        "IndexName": st.sampled_from(["gi", "by_g", "", "x" * 300]),
        "KeySchema": st.lists(
            st.fixed_dictionaries(
                {
                    "AttributeName": st.sampled_from(NAMES),
                    "KeyType": st.sampled_from(["HASH", "RANGE", "X"]),
                }
            ),
            max_size=3,
        ),
        "Projection": st.fixed_dictionaries(
            {},
            optional={
                "ProjectionType": st.sampled_from(["ALL", "KEYS_ONLY", "INCLUDE", "X"]),
                "NonKeyAttributes": st.lists(st.sampled_from(NAMES), max_size=2),
            },
        ),
    }
)
requests = st.one_of(
    st.tuples(st.just("PutItem"), st.fixed_dictionaries(
        {"TableName": st.just("tab"), "Item": key}, optional={"Expected": conditions,
        "ConditionalOperator": st.sampled_from(["AND", "OR", "X"])})),
    st.tuples(st.just("UpdateItem"), st.fixed_dictionaries(
        {"TableName": st.just("tab"), "Key": key},
        optional={"AttributeUpdates": updates, "Expected": conditions,
                  "ReturnValues": st.sampled_from(["UPDATED_NEW", "ALL_OLD", "X"])})),
    st.tuples(st.just("Query"), st.fixed_dictionaries(
        {"TableName": st.just("tab")},
        optional={"KeyConditions": conditions, "QueryFilter": conditions,
                  "IndexName": st.sampled_from(["by_g", "lsi", "nope"]),
                  "AttributesToGet": st.lists(st.sampled_from(NAMES), max_size=3),
                  "Select": st.sampled_from(["COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"]),
                  "ExclusiveStartKey": st.dictionaries(st.sampled_from(NAMES), value, max_size=4),
                  "Limit": leaf})),
    st.tuples(st.just("Scan"), st.fixed_dictionaries(
        {"TableName": st.just("tab")},
        optional={"ScanFilter": conditions, "IndexName": st.sampled_from(["by_g", "lsi"]),
                  "Segment": leaf, "TotalSegments": leaf,
                  "ExclusiveStartKey": st.dictionaries(st.sampled_from(NAMES), value, max_size=4)})),
    st.tuples(st.just("UpdateTable"), st.fixed_dictionaries(
        {"TableName": st.just("tab")},
        optional={"GlobalSecondaryIndexUpdates": st.lists(st.fixed_dictionaries(
                      {}, optional={"Create": index, "Delete": st.fixed_dictionaries({"IndexName": st.sampled_from(["by_g", "gi"])})}), max_size=2),
                  "AttributeDefinitions": st.lists(st.fixed_dictionaries(
                      {"AttributeName": st.sampled_from(NAMES), "AttributeType": st.sampled_from(["S", "N", "X"])}), max_size=2),
                  "BillingMode": st.sampled_from(["PROVISIONED", "PAY_PER_REQUEST", "X"]),
                  "StreamSpecification": st.fixed_dictionaries({}, optional={
                      "StreamEnabled": leaf, "StreamViewType": st.sampled_from(["KEYS_ONLY", "X"])}),
                  "ProvisionedThroughput": st.dictionaries(st.sampled_from(["ReadCapacityUnits", "WriteCapacityUnits"]), leaf)})),
    st.tuples(st.just("UpdateTimeToLive"), st.fixed_dictionaries(
        {"TableName": st.just("tab"), "TimeToLiveSpecification": st.fixed_dictionaries(
            {}, optional={"Enabled": leaf, "AttributeName": st.sampled_from(NAMES)})})),
    st.tuples(st.just("TagResource"), st.fixed_dictionaries(
        {"ResourceArn": st.sampled_from(["arn:aws:dynamodb:a:000000000000:table/tab", "x", ""]),
         "Tags": st.lists(st.fixed_dictionaries({"Key": leaf, "Value": leaf}), max_size=2)})),
    st.tuples(st.just("TransactGetItems"), st.fixed_dictionaries(
        {"TransactItems": st.lists(st.fixed_dictionaries({"Get": st.fixed_dictionaries(
            {"TableName": st.just("tab"), "Key": key},
            optional={"AttributesToGet": st.lists(st.sampled_from(NAMES), max_size=2)})}), max_size=3)})),
    st.tuples(st.just("TransactWriteItems"), st.fixed_dictionaries(
        {"TransactItems": st.lists(st.fixed_dictionaries({"Put": st.fixed_dictionaries(
            {"TableName": st.just("tab"), "Item": key})}), max_size=2)},
        optional={"ClientRequestToken": st.sampled_from(["tok", "", "x" * 40])})),
    st.tuples(st.sampled_from([STREAMS + "GetShardIterator", STREAMS + "GetRecords", STREAMS + "DescribeStream"]),
              st.fixed_dictionaries({}, optional={
                  "StreamArn": st.sampled_from(["arn", "arn:aws:dynamodb:a:000000000000:table/tab/stream/x" * 1]),
                  "ShardId": leaf, "ShardIteratorType": st.sampled_from(["LATEST", "AT_SEQUENCE_NUMBER", "X"]),
                  "SequenceNumber": st.sampled_from(["1", "0", "x", "9" * 50]), "ShardIterator": leaf, "Limit": leaf})),
)  # fmt: skip


def _emulator() -> GlobalTable:
    gt = GlobalTable(["a", "b"], delay_s=0.0, jitter_s=0.0, seed=1, ttl_sweep_s=0)
    table = {
        "TableName": "tab",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "l")],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "LocalSecondaryIndexes": [{"IndexName": "lsi", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "l", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}}],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }  # fmt: skip
    assert _call(gt, T + "CreateTable", table)[0] == 200
    return gt


def _call(gt: GlobalTable, target: str, body: Any) -> tuple[int, dict[str, Any]]:
    status, payload = api.handle(gt, "a", target, orjson.dumps(body), None)  # type: ignore[misc]
    return status, orjson.loads(payload) if payload else {}  # TagResource: an empty body


GT = _emulator()


@settings(max_examples=2500)
@given(request=requests)
def test_new_api_surfaces_never_answer_500(request: tuple[str, dict[str, Any]]) -> None:
    op, body = request
    target = op if op.startswith(STREAMS) else T + op
    status, answer = _call(GT, target, body)
    assert status in (200, 400), (op, body, answer)
    if status == 400:
        assert answer["__type"].startswith("com.amazonaws.dynamodb.v20120810#"), answer
