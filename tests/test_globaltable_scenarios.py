"""The classic global-table scenarios, each on a partitioned or delayed link, then healed and
quiesced: regions converge and /truth reports exactly the lost updates each test caused."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.globaltable_fixtures import RunningEmulator, launch

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
_tables = itertools.count()


@pytest.fixture(scope="module")
def emu() -> Any:
    running = launch("--replication-delay", "30ms", "--replication-jitter", "20ms", "--seed", "3")
    yield running
    running.stop()


@pytest.fixture
def table(emu: RunningEmulator) -> str:
    name = f"scenario-{next(_tables)}"
    emu.create_table(name, EAST)
    yield name
    emu.control_client.heal_all()


def S(text: str) -> dict[str, str]:
    return {"S": text}


def settle(emu: RunningEmulator, table: str, key: str) -> dict[str, Any] | None:
    """Heal, quiesce, and return the item, which must be identical in every region."""
    emu.control_client.heal_all()
    assert emu.control_client.quiesce(10)["converged"]
    seen = [
        emu.client(r).get_item(TableName=table, Key={"pk": S(key)}, ConsistentRead=True).get("Item")
        for r in emu.regions
    ]
    assert all(item == seen[0] for item in seen), seen
    return seen[0]


def seed_item(emu: RunningEmulator, table: str, key: str, **attrs: Any) -> None:
    emu.client(EAST).put_item(TableName=table, Item={"pk": S(key), "hh_vid": S("w:0"), **attrs})
    assert emu.control_client.quiesce(10)["converged"]


def truth_of(emu: RunningEmulator, table: str, key: str) -> dict[str, Any]:
    return emu.control_client.truth(table)["keys"][key]


def partition(emu: RunningEmulator, a: str, b: str) -> None:
    emu.control_client.apply({"fault": "partition", "regions": [a, b]})


def test_split_attributes_one_survives(emu, table):
    seed_item(emu, table, "user", address=S("old street"), phone=S("000"))
    partition(emu, EAST, EU)
    emu.client(EAST).update_item(
        TableName=table,
        Key={"pk": S("user")},
        UpdateExpression="SET address = :a, hh_vid = :v, hh_vid_address = :v",
        ExpressionAttributeValues={":a": S("new street"), ":v": S("w:1")},
    )
    emu.client(EU).update_item(
        TableName=table,
        Key={"pk": S("user")},
        UpdateExpression="SET phone = :p, hh_vid = :v, hh_vid_phone = :v",
        ExpressionAttributeValues={":p": S("555"), ":v": S("w:2")},
    )
    final = settle(emu, table, "user")
    assert final["phone"] == S("555") and final["address"] == S("old street")  # address lost
    truth = truth_of(emu, table, "user")
    assert truth == {"writes": 3, "conflicts": 1, "lost": ["w:1"], "final": "w:2"}


def test_concurrent_add_loses_an_increment_on_a_delayed_link(emu, table):
    seed_item(emu, table, "counter", n={"N": "0"})
    for a, b in ((EAST, WEST), (WEST, EAST)):
        emu.control_client.apply({"fault": "replication_delay", "from": a, "to": b, "delay_s": 1.0})
    clients = {region: emu.client(region) for region in (EAST, WEST)}  # made before: slow
    for region, vid in ((EAST, "w:1"), (WEST, "w:2")):
        clients[region].update_item(
            TableName=table,
            Key={"pk": S("counter")},
            UpdateExpression="ADD n :one SET hh_vid = :v",
            ExpressionAttributeValues={":one": {"N": "1"}, ":v": S(vid)},
        )
    links = emu.control_client.state()["links"]
    # concurrent: each increment was still on its way to the other region (the 1 s delay)
    assert links[f"{EAST}->{WEST}"]["backlog"] == 1 and links[f"{WEST}->{EAST}"]["backlog"] == 1
    final = settle(emu, table, "counter")
    assert final["n"] == {"N": "1"}  # two acknowledged increments, one survives
    assert final["hh_vid"] == S("w:2")
    assert truth_of(emu, table, "counter") == {
        "writes": 3,
        "conflicts": 1,
        "lost": ["w:1"],
        "final": "w:2",
    }


def test_same_conditional_put_acknowledged_twice(emu, table):
    partition(emu, WEST, EU)
    for region, vid in ((WEST, "w:1"), (EU, "w:2")):
        answer = emu.client(region).put_item(
            TableName=table,
            Item={"pk": S("claim"), "owner": S(region), "hh_vid": S(vid)},
            ConditionExpression="attribute_not_exists(pk)",
        )
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    final = settle(emu, table, "claim")
    assert final["owner"] == S(EU)
    assert truth_of(emu, table, "claim") == {
        "writes": 2,
        "conflicts": 1,
        "lost": ["w:1"],
        "final": "w:2",
    }


def test_region_ahead_wins_with_its_earlier_write(emu, table):
    seed_item(emu, table, "profile", v=S("0"))
    emu.control_client.apply({"fault": "clock_skew", "region": EU, "offset_s": 2.0})
    partition(emu, EAST, EU)
    emu.client(EU).put_item(
        TableName=table, Item={"pk": S("profile"), "v": S("eu"), "hh_vid": S("w:1")}
    )
    emu.client(EAST).put_item(
        TableName=table, Item={"pk": S("profile"), "v": S("east"), "hh_vid": S("w:2")}
    )
    final = settle(emu, table, "profile")
    assert final["v"] == S("eu")  # the earlier write, stamped 2 s in the future
    assert truth_of(emu, table, "profile") == {
        "writes": 3,
        "conflicts": 1,
        "lost": ["w:2"],
        "final": "w:1",
    }


def _delete(emu: RunningEmulator, region: str, table: str, key: str, vid: str) -> None:
    client = emu.client(region)

    def tag(request: Any, **_: Any) -> None:
        request.headers["x-hothot-vid"] = vid

    client.meta.events.register("before-sign.dynamodb.DeleteItem", tag)
    client.delete_item(TableName=table, Key={"pk": S(key)})


@pytest.mark.parametrize("delete_last", [False, True])
def test_delete_versus_concurrent_update(emu, table, delete_last):
    seed_item(emu, table, "doc", body=S("v0"))
    partition(emu, EAST, WEST)

    def update() -> None:
        emu.client(WEST).update_item(
            TableName=table,
            Key={"pk": S("doc")},
            UpdateExpression="SET body = :b, hh_vid = :v",
            ExpressionAttributeValues={":b": S("v1"), ":v": S("u:1")},
        )

    if delete_last:
        update()
        _delete(emu, EAST, table, "doc", "d:1")
    else:
        _delete(emu, EAST, table, "doc", "d:1")
        update()
    final = settle(emu, table, "doc")
    truth = truth_of(emu, table, "doc")
    if delete_last:
        assert final is None
        assert truth == {"writes": 3, "conflicts": 1, "lost": ["u:1"], "final": "d:1"}
    else:
        assert final is not None and final["body"] == S("v1")
        assert truth == {"writes": 3, "conflicts": 1, "lost": ["d:1"], "final": "u:1"}


def test_uninstrumented_writes_are_not_counted_and_sequential_writes_lose_nothing(emu, table):
    emu.client(EAST).put_item(TableName=table, Item={"pk": S("hh#hb#us-east-1"), "t": {"N": "1"}})
    seed_item(emu, table, "seq")
    for i, region in enumerate((WEST, EU, EAST), start=1):
        emu.client(region).put_item(
            TableName=table, Item={"pk": S("seq"), "hh_vid": S(f"w:{i}")}, ReturnValues="ALL_OLD"
        )
        assert emu.control_client.quiesce(10)["converged"]
    settle(emu, table, "seq")
    truth = emu.control_client.truth(table)
    assert truth["totals"] == {"writes": 4, "conflicts": 0, "lost_updates": 0}
    assert set(truth["keys"]) == {"seq"}


def test_partition_holds_the_queue_and_drains_after_heal(emu, table):
    partition(emu, EAST, EU)
    for i in range(20):
        emu.client(EAST).put_item(TableName=table, Item={"pk": S(f"q{i}"), "hh_vid": S(f"w:{i}")})
    state = emu.control_client.state()
    assert state["links"][f"{EAST}->{EU}"]["paused"] is True
    assert state["links"][f"{EAST}->{EU}"]["backlog"] == 20
    assert emu.control_client.quiesce(0.2)["converged"] is False
    assert "Item" not in emu.client(EU).get_item(TableName=table, Key={"pk": S("q19")})
    emu.control_client.heal_all()
    assert emu.control_client.quiesce(10)["converged"]
    assert emu.client(EU).get_item(TableName=table, Key={"pk": S("q19")})["Item"]["hh_vid"] == S(
        "w:19"
    )
