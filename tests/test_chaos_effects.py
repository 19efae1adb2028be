"""chaos: each fault's effect on the emulator, observed with boto3 as a user would see it.
(Effects measured through the whole verdict are the runner's integration tests.)"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from chaos import ChaosSpec, expand
from chaos.injectors import build
from chaos.timeline import Timeline
from loadgen.conditions import ClientConditions
from tests.chaos_fixtures import REGIONS, TABLE, Emulator, wait_for

pytestmark = pytest.mark.slow


def timeline(
    emu: Emulator, chaos: list[dict[str, Any]], report_dir: Path
) -> tuple[Timeline, list[tuple[str, bool]]]:
    changes: list[tuple[str, bool]] = []
    spec = ChaosSpec.model_validate(chaos)
    injectors = build(
        "endpoints", REGIONS, control_url=emu.control_url, conditions=ClientConditions()
    )
    line = Timeline(
        expand(spec, 1, REGIONS, 120),
        injectors,
        report_dir,
        on_change=lambda fault, target, on: changes.append((fault, on)),
    )
    return line, changes


def slow_link(source: str, target: str, delay: str, both_ways: bool = False) -> dict[str, Any]:
    """A minute-long replication delay from the start."""
    return {
        "at": 0,
        "for": "60s",
        "fault": "replication_delay",
        "from": source,
        "to": target,
        "delay": delay,
        "both_ways": both_ways,
    }


def put(emu: Emulator, region: str, key: str, value: str) -> None:
    emu.dynamo(region).put_item(TableName=TABLE, Item={"pk": {"S": key}, "v": {"S": value}})


def read(emu: Emulator, region: str, key: str) -> str | None:
    item = emu.dynamo(region).get_item(TableName=TABLE, Key={"pk": {"S": key}}).get("Item")
    return item["v"]["S"] if item else None


def test_clock_skew_makes_the_earlier_write_win(clean_emulator: Emulator, tmp_path: Path) -> None:
    emu = clean_emulator
    # a 2 s delay both ways makes the two writes of each key concurrent; the skew decides
    line, changes = timeline(
        emu,
        [
            slow_link("us-east-1", "eu-west-1", "2s", both_ways=True),
            {"at": 0, "for": "3s", "fault": "clock_skew", "region": "eu-west-1", "offset": "2s"},
        ],
        tmp_path,
    )
    with line:
        line.start()
        wait_for(lambda: len(changes) == 2)
        put(emu, "eu-west-1", "skewed", "eu-first")
        time.sleep(0.3)
        put(emu, "us-east-1", "skewed", "us-later")
        wait_for(lambda: ("clock_skew", False) in changes)
        put(emu, "eu-west-1", "unskewed", "eu-first")
        time.sleep(0.3)
        put(emu, "us-east-1", "unskewed", "us-later")
    assert emu.control.quiesce(30)["converged"]
    assert {r: read(emu, r, "skewed") for r in REGIONS} == dict.fromkeys(REGIONS, "eu-first")
    assert {r: read(emu, r, "unskewed") for r in REGIONS} == dict.fromkeys(REGIONS, "us-later")


def test_partition_holds_writes_until_healed(clean_emulator: Emulator, tmp_path: Path) -> None:
    emu = clean_emulator
    line, changes = timeline(
        emu,
        [{"at": 0, "for": "60s", "fault": "partition", "regions": ["us-east-1", "eu-west-1"]}],
        tmp_path,
    )
    line.start()
    wait_for(lambda: changes)
    put(emu, "us-east-1", "cut", "v1")
    wait_for(lambda: read(emu, "us-west-2", "cut"))  # replication outside the cut goes on
    time.sleep(0.5)
    assert read(emu, "eu-west-1", "cut") is None
    line.stop()
    assert wait_for(lambda: read(emu, "eu-west-1", "cut")) == "v1"  # the held queue catches up


def test_replication_delay_shows_as_visibility_lag(
    clean_emulator: Emulator, tmp_path: Path
) -> None:
    emu = clean_emulator
    line, changes = timeline(
        emu,
        [slow_link("us-west-2", "us-east-1", "1500ms")],
        tmp_path,
    )
    with line:
        line.start()
        wait_for(lambda: changes)
        started = time.monotonic()
        put(emu, "us-west-2", "slow", "v1")
        seen: dict[str, float] = {}

        def both_seen() -> bool:
            for region in ("us-east-1", "eu-west-1"):
                if region not in seen and read(emu, region, "slow"):
                    seen[region] = time.monotonic() - started
            return len(seen) == 2

        wait_for(both_seen)
    assert seen["us-east-1"] >= 1.5  # measured from before the put: never less than the delay
    # only the delayed link is slow: eu-west-1 (a 100 ms link) had it well before 1.5 s
    assert seen["eu-west-1"] < 1.5 - 0.2
