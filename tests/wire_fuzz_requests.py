"""Valid requests of every operation the emulator serves, the seeds `tests/wire_fuzz.py`
mutates: items, queries, batches, transactions, indexes, TTL, tags, tables made and dropped,
and the legacy parameters (Expected, AttributeUpdates, KeyConditions, filters)."""

from __future__ import annotations

import random
from typing import Any

TABLE = "fuzz"
RANGED = "fuzzr"


def _item(rng: random.Random, key: str) -> dict[str, Any]:
    return {
        "pk": {"S": key},
        "n": {"N": str(rng.randrange(1000))},
        "s": {"S": "v" * rng.randrange(1, 20)},
        "l": {"L": [{"N": "1"}, {"S": "x"}]},
        "m": {"M": {"a": {"BOOL": True}, "b": {"NULL": True}}},
        "ss": {"SS": ["a", "b"]},
        "b": {"B": "AAEC"},
    }


def base_requests(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """One valid request of each operation (on `TABLE`, hash key `pk` S)."""
    key = f"k{rng.randrange(50)}"
    pk = {"pk": {"S": key}}
    values = {":v": {"N": "1"}, ":w": {"S": "x"}}
    return [
        ("PutItem", {"TableName": TABLE, "Item": _item(rng, key), "ReturnValues": "ALL_OLD"}),
        ("GetItem", {"TableName": TABLE, "Key": pk, "ProjectionExpression": "n, l[0], m.a"}),
        (
            "UpdateItem",
            {
                "TableName": TABLE,
                "Key": pk,
                "UpdateExpression": "SET s = :w ADD n :v",
                "ConditionExpression": "attribute_not_exists(pk) OR n < :v",
                "ExpressionAttributeValues": values,
                "ReturnValues": "UPDATED_NEW",
            },
        ),
        ("DeleteItem", {"TableName": TABLE, "Key": pk, "ReturnValues": "ALL_OLD"}),
        (
            "Query",
            {
                "TableName": RANGED,
                "KeyConditionExpression": "pk = :w AND sk BETWEEN :v AND :v",
                "FilterExpression": "attribute_exists(#n)",
                "ExpressionAttributeNames": {"#n": "n"},
                "ExpressionAttributeValues": values,
                "Limit": 5,
            },
        ),
        ("Scan", {"TableName": TABLE, "Limit": 3, "Segment": 0, "TotalSegments": 2}),
        ("BatchGetItem", {"RequestItems": {TABLE: {"Keys": [pk, {"pk": {"S": "other"}}]}}}),
        (
            "BatchWriteItem",
            {
                "RequestItems": {
                    TABLE: [
                        {"PutRequest": {"Item": _item(rng, key + "b")}},
                        {"DeleteRequest": {"Key": {"pk": {"S": key + "c"}}}},
                    ]
                }
            },
        ),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": TABLE, "Item": _item(rng, key + "t")}},
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": {"pk": {"S": key + "u"}},
                            "UpdateExpression": "SET n = :v",
                            "ExpressionAttributeValues": {":v": {"N": "2"}},
                        }
                    },
                ]
            },
        ),
        ("DescribeTable", {"TableName": TABLE}),
        ("ListTables", {"Limit": 10}),
        *table_requests(rng),
        *legacy_requests(pk, RANGED),
    ]


def table_requests(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Indexes, TTL, tags, transactional reads, tables made and dropped."""
    arn = f"arn:aws:dynamodb:us-east-1:000000000000:table/{TABLE}"
    index = f"g{rng.randrange(3)}"
    g_key = [{"AttributeName": "g", "KeyType": "HASH"}]
    return [
        (
            "UpdateTable",
            {
                "TableName": TABLE,
                "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "N"}],
                "GlobalSecondaryIndexUpdates": [
                    {
                        "Create": {
                            "IndexName": index,
                            "KeySchema": g_key,
                            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["s"]},
                        }
                    }
                ],
            },
        ),  # fmt: skip
        (
            "UpdateTable",
            {
                "TableName": RANGED,
                "BillingMode": "PROVISIONED",
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            },
        ),  # fmt: skip
        (
            "Query",
            {
                "TableName": TABLE,
                "IndexName": index,
                "KeyConditionExpression": "g = :v",
                "ExpressionAttributeValues": {":v": {"N": "5"}},
                "Limit": 3,
            },
        ),  # fmt: skip
        ("Scan", {"TableName": TABLE, "IndexName": index, "Limit": 3}),
        (
            "UpdateTimeToLive",
            {
                "TableName": TABLE,
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "n"},
            },
        ),  # fmt: skip
        ("DescribeTimeToLive", {"TableName": TABLE}),
        ("TagResource", {"ResourceArn": arn, "Tags": [{"Key": "k", "Value": "v"}]}),
        ("ListTagsOfResource", {"ResourceArn": arn}),
        (
            "TransactGetItems",
            {
                "TransactItems": [
                    {
                        "Get": {
                            "TableName": TABLE,
                            "Key": {"pk": {"S": "k1"}},
                            "ProjectionExpression": "n",
                        }
                    }
                ]
            },
        ),
        (
            "CreateTable",
            {
                "TableName": f"made{rng.randrange(3)}",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "g", "AttributeType": "N"},
                ],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "GlobalSecondaryIndexes": [
                    {"IndexName": "gi", "KeySchema": g_key, "Projection": {"ProjectionType": "ALL"}}
                ],
                "StreamSpecification": {
                    "StreamEnabled": True,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            },
        ),  # fmt: skip
        ("DeleteTable", {"TableName": f"made{rng.randrange(3)}"}),
    ]


def legacy_requests(pk: dict[str, Any], ranged: str) -> list[tuple[str, dict[str, Any]]]:
    """The legacy parameters: Expected, AttributeUpdates, KeyConditions, filters."""
    one = {"N": "1"}
    return [
        (
            "PutItem",
            {"TableName": TABLE, "Item": {**pk, "n": one}, "Expected": {"n": {"Exists": False}}},
        ),  # fmt: skip
        (
            "UpdateItem",
            {
                "TableName": TABLE,
                "Key": pk,
                "AttributeUpdates": {"n": {"Action": "ADD", "Value": one}},
                "Expected": {
                    "n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "100"}]}
                },
                "ConditionalOperator": "OR",
                "ReturnValues": "ALL_NEW",
            },
        ),  # fmt: skip
        (
            "Query",
            {
                "TableName": ranged,
                "KeyConditions": {
                    "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [pk["pk"]]},
                    "sk": {
                        "ComparisonOperator": "BETWEEN",
                        "AttributeValueList": [one, {"N": "9"}],
                    },
                },
                "QueryFilter": {"n": {"ComparisonOperator": "GT", "AttributeValueList": [one]}},
                "AttributesToGet": ["pk", "n"],
            },
        ),  # fmt: skip
        (
            "Scan",
            {
                "TableName": TABLE,
                "ScanFilter": {
                    "n": {"ComparisonOperator": "IN", "AttributeValueList": [one, {"N": "5"}]}
                },
                "Limit": 4,
            },
        ),  # fmt: skip
    ]
