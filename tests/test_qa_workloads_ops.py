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
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient
from loadgen.spec import WorkloadSpec
from loadgen.workloads import build_workloads
from tests.globaltable_fixtures import RunningEmulator, launch

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
    running = launch("--replication-delay", "20ms", "--replication-jitter", "0ms")
    running.create_table(TABLE)
    yield running
    running.stop()


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
                client_for=lambda r: CapturingClient(
                    Boto3Client(r, emulator.regions[r]), self.sent
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
