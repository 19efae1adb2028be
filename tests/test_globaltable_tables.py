"""Transactions and table operations over boto3: TransactGetItems, ClientRequestToken
idempotency, the 4 MB transaction limit, tags, UpdateTable (billing mode, throughput) and
ReplicaUpdates adding and removing a region of a live global table (and the control API doing
it mid-run), with the new replica backfilled and then replicating."""

from __future__ import annotations

import itertools

import pytest

from tests.globaltable_fixtures import RunningEmulator, client_error

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
_names = itertools.count()


def _table(fast_emu: RunningEmulator) -> str:
    return fast_emu.create_table(f"tbl-{next(_names)}", EAST)


def test_transact_get_items(fast_emu: RunningEmulator) -> None:
    ddb, name = fast_emu.client(EAST), _table(fast_emu)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"S": "x" * 5000}, "w": {"N": "1"}})
    answer = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": name, "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "w"}},
            {"Get": {"TableName": name, "Key": {"pk": {"S": "missing"}}}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert answer["Responses"] == [{"Item": {"w": {"N": "1"}}}, {}]
    # transactional reads: 2 units per started 4 KB (5 KB -> 4) plus 2 for the missing item
    assert answer["ConsumedCapacity"] == [
        {"TableName": name, "CapacityUnits": 6.0, "ReadCapacityUnits": 6.0}
    ]
    code, message = client_error(
        ddb.transact_get_items,
        TransactItems=[{"Get": {"TableName": name, "Key": {"pk": {"S": "a"}}}}] * 2,
    )
    assert message == "Transaction request cannot include multiple operations on one item"


def test_client_request_token_makes_a_transaction_idempotent(fast_emu: RunningEmulator) -> None:
    ddb, name = fast_emu.client(EAST), _table(fast_emu)
    request = {
        "TransactItems": [
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": {"S": "counter"}},
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        ],
        "ClientRequestToken": "retry-1",
    }
    ddb.transact_write_items(**request)
    ddb.transact_write_items(**request)  # a retry of the same request: applied once
    item = ddb.get_item(TableName=name, Key={"pk": {"S": "counter"}})["Item"]
    assert item["n"] == {"N": "1"}
    request["TransactItems"][0]["Update"]["ExpressionAttributeValues"][":one"] = {"N": "5"}
    with pytest.raises(ddb.exceptions.IdempotentParameterMismatchException):
        ddb.transact_write_items(**request)
    request["ClientRequestToken"] = "retry-2"
    ddb.transact_write_items(**request)
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "counter"}})["Item"]["n"] == {"N": "6"}


def test_transactions_are_limited_to_4_mb(fast_emu: RunningEmulator) -> None:
    ddb, name = fast_emu.client(EAST), _table(fast_emu)
    big = "x" * (390 * 1024)
    puts = [
        {"Put": {"TableName": name, "Item": {"pk": {"S": f"k{i}"}, "v": {"S": big}}}}
        for i in range(11)
    ]
    code, message = client_error(ddb.transact_write_items, TransactItems=puts)
    assert code == "ValidationException" and "4 MB" in message
    ddb.transact_write_items(TransactItems=puts[:10])


def test_tags_per_replica(fast_emu: RunningEmulator) -> None:
    ddb = fast_emu.client(EAST)
    name = f"tbl-{next(_names)}"
    arn = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "team", "Value": "sre"}],
    )["TableDescription"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "test"},
        {"Key": "team", "Value": "sre"},
    ]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "test"}]
    west = fast_emu.client(WEST)
    west_arn = west.describe_table(TableName=name)["Table"]["TableArn"]
    assert west.list_tags_of_resource(ResourceArn=west_arn)["Tags"] == [
        {"Key": "team", "Value": "sre"}
    ]
    code, message = client_error(west.list_tags_of_resource, ResourceArn=arn)  # us-east-1's ARN
    assert code == "ResourceNotFoundException"
    # the service's wording, misspelt "ResourcArn" included (quoted from real accounts in
    # github.com/turbot/steampipe-plugin-aws/issues/1516 and cloud-custodian issue 3514)
    assert message == f"Requested resource not found: ResourcArn: {arn} not found"
    code, message = client_error(
        ddb.tag_resource, ResourceArn="arn:aws:dynamodb:x:1:nope/t", Tags=[]
    )
    assert message.startswith("Invalid TableArn")
    code, message = client_error(
        ddb.tag_resource, ResourceArn=arn, Tags=[{"Key": "aws:x", "Value": ""}]
    )
    assert code == "ValidationException"


def test_update_table_billing_and_throughput(fast_emu: RunningEmulator) -> None:
    ddb, name = fast_emu.client(EAST), _table(fast_emu)
    code, message = client_error(ddb.update_table, TableName=name)
    assert message.startswith("At least one of ProvisionedThroughput, BillingMode")
    code, message = client_error(ddb.update_table, TableName=name, BillingMode="PROVISIONED")
    assert message == (
        "One or more parameter values were invalid: ProvisionedThroughput must be specified "
        "when BillingMode is PROVISIONED"
    )
    units = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}
    table = ddb.update_table(
        TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput=units
    )["TableDescription"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    code, message = client_error(ddb.update_table, TableName=name, ProvisionedThroughput=units)
    assert message.startswith("The provisioned throughput for the table will not change")
    described = fast_emu.client(WEST).describe_table(TableName=name)["Table"]
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 5  # one table, all regions
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    summary = ddb.describe_table(TableName=name)["Table"]["BillingModeSummary"]
    assert summary["BillingMode"] == "PAY_PER_REQUEST"
    assert "LastUpdateToPayPerRequestDateTime" in summary


def test_replica_updates_remove_and_add_a_region_of_a_live_table(fast_emu: RunningEmulator) -> None:
    east, west, eu = fast_emu.client(EAST), fast_emu.client(WEST), fast_emu.client(EU)
    name = _table(fast_emu)
    cc = fast_emu.control_client
    east.put_item(TableName=name, Item={"pk": {"S": "before"}})
    east.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}])
    code, _ = client_error(west.get_item, TableName=name, Key={"pk": {"S": "before"}})
    assert code == "ResourceNotFoundException"
    replicas = {r["RegionName"] for r in east.describe_table(TableName=name)["Table"]["Replicas"]}
    assert replicas == {EU}
    eu.put_item(TableName=name, Item={"pk": {"S": "while-away"}})
    east.delete_item(TableName=name, Key={"pk": {"S": "before"}})
    assert cc.quiesce(10)["converged"]
    code, message = client_error(
        east.update_table, TableName=name, ReplicaUpdates=[{"Create": {"RegionName": EU}}]
    )
    assert code == "ValidationException"
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    # backfilled: the newest version of every item, the delete included
    assert "Item" in west.get_item(TableName=name, Key={"pk": {"S": "while-away"}})
    assert "Item" not in west.get_item(TableName=name, Key={"pk": {"S": "before"}})
    east.put_item(TableName=name, Item={"pk": {"S": "after"}})
    assert cc.quiesce(10)["converged"]
    assert "Item" in west.get_item(TableName=name, Key={"pk": {"S": "after"}})  # replicates


def test_control_api_adds_a_replica_mid_run(fast_emu: RunningEmulator) -> None:
    east, west = fast_emu.client(EAST), fast_emu.client(WEST)
    name = _table(fast_emu)
    cc = fast_emu.control_client
    assert cc.remove_replica(name, WEST)["replicas"] == [EU, EAST]
    for i in range(5):
        east.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    added = cc.add_replica(name, WEST)
    assert added["items"] == 5 and WEST in added["replicas"]
    assert west.scan(TableName=name)["Count"] == 5
    with pytest.raises(Exception, match="already existed"):
        cc.add_replica(name, WEST)


def test_deletion_protection(fast_emu: RunningEmulator) -> None:
    ddb, name = fast_emu.client(EAST), _table(fast_emu)
    ddb.update_table(TableName=name, DeletionProtectionEnabled=True)
    assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
    code, message = client_error(ddb.delete_table, TableName=name)
    assert message.startswith("Resource cannot be deleted as it is currently protected")
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=name)
