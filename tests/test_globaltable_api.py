"""The DynamoDB API of one region, driven with unmodified boto3 (client and resource APIs)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

REGION = "us-east-1"
_names = itertools.count()


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


@pytest.fixture
def table(emulator):  # noqa: F811
    """A fresh hash-only table (pk S), as the resource API sees it."""
    name = f"api-{next(_names)}"
    emulator.create_table(name, REGION)
    return emulator.resource(REGION).Table(name)


@pytest.fixture
def ranged(emulator):  # noqa: F811
    name = emulator.create_table(f"ranged-{next(_names)}", REGION, sk="N")
    return emulator.resource(REGION).Table(name)


def test_table_lifecycle(emulator):  # noqa: F811
    ddb = emulator.client(REGION)
    ddb.create_table(
        TableName="lifecycle",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    ddb.get_waiter("table_exists").wait(TableName="lifecycle")
    other = emulator.client("eu-west-1").describe_table(TableName="lifecycle")["Table"]
    assert other["TableStatus"] == "ACTIVE"
    assert {r["RegionName"] for r in other["Replicas"]} == {"us-east-1", "us-west-2"}
    assert "lifecycle" in ddb.list_tables()["TableNames"]
    with pytest.raises(ddb.exceptions.ResourceInUseException):
        ddb.create_table(
            TableName="lifecycle",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )
    ddb.delete_table(TableName="lifecycle")
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        emulator.client("us-west-2").describe_table(TableName="lifecycle")


def test_list_tables_paginates(emulator):  # noqa: F811
    ddb = emulator.client(REGION)
    for i in range(3):
        ddb.create_table(
            TableName=f"zz-list-{i}",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    pages = ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
    names = [n for page in pages for n in page["TableNames"]]
    assert [n for n in names if n.startswith("zz-list-")] == ["zz-list-0", "zz-list-1", "zz-list-2"]
    assert len(names) == len(set(names))


def test_put_get_update_delete_resource_api(table):
    table.put_item(Item={"pk": "u1", "name": "Ada", "tags": {"a", "b"}, "n": 1})
    assert table.get_item(Key={"pk": "u1"})["Item"] == {
        "pk": "u1",
        "name": "Ada",
        "tags": {"a", "b"},
        "n": Decimal(1),
    }
    answer = table.update_item(
        Key={"pk": "u1"},
        UpdateExpression="SET #nm = :name ADD n :inc REMOVE tags",
        ExpressionAttributeNames={"#nm": "name"},
        ExpressionAttributeValues={":name": "Grace", ":inc": 41},
        ReturnValues="ALL_NEW",
    )
    assert answer["Attributes"] == {"pk": "u1", "name": "Grace", "n": Decimal(42)}
    table.delete_item(Key={"pk": "u1"})
    assert "Item" not in table.get_item(Key={"pk": "u1"}, ConsistentRead=True)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("NONE", None),
        ("ALL_OLD", {"pk": "k", "a": Decimal(1), "b": "x"}),
        ("UPDATED_OLD", {"a": Decimal(1)}),
        ("ALL_NEW", {"pk": "k", "a": Decimal(2), "b": "x", "c": "new"}),
        ("UPDATED_NEW", {"a": Decimal(2), "c": "new"}),
    ],
)
def test_update_return_values(table, mode, expected):
    table.put_item(Item={"pk": "k", "a": 1, "b": "x"})
    answer = table.update_item(
        Key={"pk": "k"},
        UpdateExpression="SET a = a + :one, c = :c",
        ExpressionAttributeValues={":one": 1, ":c": "new"},
        ReturnValues=mode,
    )
    assert answer.get("Attributes") == expected


def test_put_and_delete_return_old(table):
    assert "Attributes" not in table.put_item(Item={"pk": "r", "v": 1}, ReturnValues="ALL_OLD")
    old = table.put_item(Item={"pk": "r", "v": 2}, ReturnValues="ALL_OLD")["Attributes"]
    assert old == {"pk": "r", "v": Decimal(1)}
    gone = table.delete_item(Key={"pk": "r"}, ReturnValues="ALL_OLD")["Attributes"]
    assert gone == {"pk": "r", "v": Decimal(2)}


def test_conditions_and_update_forms(table):
    table.put_item(Item={"pk": "c", "cart": ["a"], "ver": 1, "set": {"x", "y"}})
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.put_item(Item={"pk": "c"}, ConditionExpression=Attr("pk").not_exists())
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.update_item(
            Key={"pk": "c"},
            UpdateExpression="SET ver = :two",
            ConditionExpression=Attr("ver").eq(7),
            ExpressionAttributeValues={":two": 2},
        )
    table.update_item(
        Key={"pk": "c"},
        UpdateExpression="SET cart = list_append(cart, :more), ver = ver + :one, "
        "born = if_not_exists(born, :now) DELETE #s :y",
        ConditionExpression=Attr("ver").eq(1) & Attr("cart").size().lt(5),
        ExpressionAttributeNames={"#s": "set"},
        ExpressionAttributeValues={":more": ["b"], ":one": 1, ":now": 100, ":y": {"y"}},
    )
    item = table.get_item(
        Key={"pk": "c"},
        ProjectionExpression="cart, ver, born, #s",
        ExpressionAttributeNames={"#s": "set"},
    )["Item"]
    assert item == {"cart": ["a", "b"], "ver": Decimal(2), "born": Decimal(100), "set": {"x"}}
    table.delete_item(Key={"pk": "c"}, ConditionExpression=Attr("ver").gte(2))
    assert "Item" not in table.get_item(Key={"pk": "c"})


def test_consumed_capacity_arithmetic(emulator, table):  # noqa: F811
    ddb = emulator.client(REGION)
    name = table.name
    small = {"pk": {"S": "cap"}, "v": {"S": "x" * 100}}
    big = {"pk": {"S": "cap"}, "v": {"S": "x" * 5000}}  # 5,006 bytes
    put = ddb.put_item(TableName=name, Item=small, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"]["CapacityUnits"] == 1.0
    put = ddb.put_item(TableName=name, Item=big, ReturnConsumedCapacity="INDEXES")
    assert put["ConsumedCapacity"]["CapacityUnits"] == 5.0  # ceil(5006 / 1024)
    assert put["ConsumedCapacity"]["Table"]["CapacityUnits"] == 5.0
    # the larger of before (5,006 B) and after (106 B) images counts
    put = ddb.put_item(TableName=name, Item=small, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"]["CapacityUnits"] == 5.0
    ddb.put_item(TableName=name, Item=big)
    strong = ddb.get_item(
        TableName=name,
        Key={"pk": {"S": "cap"}},
        ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 2.0  # ceil(5006 / 4096)
    weak = ddb.get_item(TableName=name, Key={"pk": {"S": "cap"}}, ReturnConsumedCapacity="TOTAL")
    assert weak["ConsumedCapacity"]["CapacityUnits"] == 1.0
    missing = ddb.get_item(
        TableName=name, Key={"pk": {"S": "none"}}, ReturnConsumedCapacity="TOTAL"
    )
    assert missing["ConsumedCapacity"]["CapacityUnits"] == 0.5


def test_item_size_limit(table):
    table.put_item(Item={"pk": "big", "v": "x" * (400 * 1024 - 10)})
    with pytest.raises(ClientError) as exc:
        table.put_item(Item={"pk": "big", "v": "x" * (400 * 1024)})
    assert _code(exc) == "ValidationException"
    assert "size" in str(exc.value)


def test_query_pagination_order_and_filter(ranged):
    with ranged.batch_writer() as batch:
        for i in range(30):
            batch.put_item(Item={"pk": "p", "sk": i, "odd": i % 2 == 1})
        batch.put_item(Item={"pk": "q", "sk": 1})
    cond = Key("pk").eq("p") & Key("sk").between(5, 24)
    first = ranged.query(KeyConditionExpression=cond, Limit=7)
    assert [i["sk"] for i in first["Items"]] == list(range(5, 12))
    assert first["LastEvaluatedKey"] == {"pk": "p", "sk": Decimal(11)}
    paginator = ranged.meta.client.get_paginator("query")
    pages = paginator.paginate(
        TableName=ranged.name,
        KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
        FilterExpression="odd = :t",
        ExpressionAttributeValues={
            ":p": "p",
            ":a": 5,
            ":b": 24,
            ":t": True,
        },  # resource-side client
        ScanIndexForward=False,
        PaginationConfig={"PageSize": 4},
    )
    pages = list(pages)
    got = [int(i["sk"]) for page in pages for i in page["Items"]]
    assert got == [23, 21, 19, 17, 15, 13, 11, 9, 7, 5]
    assert sum(p["ScannedCount"] for p in pages) == 20
    count = ranged.query(KeyConditionExpression=Key("pk").eq("p") & Key("sk").lt(3), Select="COUNT")
    assert count["Count"] == 3 and "Items" not in count


def test_scan_pagination_visits_every_item_once(table):
    with table.batch_writer() as batch:
        for i in range(57):
            batch.put_item(Item={"pk": f"s{i:03}", "i": i})
    seen = []
    kwargs: dict = {"Limit": 10}
    while True:
        page = table.scan(**kwargs)
        seen.extend(item["pk"] for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == [f"s{i:03}" for i in range(57)]
    assert len(seen) == 57
    segments = [table.scan(Segment=s, TotalSegments=3)["Items"] for s in range(3)]
    assert sorted(i["pk"] for seg in segments for i in seg) == sorted(seen)


def test_scan_pages_stop_at_one_megabyte(table):
    with table.batch_writer() as batch:
        for i in range(12):
            batch.put_item(Item={"pk": f"m{i:02}", "blob": "x" * 200_000})
    page = table.scan()
    assert "LastEvaluatedKey" in page
    assert 5 <= page["ScannedCount"] <= 6  # 1 MB / ~200 KB


def test_batch_get_and_write(emulator, table):  # noqa: F811
    ddb = emulator.client(REGION)
    ddb.batch_write_item(
        RequestItems={
            table.name: [
                {"PutRequest": {"Item": {"pk": {"S": f"b{i}"}, "v": {"N": str(i)}}}}
                for i in range(5)
            ]
        }
    )
    ddb.batch_write_item(
        RequestItems={table.name: [{"DeleteRequest": {"Key": {"pk": {"S": "b0"}}}}]}
    )
    got = ddb.batch_get_item(
        RequestItems={
            table.name: {
                "Keys": [{"pk": {"S": f"b{i}"}} for i in range(5)],
                "ProjectionExpression": "v",
            }
        }
    )
    assert sorted(int(i["v"]["N"]) for i in got["Responses"][table.name]) == [1, 2, 3, 4]
    assert got["UnprocessedKeys"] == {}
    with pytest.raises(ClientError) as exc:
        ddb.batch_write_item(
            RequestItems={
                table.name: [
                    {"PutRequest": {"Item": {"pk": {"S": "dup"}}}},
                    {"PutRequest": {"Item": {"pk": {"S": "dup"}}}},
                ]
            }
        )
    assert "duplicates" in str(exc.value)


def test_errors_raise_boto3_classes(emulator, table):  # noqa: F811
    ddb = emulator.client(REGION)
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.get_item(TableName="no-such-table", Key={"pk": {"S": "x"}})
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName=table.name, Item={"other": {"S": "x"}})
    assert _code(exc) == "ValidationException" and "pk" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName=table.name, Item={"pk": {"N": "1"}})
    assert _code(exc) == "ValidationException" and "Type mismatch" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        ddb.update_item(
            TableName=table.name,
            Key={"pk": {"S": "x"}},
            UpdateExpression="SET pk = :v",
            ExpressionAttributeValues={":v": {"S": "y"}},
        )
    assert "part of the key" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        ddb.update_item(TableName=table.name, Key={"pk": {"S": "x"}}, UpdateExpression="SET = oops")
    assert _code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ddb.execute_statement(Statement=f'SELECT * FROM "{table.name}"')
    assert _code(exc) == "UnknownOperationException" and "ExecuteStatement" in str(exc.value)


def test_unused_expression_values_are_rejected(table):
    with pytest.raises(ClientError) as exc:
        table.put_item(Item={"pk": "u"}, ExpressionAttributeValues={":spare": "x"})
    assert _code(exc) == "ValidationException"
    assert "ExpressionAttributeValues can only be specified when using expressions" in str(
        exc.value
    )
    with pytest.raises(ClientError) as exc:
        table.put_item(
            Item={"pk": "u"},
            ConditionExpression="attribute_not_exists(pk)",
            ExpressionAttributeValues={":spare": "x"},
        )
    assert _code(exc) == "ValidationException" and ":spare" in str(exc.value)


def test_recreated_table_gets_none_of_the_old_tables_queued_images(emulator):  # noqa: F811
    cc = emulator.control_client
    emulator.create_table("recreated", "us-east-1")
    cc.apply({"fault": "partition", "regions": ["us-east-1", "eu-west-1"]})
    emulator.client("us-east-1").put_item(TableName="recreated", Item={"pk": {"S": "old"}})
    emulator.client("us-east-1").delete_table(TableName="recreated")
    emulator.create_table("recreated", "us-east-1")
    cc.heal_all()
    assert cc.quiesce(10)["converged"]
    eu = emulator.client("eu-west-1")
    assert "Item" not in eu.get_item(TableName="recreated", Key={"pk": {"S": "old"}})
