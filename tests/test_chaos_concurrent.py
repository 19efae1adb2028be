"""chaos: faults are applied concurrently. A slow injector (FIS takes seconds to start and to
stop an experiment) delays neither another fault's start nor its heal, and chaos.jsonl and the
fault windows carry when each start and heal was asked for beside when it happened."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

from chaos import ChaosSpec, expand
from chaos.injectors import ClientInjector
from chaos.timeline import Timeline
from loadgen.conditions import ClientConditions
from verdict.history import CHAOS_LOG, fault_windows

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
SLOW_S = 1.5
#: lateness allowed for a fault that nothing should hold up (a busy 2-core machine)
ON_TIME_S = 0.4


class SlowForLatency(ClientInjector):
    """Applies and heals `region_latency` as slowly as an FIS experiment starts and stops."""

    def apply(self, fault: Any, fault_id: str) -> Any:
        if fault.name == "region_latency":
            time.sleep(SLOW_S)
        return super().apply(fault, fault_id)

    def heal(self, fault: Any, handle: Any) -> None:
        if fault.name == "region_latency":
            time.sleep(SLOW_S)
        super().heal(fault, handle)


def run(chaos: list[dict[str, Any]], tmp_path: Path, conditions: ClientConditions) -> list[Any]:
    schedule = expand(ChaosSpec.model_validate(chaos), seed=1, regions=REGIONS, duration=60)
    injector = SlowForLatency(conditions, REGIONS, "aws")
    timeline = Timeline(schedule, [injector], tmp_path)
    with timeline:
        t0 = time.time()
        timeline.start(t0)
        assert timeline.wait(timeout=15)
    events = [orjson.loads(line) for line in (tmp_path / CHAOS_LOG).read_bytes().splitlines()]
    return [t0, events, fault_windows((tmp_path / CHAOS_LOG).read_bytes().splitlines())]


def test_a_slow_fault_delays_no_other_fault(tmp_path: Path) -> None:
    """The issue's case: a slow apply at 0s, another fault due at 0.3s and due to heal at
    0.9s, during that apply. Both of the fast fault's events come when asked."""
    conditions = ClientConditions()
    slow = {"at": 0, "for": "600ms", "fault": "region_latency", "region": "us-east-1"}
    fast = {"at": "300ms", "for": "600ms", "fault": "clock_skew", "region": "eu-west-1"}
    t0, events, windows = run(
        [slow | {"latency": "50ms"}, fast | {"offset": "2s"}], tmp_path, conditions
    )
    by = {(e["id"].split("-", 1)[1], e["event"]): e for e in events}
    skew_start, skew_heal = by["clock_skew", "start"], by["clock_skew", "heal"]
    assert skew_start["requested"] == t0 + 0.3 and skew_heal["requested"] == t0 + 0.9
    assert 0 <= skew_start["t"] - skew_start["requested"] < ON_TIME_S
    assert 0 <= skew_heal["t"] - skew_heal["requested"] < ON_TIME_S
    # the slow one: applied SLOW_S late, healed once its apply returned plus its own heal
    lat_start, lat_heal = by["region_latency", "start"], by["region_latency", "heal"]
    assert lat_start["requested"] == t0
    assert lat_start["t"] - t0 >= SLOW_S
    assert lat_heal["requested"] == t0 + 0.6 and lat_heal["t"] - lat_start["t"] >= SLOW_S
    late = next(w for w in windows if w["fault"] == "region_latency")
    assert late["requested_start"] == t0 and late["requested_heal"] == t0 + 0.6
    assert late["start"] == lat_start["t"] and late["heal"] == lat_heal["t"]
    assert conditions._latency == {} and abs(conditions.now("eu-west-1") - time.time()) < 1


def test_a_fault_waits_for_the_heal_of_the_one_before_it_on_the_same_slot(tmp_path: Path) -> None:
    """Two latency faults back to back on one region, the first slow to heal: the second is
    applied only after the first's heal, so that heal cannot undo the second."""
    conditions = ClientConditions()
    first = {
        "at": 0,
        "for": "300ms",
        "fault": "region_latency",
        "region": "us-east-1",
        "latency": "50ms",
    }
    second = first | {"at": "300ms", "latency": "80ms"}
    _, events, _ = run([first, second], tmp_path, conditions)
    order = [(e["id"], e["event"]) for e in events]
    assert order == [
        ("f1-region_latency", "start"),
        ("f1-region_latency", "heal"),
        ("f2-region_latency", "start"),
        ("f2-region_latency", "heal"),
    ]
    assert events[2]["t"] >= events[1]["t"]
    assert conditions._latency == {}
