"""Touching windows written in decimal (`at: 100ms, for: 200ms`, next `at: 300ms`) touch:
their float sum (0.30000000000000004) must neither make validation see an overlap nor make
the timeline apply the next fault before healing the previous one."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from chaos import ChaosSpec, expand, validate
from chaos.injectors import build
from chaos.timeline import Timeline
from loadgen.conditions import ClientConditions
from tests.chaos_fixtures import REGIONS, wait_for


def _two_skews(first_at: str, first_for: str, second_at: str) -> ChaosSpec:
    return ChaosSpec.model_validate(
        [
            {"at": first_at, "for": first_for, "fault": "clock_skew", "region": "eu-west-1",
             "offset": "2s"},
            {"at": second_at, "for": "1s", "fault": "clock_skew", "region": "eu-west-1",
             "offset": "-1s"},
        ]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("first_at", "first_for", "second_at"),
    [("100ms", "200ms", "300ms"), ("1.1s", "2.2s", "3.3s"), ("0.7s", "0.1s", "0.8s")],
)
def test_touching_decimal_windows_are_not_an_overlap(
    first_at: str, first_for: str, second_at: str
) -> None:
    spec = _two_skews(first_at, first_for, second_at)
    assert validate(spec, REGIONS, "emulator", True, False, 60) == []
    first, second = expand(spec, 1, REGIONS, 60)
    assert first.end == second.start


def test_the_timeline_heals_before_applying_the_touching_fault(tmp_path: Path) -> None:
    conditions = ClientConditions()
    schedule = expand(_two_skews("100ms", "200ms", "300ms"), 1, REGIONS, 60)
    injectors = build("endpoints", REGIONS, conditions=conditions)
    with Timeline(schedule, injectors, tmp_path) as timeline:
        timeline.start()
        wait_for(lambda: timeline.active() == ["f2-clock_skew"], timeout=5)
        time.sleep(0.1)  # past any heal of f1 that came late
        # the writers' clock runs 1 s behind: the first heal did not clear the second skew
        assert conditions.now("eu-west-1") - time.time() == pytest.approx(-1.0, abs=0.4)
    events = [json.loads(line) for line in (tmp_path / "chaos.jsonl").read_text().splitlines()]
    order = [(e["event"], e["id"]) for e in events]
    assert order[:3] == [
        ("start", "f1-clock_skew"),
        ("heal", "f1-clock_skew"),
        ("start", "f2-clock_skew"),
    ]
