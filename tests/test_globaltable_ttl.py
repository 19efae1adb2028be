"""Time to live over boto3 and PynamoDB: UpdateTimeToLive / DescribeTimeToLive, an expired
item readable until swept, the sweeper's delete replicating like any write (and racing with
writes made meanwhile), and its ground truth."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from tests.globaltable_fixtures import CREDENTIALS, RunningEmulator

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
_names = itertools.count()


def ttl_table(fast_emu: RunningEmulator, region: str = EAST) -> str:
    name = fast_emu.create_table(f"ttl-{next(_names)}", EAST)
    fast_emu.client(region).update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    return name


def _item(pk: str, expires: Any = None, **extra: Any) -> dict[str, Any]:
    item = {"pk": {"S": pk}, **extra}
    if expires is not None:
        item["expires"] = {"N": str(expires)} if isinstance(expires, int | float) else expires
    return item


def _get(fast_emu: RunningEmulator, region: str, table: str, pk: str) -> dict[str, Any] | None:
    answer = fast_emu.client(region).get_item(TableName=table, Key={"pk": {"S": pk}})
    return answer.get("Item")


def test_update_and_describe_time_to_live(fast_emu: RunningEmulator) -> None:
    ddb = fast_emu.client(EAST)
    name = fast_emu.create_table(f"ttl-{next(_names)}", EAST)
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert (
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)[
            "TimeToLiveSpecification"
        ]
        == spec
    )
    described = fast_emu.client(WEST).describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    for request, message in [
        (spec, "TimeToLive is already enabled"),
        (
            {"Enabled": True, "AttributeName": "other"},
            "TimeToLive is active on a different AttributeName: current AttributeName is expires",
        ),
    ]:
        with pytest.raises(ClientError) as caught:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=request)
        assert caught.value.response["Error"]["Message"] == message
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={**spec, "Enabled": False})
    with pytest.raises(ClientError) as caught:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={**spec, "Enabled": False})
    assert caught.value.response["Error"]["Message"] == "TimeToLive is already disabled"
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_time_to_live(TableName="no-such-table")


def test_expired_items_stay_readable_until_swept_then_the_delete_replicates(
    fast_emu: RunningEmulator,
) -> None:
    name = ttl_table(fast_emu)
    east = fast_emu.client(EAST)
    now = int(time.time())
    east.put_item(TableName=name, Item=_item("old", now - 60))
    east.put_item(TableName=name, Item=_item("future", now + 3600))
    east.put_item(TableName=name, Item=_item("ancient", now - 6 * 365 * 24 * 3600))
    east.put_item(TableName=name, Item=_item("text", {"S": str(now - 60)}))
    east.put_item(TableName=name, Item=_item("none"))
    assert fast_emu.control_client.quiesce(10)["converged"]
    assert _get(fast_emu, WEST, name, "old") is not None  # expired, not yet swept: readable
    assert fast_emu.control_client.sweep_ttl() == 1
    assert _get(fast_emu, EAST, name, "old") is None
    assert fast_emu.control_client.quiesce(10)["converged"]
    for region in (WEST, EU):
        assert _get(fast_emu, region, name, "old") is None  # the TTL delete replicated
        for kept in ("future", "ancient", "text", "none"):
            assert _get(fast_emu, region, name, kept) is not None, kept
    metrics = fast_emu.control_client.metrics()
    assert 'hothot_emulator_ttl_deletes_total{region="us-east-1"}' in metrics


def test_ttl_delete_races_a_write_made_during_its_replication(fast_emu: RunningEmulator) -> None:
    """The sweep deletes in us-west-2 (where TTL was enabled) while us-east-1, cut off,
    renews the item: last writer wins, and ground truth shows the two as a conflict."""
    name = ttl_table(fast_emu, WEST)
    cc = fast_emu.control_client
    east, west = fast_emu.client(EAST), fast_emu.client(WEST)
    west.put_item(TableName=name, Item=_item("k", int(time.time()) - 5, hh_vid={"S": "w:1"}))
    assert cc.quiesce(10)["converged"]
    fault = cc.apply({"fault": "partition", "regions": [EAST, WEST]})
    try:
        assert cc.sweep_ttl() == 1  # deleted in us-west-2
        renewed = _item("k", int(time.time()) + 3600, hh_vid={"S": "w:2"})
        east.put_item(TableName=name, Item=renewed)  # written after the delete: it wins
    finally:
        cc.heal(fault)
    assert cc.quiesce(10)["converged"]
    for region in (EAST, WEST, EU):
        assert _get(fast_emu, region, name, "k")["hh_vid"] == {"S": "w:2"}
    nodes = cc.truth(name)["keys"]["k"]
    assert nodes["final"] == "w:2"
    assert nodes["conflicts"] == 1  # the TTL delete and the renewal both replaced w:1


def test_pynamodb_ttl_attribute(fast_emu: RunningEmulator) -> None:
    class Session(Model):
        class Meta:
            table_name = f"ttl-pynamo-{next(_names)}"
            host = fast_emu.regions[EAST]
            region = EAST
            aws_access_key_id = CREDENTIALS["aws_access_key_id"]
            aws_secret_access_key = CREDENTIALS["aws_secret_access_key"]
            billing_mode = "PAY_PER_REQUEST"

        token = UnicodeAttribute(hash_key=True)
        expires = TTLAttribute(null=True)

    Session.create_table(wait=True)
    # create_table enabled TTL on `expires` (PynamoDB calls UpdateTimeToLive itself)
    assert Session.describe_table()["TableName"]
    Session(token="stale", expires=timedelta(seconds=-60)).save()  # a delta from now
    Session(token="fresh", expires=timedelta(hours=1)).save()
    assert Session.get("stale").token == "stale"  # readable until swept
    assert fast_emu.control_client.sweep_ttl() == 1
    with pytest.raises(Session.DoesNotExist):
        Session.get("stale")
    assert Session.get("fresh").expires is not None
