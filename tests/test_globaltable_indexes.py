"""Secondary indexes over boto3: GSIs and LSIs on CreateTable and (GSIs) UpdateTable with
backfill, Query/Scan on an index (projections, sparse indexes, pagination), DescribeTable's
index sections, index writes in consumed capacity, and the global-table behaviour: each
replica keeps its own indexes, so an index read in a partitioned region is stale."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.globaltable_fixtures import RunningEmulator, client_error

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
_names = itertools.count()


@pytest.fixture
def ddb(fast_emu: RunningEmulator) -> Any:
    return fast_emu.client(EAST)


def make_table(ddb: Any) -> str:
    """Orders: pk (S) + sk (N); GSI by_status (status, amount) KEYS_ONLY; GSI by_customer
    (customer) ALL; LSI by_total (pk, amount) INCLUDE note."""
    name = f"idx-{next(_names)}"
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "amount", "AttributeType": "N"},
            {"AttributeName": "customer", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "amount", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "by_customer",
                "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_total",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "amount", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def order(pk: str, sk: int, **attrs: Any) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"N": str(sk)}}
    for name, value in attrs.items():
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return item


def test_describe_table_index_sections(ddb: Any) -> None:
    name = make_table(ddb)
    ddb.put_item(TableName=name, Item=order("a", 1, status="open", amount=5, customer="c1"))
    table = ddb.describe_table(TableName=name)["Table"]
    gsis = {g["IndexName"]: g for g in table["GlobalSecondaryIndexes"]}
    assert set(gsis) == {"by_status", "by_customer"}
    assert gsis["by_status"]["IndexStatus"] == "ACTIVE"
    assert gsis["by_status"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert gsis["by_customer"]["ItemCount"] == 1
    assert gsis["by_status"]["IndexArn"].endswith(f"table/{name}/index/by_status")
    (lsi,) = table["LocalSecondaryIndexes"]
    assert lsi["IndexName"] == "by_total" and lsi["ItemCount"] == 1
    assert "IndexStatus" not in lsi


def test_query_gsi_projection_sparse_and_pages(ddb: Any) -> None:
    name = make_table(ddb)
    for i in range(7):
        ddb.put_item(TableName=name, Item=order("c", i, status="open", amount=10 * i, note="n"))
    ddb.put_item(TableName=name, Item=order("c", 99, amount=1))  # no status: not in by_status
    first = ddb.query(
        TableName=name,
        IndexName="by_status",
        KeyConditionExpression="#s = :o AND amount >= :t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":o": {"S": "open"}, ":t": {"N": "20"}},
        Limit=3,
    )
    assert [i["amount"]["N"] for i in first["Items"]] == ["20", "30", "40"]
    assert set(first["Items"][0]) == {"pk", "sk", "status", "amount"}  # KEYS_ONLY
    last = first["LastEvaluatedKey"]
    assert set(last) == {"pk", "sk", "status", "amount"}
    rest = ddb.query(
        TableName=name,
        IndexName="by_status",
        KeyConditionExpression="#s = :o AND amount >= :t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":o": {"S": "open"}, ":t": {"N": "20"}},
        ExclusiveStartKey=last,
    )
    assert [i["amount"]["N"] for i in rest["Items"]] == ["50", "60"]
    assert "LastEvaluatedKey" not in rest
    scanned = ddb.scan(TableName=name, IndexName="by_status")
    assert scanned["Count"] == 7  # sparse: the item without status is not there


def test_lsi_reads_fetch_unprojected_attributes_gsi_refuses(ddb: Any) -> None:
    name = make_table(ddb)
    ddb.put_item(TableName=name, Item=order("p", 1, amount=3, note="kept", extra="x", status="s"))
    projected = ddb.query(
        TableName=name,
        IndexName="by_total",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )["Items"]
    assert set(projected[0]) == {"pk", "sk", "amount", "note"}
    full = ddb.query(
        TableName=name,
        IndexName="by_total",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        Select="ALL_ATTRIBUTES",
    )["Items"]
    assert full[0]["extra"] == {"S": "x"}
    code, message = client_error(
        ddb.query,
        TableName=name,
        IndexName="by_status",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "s"}},
        Select="ALL_ATTRIBUTES",
    )
    assert message == (
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported "
        "for global secondary index by_status because its projection type is not ALL"
    )
    code, message = client_error(
        ddb.query,
        TableName=name,
        IndexName="by_customer",
        KeyConditionExpression="customer = :c",
        ExpressionAttributeValues={":c": {"S": "c"}},
        ConsistentRead=True,
    )
    assert message == "Consistent reads are not supported on global secondary indexes"
    code, message = client_error(ddb.scan, TableName=name, IndexName="nope")
    assert message == "The table does not have the specified index: nope"


def test_index_key_types_are_checked_on_writes(ddb: Any) -> None:
    name = make_table(ddb)
    code, message = client_error(
        ddb.put_item, TableName=name, Item=order("t", 1, status="s") | {"amount": {"S": "x"}}
    )
    assert message == (
        "One or more parameter values were invalid: Type mismatch for Index Key amount Expected: "
        "N Actual: S IndexName: by_status"
    )
    code, message = client_error(
        ddb.update_item,
        TableName=name,
        Key={"pk": {"S": "t"}, "sk": {"N": "1"}},
        UpdateExpression="SET customer = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    assert message == (
        "The update expression attempted to update the secondary index key to unsupported type"
    )


def test_index_writes_in_consumed_capacity(ddb: Any) -> None:
    name = make_table(ddb)
    put = ddb.put_item(
        TableName=name,
        Item=order("w", 1, status="open", amount=1, customer="c"),
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert put["Table"]["CapacityUnits"] == 1.0
    assert put["GlobalSecondaryIndexes"] == {
        "by_status": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
        "by_customer": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
    }
    assert put["LocalSecondaryIndexes"]["by_total"]["CapacityUnits"] == 1.0
    assert put["CapacityUnits"] == 4.0
    moved = ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "w"}, "sk": {"N": "1"}},
        UpdateExpression="SET #s = :c, extra = :x",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "closed"}, ":x": {"S": "y"}},
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    # status changed: delete + put in by_status; `extra` is projected only in by_customer (ALL)
    assert moved["GlobalSecondaryIndexes"]["by_status"]["CapacityUnits"] == 2.0
    assert moved["GlobalSecondaryIndexes"]["by_customer"]["CapacityUnits"] == 1.0
    assert moved["LocalSecondaryIndexes"]["by_total"]["CapacityUnits"] == 0.0
    total = ddb.put_item(TableName=name, Item=order("w", 2), ReturnConsumedCapacity="TOTAL")[
        "ConsumedCapacity"
    ]
    assert total["CapacityUnits"] == 1.0  # in no index


def create_zone_index(projection: str) -> dict[str, Any]:
    """UpdateTable arguments creating GSI by_zone (hash key `zone`)."""
    return {
        "AttributeDefinitions": [{"AttributeName": "zone", "AttributeType": "S"}],
        "GlobalSecondaryIndexUpdates": [
            {
                "Create": {
                    "IndexName": "by_zone",
                    "KeySchema": [{"AttributeName": "zone", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": projection},
                }
            }
        ],
    }


def test_update_table_creates_gsi_with_backfill_and_deletes_it(ddb: Any) -> None:
    name = make_table(ddb)
    for i in range(4):
        ddb.put_item(TableName=name, Item=order("b", i, zone=f"r{i % 2}"))
    answer = ddb.update_table(TableName=name, **create_zone_index("ALL"))["TableDescription"]
    assert "by_zone" in {g["IndexName"] for g in answer["GlobalSecondaryIndexes"]}
    got = ddb.query(
        TableName=name,
        IndexName="by_zone",
        KeyConditionExpression="#r = :r",
        ExpressionAttributeNames={"#r": "zone"},
        ExpressionAttributeValues={":r": {"S": "r1"}},
    )
    assert sorted(i["sk"]["N"] for i in got["Items"]) == ["1", "3"]
    code, message = client_error(
        ddb.update_table,
        TableName=name,
        **create_zone_index("KEYS_ONLY"),
    )
    assert (code, message) == (
        "ValidationException",
        "Attempting to create an index which already exists: by_zone",
    )
    ddb.update_table(
        TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_zone"}}]
    )
    code, message = client_error(ddb.scan, TableName=name, IndexName="by_zone")
    assert message == "The table does not have the specified index: by_zone"
    code, message = client_error(
        ddb.update_table, TableName=name,
        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_zone"}}],
    )  # fmt: skip
    assert (code, message) == (
        "ResourceNotFoundException",
        "Requested resource not found: Index: by_zone not found",
    )


def test_index_read_in_a_partitioned_region_is_stale(fast_emu: RunningEmulator) -> None:
    east, west, eu = fast_emu.client(EAST), fast_emu.client(WEST), fast_emu.client(EU)
    name = make_table(east)
    cc = fast_emu.control_client
    faults = [cc.apply({"fault": "partition", "regions": [EAST, other]}) for other in (WEST, EU)]

    def customers(client: Any) -> list[str]:
        answer = client.query(
            TableName=name,
            IndexName="by_customer",
            KeyConditionExpression="customer = :c",
            ExpressionAttributeValues={":c": {"S": "ada"}},
        )
        return [i["pk"]["S"] for i in answer["Items"]]

    try:
        west.put_item(TableName=name, Item=order("from-west", 1, customer="ada"))
        assert customers(west) == ["from-west"]
        assert cc.quiesce(0.3)["converged"] is False  # the link to us-east-1 is cut
        assert customers(eu) == ["from-west"]  # the replicated write updated eu's index
        assert customers(east) == []  # stale: us-east-1's replica and index lag together
    finally:
        for fault in faults:
            cc.heal(fault)
    assert cc.quiesce(10)["converged"]
    assert customers(east) == ["from-west"]
