"""MRSC (`--mode strong`): synchronous replication to a second region, write conflicts,
strong reads everywhere, and an isolated region that fails writes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.globaltable_fixtures import RunningEmulator, launch

EAST, EAST2, WEST = "us-east-1", "us-east-2", "us-west-2"


@pytest.fixture(scope="module")
def strong() -> Any:
    running = launch("--mode", "strong", "--regions", f"{EAST},{EAST2},{WEST}")
    running.create_table("mrsc", EAST)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _heal(strong: RunningEmulator) -> Any:
    yield
    strong.control_client.heal_all()


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll until `condition()` is truthy; its value."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g}s"
        time.sleep(0.01)
    return value


def put(emu: RunningEmulator, region: str, key: str, value: str) -> dict[str, Any]:
    return emu.client(region).put_item(TableName="mrsc", Item={"pk": {"S": key}, "v": {"S": value}})


def read(emu: RunningEmulator, region: str, key: str, consistent: bool = True) -> Any:
    answer = emu.client(region).get_item(
        TableName="mrsc", Key={"pk": {"S": key}}, ConsistentRead=consistent
    )
    return answer.get("Item", {}).get("v", {}).get("S")


def test_strong_reads_agree_everywhere_right_after_the_write(strong):
    assert strong.control_client.state()["mode"] == "strong"
    for i, region in enumerate((EAST, EAST2, WEST)):
        put(strong, region, "k", f"v{i}")
        assert [read(strong, r, "k") for r in (EAST, EAST2, WEST)] == [f"v{i}"] * 3


def test_simultaneous_writes_from_two_regions_conflict(strong):
    # a slow round trip keeps the first write in flight while the second arrives
    for a in (EAST, EAST2, WEST):
        for b in (EAST, EAST2, WEST):
            if a != b:
                strong.control_client.apply(
                    {"fault": "replication_delay", "from": a, "to": b, "delay_s": 1.5}
                )
    results: dict[str, Any] = {}
    clients = {r: strong.client(r) for r in (EAST, WEST)}

    def write(region: str) -> None:
        try:
            clients[region].put_item(
                TableName="mrsc", Item={"pk": {"S": "hot"}, "v": {"S": region}}
            )
            results[region] = "ok"
        except ClientError as exc:
            results[region] = exc.response["Error"]["Code"]

    first = threading.Thread(target=write, args=(EAST,))
    first.start()
    # the emulator says when EAST's write is in flight; it stays so for the 1.5 s round trip
    in_flight = wait_until(lambda: strong.control_client.state()["in_flight"], "EAST in flight")
    write(WEST)
    first.join()
    assert in_flight == {EAST: 1}
    assert results == {EAST: "ok", WEST: "ReplicatedWriteConflictException"}
    assert strong.control_client.state()["in_flight"] == {}
    assert {read(strong, r, "hot") for r in (EAST, EAST2, WEST)} == {EAST}


def test_conditions_see_the_latest_version_across_regions(strong):
    put(strong, EAST, "cond", "first")
    with pytest.raises(ClientError) as exc:
        strong.client(WEST).put_item(
            TableName="mrsc",
            Item={"pk": {"S": "cond"}, "v": {"S": "second"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert exc.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_isolated_region_fails_writes_and_strong_reads_but_serves_eventual_reads(strong):
    put(strong, WEST, "iso", "before")
    for other in (EAST, EAST2):
        strong.control_client.apply({"fault": "partition", "regions": [WEST, other]})
    with pytest.raises(ClientError) as exc:
        put(strong, WEST, "iso", "during")
    assert exc.value.response["Error"]["Code"] == "ServiceUnavailable"
    with pytest.raises(ClientError):
        read(strong, WEST, "iso", consistent=True)
    assert read(strong, WEST, "iso", consistent=False) == "before"
    # the majority side keeps working; the isolated region catches up after healing
    put(strong, EAST, "iso", "majority")
    assert read(strong, EAST2, "iso") == "majority"
    assert read(strong, WEST, "iso", consistent=False) == "before"
    strong.control_client.heal_all()
    assert strong.control_client.quiesce(10)["converged"]
    assert read(strong, WEST, "iso", consistent=False) == "majority"


def test_strong_mode_needs_three_regions():
    with pytest.raises(RuntimeError, match="exited with 2"):
        launch("--mode", "strong", "--regions", "us-east-1,us-west-2")


def test_strong_query_and_scan_see_the_latest_write_from_any_region(strong):
    ranged = strong.create_table("mrsc-ranged", EAST, sk="S")
    east, west = strong.client(EAST), strong.client(WEST)
    row = {"pk": {"S": "q"}, "sk": {"S": "b"}, "v": {"S": "before"}}
    east.put_item(TableName=ranged, Item=row)
    assert strong.control_client.quiesce(10)["converged"]  # every region has `row`
    # WEST misses EAST's next writes (their link is cut) but reaches EAST2, which has them
    strong.control_client.apply({"fault": "partition", "regions": [WEST, EAST]})
    new_a = {"pk": {"S": "q"}, "sk": {"S": "a"}, "v": {"S": "from-east"}}
    new_b = {**row, "v": {"S": "updated"}}
    east.put_item(TableName=ranged, Item=new_a)
    east.put_item(TableName=ranged, Item=new_b)
    query = {"TableName": ranged, "KeyConditionExpression": "pk = :k"}
    query["ExpressionAttributeValues"] = {":k": {"S": "q"}}
    assert west.query(**query)["Items"] == [row]  # eventual: WEST's own stale copy
    assert west.query(**query, ConsistentRead=True)["Items"] == [new_a, new_b]
    backwards = west.query(**query, ConsistentRead=True, ScanIndexForward=False)["Items"]
    assert backwards == [new_b, new_a]
    assert west.scan(TableName=ranged, ConsistentRead=True)["Items"] == [new_a, new_b]
    # a delete is a version too: strong reads stop seeing the item at once
    east.delete_item(TableName=ranged, Key={"pk": {"S": "q"}, "sk": {"S": "b"}})
    assert west.query(**query, ConsistentRead=True)["Items"] == [new_a]
    assert west.scan(TableName=ranged, ConsistentRead=True)["Items"] == [new_a]
    assert west.scan(TableName=ranged)["Items"] == [row]
    # hash-only tables too
    put(strong, EAST, "q1", "from-east")
    hashed = west.query(
        TableName="mrsc",
        KeyConditionExpression="pk = :k",
        ExpressionAttributeValues={":k": {"S": "q1"}},
        ConsistentRead=True,
    )
    assert hashed["Items"] == [{"pk": {"S": "q1"}, "v": {"S": "from-east"}}]


def test_a_write_waits_for_the_nearest_region_only_the_third_catches_up(strong):
    # EAST -> WEST is slow, so EAST2 is EAST's nearest region: the write waits for EAST2 only
    strong.control_client.apply(
        {"fault": "replication_delay", "from": EAST, "to": WEST, "delay_s": 1.5}
    )
    put(strong, EAST, "third", "new")
    assert read(strong, EAST2, "third", consistent=False) == "new"
    assert read(strong, WEST, "third", consistent=False) is None  # not there yet
    assert read(strong, WEST, "third") == "new"  # a strong read still sees it
    assert strong.control_client.quiesce(10)["converged"]
    assert read(strong, WEST, "third", consistent=False) == "new"


def test_writes_queued_in_a_region_that_gets_isolated_fail_as_unavailable(strong):
    for other in (EAST2, WEST):
        strong.control_client.apply(
            {"fault": "replication_delay", "from": EAST, "to": other, "delay_s": 1.5}
        )
    codes: list[str] = []
    clients = [strong.client(EAST), strong.client(EAST)]

    def write(i: int) -> None:
        try:
            clients[i].put_item(TableName="mrsc", Item={"pk": {"S": "queued"}, "v": {"S": "x"}})
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])

    writers = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    writers[0].start()
    threading.Event().wait(0.2)
    writers[1].start()  # queues behind the first (same region, same item)
    threading.Event().wait(0.2)
    for other in (EAST2, WEST):
        strong.control_client.apply({"fault": "partition", "regions": [EAST, other]})
    for w in writers:
        w.join()
    assert codes == ["ServiceUnavailable", "ServiceUnavailable"]


def test_the_mrsc_campaign_runs_at_mrsc_write_latency():
    """`hothot run` passes the campaign's replication delay to the emulator; left at the MREC
    default (0.8 s) every MRSC write would wait ~0.8 s instead of one regional round trip."""
    from globaltable.server import STRONG_DELAY_S, STRONG_JITTER_S
    from hothot.campaign import load_campaign

    campaign = load_campaign(Path(__file__).parent.parent / "campaigns" / "mrsc.yaml")
    assert campaign.target.mode == "strong"
    replication = campaign.target.replication
    assert (replication.delay, replication.jitter) == (STRONG_DELAY_S, STRONG_JITTER_S)
    assert {(b.metric, b.max) for b in campaign.budgets} >= {("lost_updates", 0), ("conflicts", 0)}
