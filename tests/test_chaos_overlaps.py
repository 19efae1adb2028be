"""Faults the chaos effect tests did not cover (region_outage, region_latency) and overlapping
faults on one link or region, run by a Timeline against a real emulator: each changes what a
boto3 user sees, composes with the others, and nothing of it (pauses, delays, latency,
outages, offsets) is left once the schedule has run out."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chaos import ChaosSpec, expand
from chaos.injectors import build
from chaos.timeline import Timeline
from loadgen.conditions import ClientConditions
from tests.chaos_fixtures import REGIONS, TABLE, Emulator, wait_for

pytestmark = pytest.mark.slow

US, WEST, EU = REGIONS


def start(emu: Emulator, chaos: list[dict[str, Any]], report_dir: Path) -> Timeline:
    schedule = expand(ChaosSpec.model_validate(chaos), 1, REGIONS, 60)
    injectors = build("emulator", REGIONS, control_url=emu.control_url, conditions=None)
    timeline = Timeline(schedule, injectors, report_dir)
    timeline.start()
    return timeline


def link(emu: Emulator, source: str, target: str) -> tuple[float, bool]:
    state = emu.control.state()["links"][f"{source}->{target}"]
    return state["delay_s"], state["paused"]


def untouched(emu: Emulator) -> bool:
    """As the emulator started: no fault, offset, outage, latency, pause or extra delay."""
    state = emu.control.state()
    return (
        state["faults"] == {}
        and not any(state["clocks"].values())
        and state["outages"] == []
        and not state["latency"]
        and all(not s["paused"] and s["delay_s"] == 0.1 for s in state["links"].values())
    )


def get_seconds(emu: Emulator, region: str) -> float:
    began = time.monotonic()
    emu.dynamo(region).get_item(TableName=TABLE, Key={"pk": {"S": "qa-latency"}})
    return time.monotonic() - began


def test_outage_and_latency_act_while_applied_and_vanish_after(
    clean_emulator: Emulator, tmp_path: Path
) -> None:
    emu = clean_emulator
    timeline = start(
        emu,
        [
            {"at": 0, "for": "3s", "fault": "region_outage", "region": EU},
            {"at": 0, "for": "3s", "fault": "region_latency", "region": WEST,
             "latency": "400ms"},
        ],
        tmp_path,
    )  # fmt: skip
    wait_for(lambda: len(timeline.active()) == 2)
    with pytest.raises(ClientError):
        emu.dynamo(EU).get_item(TableName=TABLE, Key={"pk": {"S": "qa-outage"}})
    emu.dynamo(US).put_item(TableName=TABLE, Item={"pk": {"S": "qa-outage"}, "v": {"S": "1"}})
    assert get_seconds(emu, WEST) >= 0.4
    time.sleep(0.3)
    assert emu.control.state()["links"][f"{US}->{EU}"]["backlog"] == 1  # held, not applied
    assert timeline.wait(10)
    assert untouched(emu)  # the emulator says the latency is gone...
    # ...and a read shows it: the fastest of three well under the 400 ms it added
    assert min(get_seconds(emu, WEST) for _ in range(3)) < 0.4 - 0.2
    wait_for(
        lambda: emu.dynamo(EU).get_item(TableName=TABLE, Key={"pk": {"S": "qa-outage"}}).get("Item")
    )  # the write held by the outage arrives after the heal


def test_a_partition_inside_a_delay_window_and_an_outage_over_a_partition_compose(
    clean_emulator: Emulator, tmp_path: Path
) -> None:
    emu = clean_emulator
    timeline = start(
        emu,
        [
            {"at": 0, "for": "5s", "fault": "replication_delay", "from": US, "to": WEST,
             "delay": "2s"},
            {"at": "0.5s", "for": "3s", "fault": "partition", "regions": [US, WEST]},
            {"at": 0, "for": "5s", "fault": "region_outage", "region": EU},
            {"at": "0.5s", "for": "3s", "fault": "partition", "region": EU},
        ],
        tmp_path,
    )  # fmt: skip
    wait_for(lambda: len(timeline.active()) == 4)
    # composed: the delay and the pause on one link at once (polled: a busy machine's timers
    # fire late, and the partition's 3 s window is the margin)
    wait_for(lambda: link(emu, US, WEST) == (2.0, True) and link(emu, WEST, US) == (0.1, True))
    wait_for(lambda: len(timeline.active()) == 2)  # both partitions healed
    assert link(emu, US, WEST) == (2.0, False)  # the delay holds on, the pause is gone
    assert link(emu, WEST, US) == (0.1, False)
    assert link(emu, EU, US)[1] and link(emu, US, EU)[1]  # the outage still stops EU's links
    assert timeline.wait(10)
    assert untouched(emu)
    events = [json.loads(line) for line in (tmp_path / "chaos.jsonl").read_text().splitlines()]
    assert sorted((e["event"], e["id"]) for e in events if "error" not in e) == sorted(
        (event, f"f{n}-{name}")
        for n, name in enumerate(
            ["replication_delay", "region_outage", "partition", "partition"], start=1
        )
        for event in ("start", "heal")
    )


def test_stop_mid_window_leaves_nothing_applied(clean_emulator: Emulator, tmp_path: Path) -> None:
    emu = clean_emulator
    conditions = ClientConditions()
    injectors = build("emulator", REGIONS, control_url=emu.control_url, conditions=conditions)
    chaos = [
        {"at": 0, "for": "30s", "fault": "clock_skew", "region": EU, "offset": "2s",
         "strobe": "1s"},
        {"at": 0, "for": "30s", "fault": "replication_delay", "from": EU, "to": US,
         "delay": "1s", "jitter": "200ms", "both_ways": True},
        {"at": 0, "for": "30s", "fault": "region_latency", "region": US, "latency": "50ms"},
        {"at": 0, "for": "30s", "fault": "partition", "region": WEST, "one_way": True},
    ]  # fmt: skip
    timeline = Timeline(
        expand(ChaosSpec.model_validate(chaos), 1, REGIONS, 60), injectors, tmp_path
    )
    timeline.start()
    wait_for(lambda: len(timeline.active()) == 4)
    assert not untouched(emu)
    timeline.stop()
    assert untouched(emu)
    # the writers' clock too: back from 2 s ahead (0.5 s leaves a busy machine's scheduling room)
    assert abs(conditions.now(EU) - time.time()) < 0.5
    assert json.loads((tmp_path / "faults.state").read_text()) == []
