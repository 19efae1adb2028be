"""Each built-in workload issues the DynamoDB operations docs/workloads.md documents, checked
on the requests a real emulator receives (boto3 client, as a run sends them)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from loadgen.client import Boto3Client
from loadgen.conditions import ClientConditions
from loadgen.dynamo import DynamoStore
from loadgen.ops import Write
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient
from loadgen.spec import WorkloadSpec
from loadgen.workloads import build_workloads
from tests.globaltable_fixtures import RunningEmulator, quick_emulator

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
TABLE = "hothot-qa-workloads"


class CapturingClient:
    """A real client to one emulator region that keeps every (operation, request) it sends."""

    def __init__(self, inner: Boto3Client, sent: list[tuple[str, str, dict[str, Any]]]) -> None:
        self.region = inner.region
        self._inner = inner
        self._sent = sent

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self._sent.append((self.region, operation, request))
        return self._inner.call(operation, request)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """One emulator with fast replication, shared by the module."""
    yield from quick_emulator(TABLE)


class Harness:
    """Workloads of `specs`, and one RecordingClient per region sending to the emulator."""

    def __init__(self, emulator: Any, specs: list[dict[str, Any]]) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.records: list[dict[str, Any]] = []
        self.conditions = ClientConditions()
        self.workloads = build_workloads([WorkloadSpec(**s) for s in specs], REGIONS)
        ids = RecordIds("t")
        self.calls = {
            region: RecordingClient(
                home=region,
                table=TABLE,
                ids=ids,
                sink=self.records.append,
                conditions=self.conditions,
                client_for=lambda r: DynamoStore(
                    CapturingClient(Boto3Client(r, emulator.regions[r]), self.sent), TABLE
                ),
            )
            for region in REGIONS
        }

    def run(self, name: str, region: str, times: int, seed: int = 1) -> list[tuple[str, dict]]:
        """`times` operations of workload `name` by a writer of `region`; the requests sent."""
        workload, rng = self.workloads[name], random.Random(seed)
        start = len(self.sent)
        for _ in range(times):
            workload.run(self.calls[region], workload.choose_key(rng, region), rng)
        return [(op, req) for _, op, req in self.sent[start:]]


def test_split_attributes_affinity_is_the_chance_of_writing_the_own_attribute(emulator) -> None:
    """`affinity` is documented as the chance a region writes its own attribute: 0 must mean
    never (it used to fall back to a uniform choice that picked the own one half the time)."""
    harness = Harness(
        emulator,
        [
            {"kind": "split_attributes", "name": "never", "keys": 5, "affinity": 0.0},
            {"kind": "split_attributes", "name": "half", "keys": 5, "affinity": 0.5},
        ],
    )
    sent = harness.run("never", "us-east-1", 20)  # region 0 owns `address`
    assert {op for op, _ in sent} == {"UpdateItem"}
    written = Counter(req["ExpressionAttributeNames"]["#s0"] for _, req in sent)
    assert written == {"phone": 20}
    sent = harness.run("half", "us-west-2", 200, seed=5)  # region 1 owns `phone`
    own = sum(req["ExpressionAttributeNames"]["#s0"] == "phone" for _, req in sent)
    assert 70 <= own <= 130, own  # 0.5 of 200 (sd 7); it was 0.75 (150) before


def _common(req: dict[str, Any]) -> None:
    assert req["ReturnValues"] == "ALL_OLD"
    assert req["ReturnConsumedCapacity"] == "TOTAL"


def test_each_kind_sends_its_documented_operation(emulator) -> None:
    harness = Harness(
        emulator,
        [
            {"kind": "profile", "keys": 3},
            {"kind": "split_attributes", "keys": 3},
            {"kind": "counter", "keys": 3, "increment": 3},
            {"kind": "cart", "keys": 3},
            {"kind": "home_region", "keys": 9},
            {"kind": "reader", "workloads": ["home_region"], "consistent": True},
        ],
    )
    for op, req in harness.run("profile", "us-east-1", 3):
        assert op == "PutItem" and "hh_vid" in req["Item"] and "name" in req["Item"]
        _common(req)
    for op, req in harness.run("split_attributes", "us-east-1", 3):
        names = req["ExpressionAttributeNames"]
        assert op == "UpdateItem" and len(names) == 2  # one attribute and its hh_vid_<attr>
        assert names["#s1"] == f"hh_vid_{names['#s0']}"
        assert req["UpdateExpression"].startswith("SET hh_vid = :hh_vid, ")
        _common(req)
    for op, req in harness.run("counter", "us-west-2", 4):
        assert op == "UpdateItem" and req["UpdateExpression"].endswith(" ADD n :inc")
        assert req["ExpressionAttributeValues"][":inc"] == {"N": "3"}
    assert {r["value"] for r in harness.records if r["workload"] == "counter"} == {3}
    for op, req in harness.run("cart", "eu-west-1", 3):
        assert op == "UpdateItem" and "list_append(" in req["UpdateExpression"]
        [element] = req["ExpressionAttributeValues"][":el"]["L"]
        assert element == req["ExpressionAttributeValues"][":hh_vid"]  # the record id
    home = harness.run("home_region", "us-west-2", 12)
    assert {int(req["Item"]["pk"]["S"].split("#")[1]) % 3 for _, req in home} == {1}
    reads = harness.run("reader", "us-west-2", 12)
    assert {op for op, _ in reads} == {"GetItem"}
    assert all(req["ConsistentRead"] for _, req in reads)
    homes = {int(req["Key"]["pk"]["S"].split("#")[1]) % 3 for _, req in reads}
    assert homes and 1 not in homes  # keys homed in other regions than the reader's


def test_guarded_conditions_on_the_version_it_read_and_retries(emulator) -> None:
    harness = Harness(emulator, [{"kind": "guarded", "keys": 1, "max_attempts": 2}])
    first = harness.run("guarded", "us-east-1", 1)
    assert [op for op, _ in first] == ["GetItem", "UpdateItem"]
    assert first[0][1]["ConsistentRead"] is True
    assert first[1][1]["ConditionExpression"] == "attribute_not_exists(hh_vid)"
    vid = first[1][1]["ExpressionAttributeValues"][":hh_vid"]
    second = harness.run("guarded", "us-east-1", 1, seed=2)
    assert second[1][1]["ConditionExpression"] == "hh_vid = :seen"
    assert second[1][1]["ExpressionAttributeValues"][":seen"] == vid
    # a write slipped in between the read and the conditional write: re-read, retry, give up
    workload, calls = harness.workloads["guarded"], harness.calls["us-east-1"]
    original_perform = calls.perform

    def interfering_perform(rec, op, **kw):
        if isinstance(op, Write) and op.guard is not None:
            harness.workloads["guarded"].put(calls, rec["key"], {})
        return original_perform(rec, op, **kw)

    calls.perform = interfering_perform  # type: ignore[method-assign]
    workload.run(calls, "guarded#0", random.Random(3))
    tries = [r for r in harness.records if r["op"] == "update"][-2:]
    assert [(r["attempt"], r["outcome"], r["error"]) for r in tries] == [
        (1, "fail", "ConditionalCheckFailedException"),
        (2, "fail", "ConditionalCheckFailedException"),
    ]


def test_client_lww_writes_the_writers_skewed_clock_and_its_condition(emulator) -> None:
    harness = Harness(emulator, [{"kind": "client_lww", "keys": 1}])
    harness.conditions.set_clock("eu-west-1", 30.0)
    [(op, ahead)] = harness.run("client_lww", "eu-west-1", 1)
    assert op == "UpdateItem"
    assert ahead["ConditionExpression"] == "attribute_not_exists(hh_ts) OR hh_ts < :ts"
    ts_ahead = float(ahead["ExpressionAttributeValues"][":ts"]["N"])
    [(_, later)] = harness.run("client_lww", "eu-west-1", 1)  # same region: sees the first
    harness.conditions.clear_clock("eu-west-1")
    [(_, behind)] = harness.run("client_lww", "eu-west-1", 1)
    assert float(behind["ExpressionAttributeValues"][":ts"]["N"]) < ts_ahead - 25
    outcomes = [(r["outcome"], r.get("error")) for r in harness.records]
    assert outcomes == [("ok", None), ("ok", None), ("fail", "ConditionalCheckFailedException")]
    assert harness.records[0]["client_ts"] == ts_ahead
