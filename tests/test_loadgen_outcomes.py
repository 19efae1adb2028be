"""Outcome classification and the guarded workload's retry, made deterministic on the real
emulator by writing between a guarded read and its conditional write."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from loadgen.client import Boto3Client
from loadgen.conditions import ClientConditions
from loadgen.dynamo import DynamoStore
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient
from loadgen.spec import WorkloadSpec
from loadgen.table import create_table
from loadgen.workloads import build_workloads
from tests.globaltable_fixtures import RunningEmulator, launch
from verdict.history import Op

TABLE = "hothot-outcomes"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    emulator = launch("--replication-delay", "50ms", "--replication-jitter", "0ms")
    create_table(Boto3Client(REGIONS[0], emulator.regions[REGIONS[0]]), TABLE)
    yield emulator
    emulator.stop()


def _calls(
    endpoints: dict[str, str], sink: Any, ids: RecordIds, home: str = "us-east-1"
) -> RecordingClient:
    return RecordingClient(
        home=home,
        table=TABLE,
        ids=ids,
        sink=sink,
        conditions=ClientConditions(),
        client_for=lambda r: DynamoStore(Boto3Client(r, endpoints[r], timeout_s=2.0), TABLE),
    )


def test_guarded_retries_a_failed_condition_and_counts_attempts(emu: RunningEmulator) -> None:
    ids, records = RecordIds("g0"), []
    guarded = build_workloads([WorkloadSpec(kind="guarded", max_attempts=3)], REGIONS)["guarded"]
    other = _calls(emu.regions, lambda rec: None, ids)
    interfered: list[str] = []

    def sink(rec: dict[str, Any]) -> None:
        records.append(dict(rec))
        if rec["op"] == "get" and not interfered:  # a write slips in after the first read
            racer = other.record("guarded", rec["key"], Op.PUT)
            item = {"pk": {"S": rec["key"]}, "hh_vid": {"S": racer["id"]}}
            other.send(racer, "PutItem", {"Item": item, "ReturnValues": "ALL_OLD"})
            interfered.append(racer["id"])

    calls = _calls(emu.regions, sink, ids)
    guarded.run(calls, "guarded#1", random.Random(1))
    shape = [(r["op"], r.get("attempt"), r["outcome"], r.get("error")) for r in records]
    assert shape == [
        ("get", None, "ok", None),
        ("update", 1, "fail", "ConditionalCheckFailedException"),
        ("get", None, "ok", None),
        ("update", 2, "ok", None),
    ]
    assert records[2]["vid"] == interfered[0] and records[3]["pred"] == interfered[0]
    assert records[0]["consistent"] is True


def test_a_refused_connection_fails_and_store_errors_fail(emu: RunningEmulator) -> None:
    """Nothing listens on port 9: the request never left, so the write certainly did not
    happen (`fail`, not `unknown`)."""
    records: list[dict[str, Any]] = []
    dead = _calls({"us-east-1": "http://127.0.0.1:9"}, records.append, RecordIds("u0"))
    rec = dead.record("profile", "profile#1", Op.PUT)
    dead.send(rec, "PutItem", {"Item": {"pk": {"S": "profile#1"}, "hh_vid": {"S": rec["id"]}}})
    assert (rec["outcome"], rec["region"]) == ("fail", "us-east-1")
    assert rec["error"] == "NotSent:EndpointConnectionError"
    live = _calls(emu.regions, records.append, RecordIds("u1"))
    bad = live.record("profile", "profile#1", Op.PUT)
    live.send(bad, "PutItem", {"Item": {"hh_vid": {"S": bad["id"]}}})  # no key attribute
    assert (bad["outcome"], bad["error"]) == ("fail", "ValidationException")
    assert [r["id"] for r in records] == ["u0:1", "u1:1"]
