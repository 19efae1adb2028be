"""client_lww's rejected writes name the write that beat them (`blocked_by`), read from the
item a ConditionalCheckFailedException returns, on both clients against a real emulator."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loadgen.client import Boto3Client, ConditionFailed, DynamoClient
from loadgen.conditions import ClientConditions
from loadgen.dynamo import DynamoStore
from loadgen.fastclient import FastClient
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient
from loadgen.spec import WorkloadSpec
from loadgen.workloads import build_workloads
from tests.globaltable_fixtures import RunningEmulator, quick_emulator
from tests.run_fixtures import campaign, hothot, verdict, write_campaign

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
TABLE = "hothot-client-lww"
CLIENTS = {"boto3": Boto3Client, "fast": FastClient}


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    yield from quick_emulator(TABLE)


def client(emulator: RunningEmulator, kind: str, region: str = "eu-west-1") -> DynamoClient:
    return CLIENTS[kind](region, emulator.regions[region])  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_condition_failure_carries_the_current_item_when_asked(
    emulator: RunningEmulator, kind: str
) -> None:
    ddb = client(emulator, kind)
    key = {"pk": {"S": f"item-{kind}"}}
    item = {**key, "hh_vid": {"S": "w:1"}, "b": {"B": b"\x00\xff"}}
    ddb.call("PutItem", {"TableName": TABLE, "Item": item})
    guarded: dict[str, Any] = {"TableName": TABLE, "Item": item}
    guarded["ConditionExpression"] = "attribute_not_exists(pk)"
    with pytest.raises(ConditionFailed) as plain:
        ddb.call("PutItem", guarded)
    assert plain.value.item is None
    with pytest.raises(ConditionFailed) as asked:
        ddb.call("PutItem", {**guarded, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})
    assert asked.value.item == item


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_a_rejected_client_lww_write_records_the_write_that_beat_it(
    emulator: RunningEmulator, kind: str
) -> None:
    records: list[dict[str, Any]] = []
    conditions = ClientConditions()
    spec = WorkloadSpec(kind="client_lww", keys=1, name=f"lww-{kind}")
    workload = build_workloads([spec], REGIONS)[spec.name]
    calls = RecordingClient(
        home="eu-west-1",
        table=TABLE,
        ids=RecordIds(f"t-{kind}"),
        sink=records.append,
        conditions=conditions,
        client_for=lambda region: DynamoStore(client(emulator, kind, region), TABLE),
    )
    rng = random.Random(1)
    conditions.set_clock("eu-west-1", 30.0)
    workload.run(calls, workload.key(0), rng)  # stores a timestamp 30 s ahead
    conditions.clear_clock("eu-west-1")
    workload.run(calls, workload.key(0), rng)  # truly later, yet older on the client clock
    ahead, rejected = records
    assert ahead["outcome"] == "ok" and "blocked_by" not in ahead
    assert (rejected["outcome"], rejected["error"]) == ("fail", "ConditionalCheckFailedException")
    assert rejected["blocked_by"] == ahead["id"]


def lww_run(tmp_path: Path, emulator: RunningEmulator, name: str, chaos: list[Any]) -> Any:
    """A short client_lww campaign on `emulator` as plain endpoints (no control URL: a
    clock_skew moves only the writers' clocks, as on AWS); its verdict."""
    data = campaign(
        name,
        duration="3s",
        target={"kind": "endpoints", "regions": REGIONS, "table": f"hothot-{name}",
                "endpoints": emulator.regions, "settle": "0.5s"},
        # paced: a region rewrites a given key every ~200 ms (10 keys, one write per 20 ms),
        # far longer than the 20 ms link, so another region's write usually reaches it first
        writers={"per_region": 1, "client": "fast", "think_time": "20ms"},
        workloads=[{"kind": "client_lww", "keys": 10}],
        chaos=chaos,
    )  # fmt: skip
    report = tmp_path / name
    proc = hothot("run", str(write_campaign(tmp_path, data, f"{name}.yaml")), "--report-dir",
                  str(report), timeout=60)  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return verdict(report)


@pytest.mark.slow
def test_writer_clock_skew_makes_client_lww_pick_wrong_winners_on_endpoints(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    """eu-west-1's writers run 5 s ahead for 1.5 s: their timestamps beat the truly later
    writes of the other regions (rejected, blocked by an earlier-completed write) — counted
    as skew_inverted inside the window, and never without the skew.

    Only if eu-west-1's items reach the other regions: each is the store's last-writer-wins
    loser there when that region wrote the key again while it was replicating. Unpaced
    writers on 3 keys did so almost always on a fast idle machine, so the rejections came
    only after the heal, from eu-west-1's own later writes (attributed at their invocation,
    outside the window): hence the pacing in `lww_run`."""
    skew = {"at": "0.5s", "for": "1.5s", "fault": "clock_skew", "region": "eu-west-1",
            "offset": "5s"}  # fmt: skip
    skewed = lww_run(tmp_path, emulator, "lww-skewed", [skew])
    plain = lww_run(tmp_path, emulator, "lww-plain", [])
    assert skewed["workloads"]["client_lww"]["skew_inverted"] > 0
    [window] = [w for w in skewed["faults"] if w.get("fault") == "clock_skew"]
    assert window["anomalies"].get("skew_inverted", 0) > 0
    regions = skewed["workloads"]["client_lww"]["regions"]
    assert regions["us-east-1"]["skew_inverted"] > 0 and regions["us-west-2"]["skew_inverted"] > 0
    assert plain["workloads"]["client_lww"]["writes_ok"] > 0
    assert plain["workloads"]["client_lww"]["skew_inverted"] == 0
