"""The cost model against a running emulator over boto3: what the store reports as
ConsumedCapacity is what `item_size` + `write_units`/`read_units` predict, and a projection
built from those answers equals the calculator's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.globaltable_fixtures import RunningEmulator, launch
from units.items import item_size
from verdict.cost import CostSpec, read_units, write_units
from verdict.cost_campaign import CostAccumulator

pytestmark = pytest.mark.slow
TABLE = "hothot-cost"
REGIONS = ["us-east-1", "eu-west-1"]


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    emu = launch("--regions", ",".join(REGIONS))
    emu.client(REGIONS[0]).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield emu
    emu.stop()


def items(key: str) -> list[dict[str, Any]]:
    """Items of every attribute type around the 1 KB and 4 KB boundaries."""
    base = {"pk": {"S": key}}
    name_bytes = len("pk") + len(key) + len("pad")
    return [
        base | {"pad": {"S": "x" * (1024 - name_bytes)}},  # exactly 1 KB
        base | {"pad": {"S": "x" * (1025 - name_bytes)}},  # just over: 2 units
        base | {"pad": {"S": "é" * 600}, "n": {"N": "-123.4500"}, "ok": {"BOOL": True}},
        base | {"pad": {"B": b"\x01" * 5000}, "z": {"NULL": True}},  # boto3 sends bytes
        base | {"pad": {"L": [{"S": "日本" * 50}, {"M": {"k": {"NS": ["1", "22"]}}}] * 20}},
        base | {"pad": {"SS": [f"s{i:04d}" for i in range(300)]}},
        base | {"pad": {"S": "small"}},  # shrinking update: billed at the old size
    ]


def test_consumed_capacity_matches_the_model_and_the_projection(emu: RunningEmulator) -> None:
    acc = CostAccumulator()
    for region in REGIONS:
        ddb = emu.client(region)
        key = f"cost#{region}"
        for i, item in enumerate(items(key)):
            answer = ddb.put_item(
                TableName=TABLE, Item=item, ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL"
            )
            old = answer.get("Attributes", {})
            size, old_size = item_size(item), item_size(old) if old else 0
            capacity = answer["ConsumedCapacity"]["CapacityUnits"]
            assert capacity == write_units(size, old_size), (i, size, old_size)
            acc.observe({"region": region, "key": key, "op": "put", "outcome": "ok",
                         "t_complete": 100.0 + i, "item_bytes": size, "old_bytes": old_size,
                         "capacity": capacity})  # fmt: skip
            for consistent in (True, False):
                got = ddb.get_item(TableName=TABLE, Key={"pk": {"S": key}},
                                   ConsistentRead=consistent, ReturnConsumedCapacity="TOTAL")  # fmt: skip
                units = got["ConsumedCapacity"]["CapacityUnits"]
                expected = read_units(size, "strong" if consistent else "eventual")
                assert units == expected, (i, size, consistent)
                acc.observe({"region": region, "key": key, "op": "get", "outcome": "ok",
                             "t_complete": 100.0 + i, "consistent": consistent,
                             "capacity": units})  # fmt: skip
    # Both regions wrote the same sequence in 7 s: per region the app units are the sum of
    # the capacities above, and each region receives the other's as replicated units.
    result = acc.result(7.0, REGIONS, CostSpec(production_scale=1000))
    a, b = (result["regions"][r] for r in REGIONS)
    assert a["write_units_per_s"] == pytest.approx(b["replicated_write_units_per_s"])
    expected_units = sum(
        write_units(item_size(it), item_size(prev) if prev else 0)
        for prev, it in zip([None, *items("k")[:-1]], items("k"), strict=True)
    )
    assert a["write_units_per_s"] == pytest.approx(expected_units / 7.0 * 1000)
