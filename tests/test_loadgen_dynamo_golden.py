"""The DynamoDB path sends exactly what it sent before the store-neutral client layer: every
built-in workload, the final reads and the lag probes, byte for byte, against requests
recorded from the code before that change (tests/data/dynamodb_requests.jsonl), and the
history records they made (times left out).

The stand-in store answers deterministically (writes find an item every other time,
conditional writes fail every third time and name the winner), so every branch a workload
takes on an answer (guarded's re-read, client_lww's blocked_by) is exercised.
The requests are made in a subprocess (Locust, which read_final's module imports, patches
gevent, which must not leak into the test process). Regenerate the file only for an intended
change: `python -c "import locust, runpy; runpy.run_module('tests.test_loadgen_dynamo_golden',
run_name='__main__')" --write` (Locust first: it patches gevent before ssl is imported).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from loadgen.client import ConditionFailed
from loadgen.conditions import ClientConditions
from loadgen.dynamo import DynamoStore
from loadgen.plan import LoadPlan
from loadgen.probes import LagProbes
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient
from loadgen.spec import WorkloadSpec, WritersSpec
from loadgen.workloads import build_workloads

GENERATE = "import locust, runpy; runpy.run_module('tests.test_loadgen_dynamo_golden', run_name='__main__')"
SORTED = orjson.OPT_SORT_KEYS
GOLDEN = Path(__file__).parent / "data" / "dynamodb_requests.jsonl"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
TABLE = "hothot-golden"
SPECS = [
    {"kind": "profile", "keys": 5},
    {"kind": "profile", "name": "padded", "keys": 5, "item_size": "300B"},
    {"kind": "split_attributes", "keys": 5},
    {"kind": "split_attributes", "name": "split_padded", "keys": 5, "item_size": "400B"},
    {"kind": "counter", "keys": 5, "increment": 3},
    {"kind": "counter", "name": "counter_padded", "keys": 5, "item_size": "200B"},
    {"kind": "cart", "keys": 5},
    {"kind": "cart", "name": "cart_padded", "keys": 5, "item_size": "250B"},
    {"kind": "guarded", "keys": 5},
    {"kind": "home_region", "keys": 6},
    {"kind": "client_lww", "keys": 5, "item_size": "300B"},
    {"kind": "reader", "keys": 5},
    {"kind": "reader", "name": "strong_reader", "keys": 5, "consistent": True},
]


class StandIn:
    """A DynamoDB client that answers from a script instead of a table, logging requests."""

    def __init__(self, region: str, log: list[bytes]) -> None:
        self.region = region
        self._log = log
        self._n = 0

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self._log.append(orjson.dumps([self.region, operation, request]))
        self._n += 1
        key = request.get("Key", request.get("Item", {})).get("pk", {}).get("S", "?")
        old = {"pk": {"S": key}, "hh_vid": {"S": f"old:{self._n}"}, "n": {"N": "4"}}
        old["cart"] = {"L": [{"S": "e:1"}]}
        old["hh_vid_phone"] = {"S": f"oldp:{self._n}"}
        if "ConditionExpression" in request and self._n % 3 == 0:
            raise ConditionFailed("ConditionalCheckFailedException", "no", old)
        answer: dict[str, Any] = {"ConsumedCapacity": {"CapacityUnits": 1.0}}
        if operation == "GetItem":
            if self._n % 2:
                answer["Item"] = old
        elif self._n % 2 and request.get("ReturnValues") == "ALL_OLD":
            answer["Attributes"] = old
        return answer


class SteppingClock(ClientConditions):
    """The writers' clock steps 1.25 ms per reading: client_lww's timestamps replay."""

    def __init__(self) -> None:
        super().__init__()
        self._t = 1_700_000_000.0

    def now(self, region: str) -> float:
        self._t += 0.00125
        return self._t


def requests() -> list[bytes]:
    """Every request the workloads, the final reads and the probes send, in order."""
    from loadgen.session import read_final  # imports Locust: only in the subprocess

    log: list[bytes] = []
    workloads = build_workloads([WorkloadSpec(**s) for s in SPECS], REGIONS)
    ids = RecordIds("g")
    records: list[dict[str, Any]] = []
    plan = LoadPlan(
        regions=REGIONS,
        endpoints=dict.fromkeys(REGIONS, "http://127.0.0.1:9"),
        table=TABLE,
        seed=3,
        writers=WritersSpec(),
        workloads=[WorkloadSpec(**s) for s in SPECS],
    )
    plan.client = lambda region: StandIn(region, log)  # type: ignore[method-assign]
    clock = SteppingClock()
    for region in REGIONS:
        calls = RecordingClient(
            home=region,
            table=TABLE,
            ids=ids,
            sink=records.append,
            conditions=clock,
            client_for=plan.store,
        )
        for name, workload in workloads.items():
            rng = random.Random(f"{region}:{name}")
            for _ in range(6):
                workload.run(calls, workload.choose_key(rng, region), rng)
    read_final(plan, ["profile#1", "counter#2", "cart#3"], records.append, workloads=workloads)
    probe_log: list[bytes] = []

    def probe_store(region: str) -> DynamoStore:
        return DynamoStore(StandIn(region, probe_log), TABLE)

    probes = LagProbes(REGIONS, probe_store, ids, records.append, ClientConditions())
    probes._get(probe_store("us-east-1"), "us-east-1", "hh#hb#us-west-2")
    probes.start()  # each region's first heartbeat, then stop
    time.sleep(0.05)
    probes.stop()
    first_beats = sorted(b for b in probe_log if b'"seq":{"N":"1"}' in b)
    timeless = [
        orjson.dumps({k: v for k, v in r.items() if not k.startswith("t_")}, option=SORTED)
        for r in records
        if r["op"] != "probe"
    ]
    return [*log, probe_log[0], *first_beats, b"records", *timeless]


def test_dynamodb_requests_are_byte_identical_to_before_the_store_neutral_layer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", GENERATE],
        capture_output=True,
        cwd=Path(__file__).parent.parent,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    sent = done.stdout.splitlines()
    expected = GOLDEN.read_bytes().splitlines()
    assert len(sent) == len(expected)
    for i, (now, before) in enumerate(zip(sent, expected, strict=True)):
        assert now == before, f"request {i} differs:\n now    {now!r}\n before {before!r}"


if __name__ == "__main__":
    made = b"\n".join(requests()) + b"\n"
    if "--write" in sys.argv:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(made)
    else:
        sys.stdout.buffer.write(made)
