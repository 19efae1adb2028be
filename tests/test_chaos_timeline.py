"""chaos: the timeline against a real emulator — applied and healed at their times, logged to
chaos.jsonl and faults.state, reported to on_change; failures never leave a fault behind."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from chaos import ChaosSpec, expand
from chaos.injectors import ClientInjector, EmulatorInjector, build
from chaos.timeline import Timeline
from loadgen.conditions import ClientConditions, ClientFault
from tests.chaos_fixtures import REGIONS, Emulator, wait_for
from verdict.history import CHAOS_LOG, fault_windows

LATENCY = {
    "at": 0,
    "for": "10s",
    "fault": "region_latency",
    "region": "eu-west-1",
    "latency": "50ms",
}


class Changes:
    """on_change calls, with the time each arrived."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bool, float]] = []
        self.lock = threading.Lock()

    def __call__(self, fault: str, target: str, active: bool) -> None:
        with self.lock:
            self.calls.append((fault, target, active, time.time()))

    def active(self) -> set[str]:
        on: set[str] = set()
        for fault, target, active, _ in list(self.calls):
            (on.add if active else on.discard)(f"{fault} {target}")
        return on


def run_timeline(
    emu: Emulator, chaos: Any, tmp_path: Path, conditions: Any = None
) -> tuple[Timeline, Changes]:
    spec = ChaosSpec.model_validate(chaos)
    schedule = expand(spec, seed=1, regions=REGIONS, duration=60)
    changes = Changes()
    injectors = build(
        "emulator",
        REGIONS,
        control_url=emu.control_url,
        conditions=conditions or ClientConditions(),
    )
    timeline = Timeline(schedule, injectors, tmp_path, on_change=changes)
    return timeline, changes


def test_faults_apply_and_heal_at_their_times(clean_emulator: Emulator, tmp_path: Path) -> None:
    emu = clean_emulator
    conditions = ClientConditions()
    timeline, changes = run_timeline(
        emu,
        [
            # both active for 1.6 s: the checks made while they are must fit in on a busy machine
            {
                "at": "200ms",
                "for": "2.2s",
                "fault": "clock_skew",
                "region": "eu-west-1",
                "offset": "2s",
            },
            {
                "at": "400ms",
                "for": "1.6s",
                "fault": "partition",
                "regions": ["us-east-1", "eu-west-1"],
            },
        ],
        tmp_path,
        conditions,
    )
    t0 = time.time()
    with timeline:
        timeline.start(t0)
        wait_for(lambda: len(changes.active()) == 2)
        state = emu.control.state()
        entries = json.loads((tmp_path / "faults.state").read_text())
        writers_clock = conditions.now("eu-west-1") - time.time()
        assert timeline.wait(timeout=15)
    # during: the emulator's LWW clock and links, the writers' clock, and the state file
    assert sorted(f["fault"] for f in state["faults"].values()) == ["clock_skew", "partition"]
    assert state["clocks"]["eu-west-1"] == pytest.approx(2.0, abs=0.01)
    assert (
        state["links"]["us-east-1->eu-west-1"]["paused"]
        and state["links"]["eu-west-1->us-east-1"]["paused"]
    )
    assert not state["links"]["us-east-1->us-west-2"]["paused"]
    assert writers_clock == pytest.approx(2.0, abs=0.5)
    assert [(e["id"], [p["injector"] for p in e["applied"]]) for e in entries] == [
        ("f1-clock_skew", ["emulator", "client"]),
        ("f2-partition", ["emulator"]),
    ]
    assert entries[0]["applied"][0]["handle"]["control"] == emu.control_url
    # after: nothing left anywhere
    assert emu.clean()
    assert conditions.now("eu-west-1") - time.time() == pytest.approx(0.0, abs=0.5)
    assert json.loads((tmp_path / "faults.state").read_text()) == []
    # times: never early, heals in window order
    windows = fault_windows((tmp_path / CHAOS_LOG).read_bytes().splitlines())
    assert [(w["id"], w["fault"], w["target"]) for w in windows] == [
        ("f1-clock_skew", "clock_skew", "eu-west-1"),
        ("f2-partition", "partition", "us-east-1<->eu-west-1"),
    ]
    assert windows[0]["params"] == {"region": "eu-west-1", "offset": 2.0, "drift_ppm": 0.0}
    skew, part = windows
    assert skew["start"] - t0 >= 0.2 and part["start"] - t0 >= 0.4
    assert part["heal"] - t0 >= 2.0 and skew["heal"] - t0 >= 2.4 and part["heal"] <= skew["heal"]
    assert [(c[0], c[2]) for c in changes.calls] == [
        ("clock_skew", True),
        ("partition", True),
        ("partition", False),
        ("clock_skew", False),
    ]
    assert timeline.errors == []


def test_stop_heals_early_and_cancels_the_rest(clean_emulator: Emulator, tmp_path: Path) -> None:
    emu = clean_emulator
    timeline, changes = run_timeline(
        emu,
        [
            {"at": 0, "for": "30s", "fault": "region_outage", "region": "us-west-2"},
            {
                "at": "20s",
                "for": "5s",
                "fault": "replication_delay",
                "from": "us-east-1",
                "to": "eu-west-1",
                "delay": "2s",
            },
        ],
        tmp_path,
    )
    timeline.start()
    wait_for(lambda: changes.active())
    assert emu.control.state()["outages"] == ["us-west-2"]
    timeline.stop()
    timeline.stop()  # idempotent
    assert emu.clean()
    assert timeline.wait(5)  # the schedule's thread ended
    windows = fault_windows((tmp_path / CHAOS_LOG).read_bytes().splitlines())
    assert [(w["fault"], w["heal"] is not None) for w in windows] == [("region_outage", True)]


def test_a_refused_fault_is_logged_and_partial_applies_are_undone(
    clean_emulator: Emulator, tmp_path: Path
) -> None:
    emu = clean_emulator
    # the injector believes in a fourth region: the emulator accepts the first two partition
    # bodies of a region-against-all partition and refuses the third; the first two are healed
    injector = EmulatorInjector(emu.control_url, [*REGIONS, "mars-1"])
    spec = ChaosSpec.model_validate(
        [{"at": 0, "for": "5s", "fault": "partition", "region": "us-east-1"}]
    )
    timeline = Timeline(expand(spec, 1, REGIONS, 60), [injector], tmp_path)
    with timeline:
        timeline.start()
        wait_for(lambda: timeline.errors)
    assert "apply failed" in timeline.errors[0] and "mars-1" in timeline.errors[0]
    assert emu.clean()
    events = [json.loads(line) for line in (tmp_path / CHAOS_LOG).read_text().splitlines()]
    assert [e["event"] for e in events] == ["start", "heal"]
    assert "mars-1" in events[0]["error"]
    assert json.loads((tmp_path / "faults.state").read_text()) == []


def test_a_failed_heal_stays_in_faults_state(clean_emulator: Emulator, tmp_path: Path) -> None:
    emu = clean_emulator
    timeline, changes = run_timeline(
        emu,
        [LATENCY],
        tmp_path,
    )
    with timeline:
        timeline.start()
        wait_for(lambda: changes.active())
        emu.control.heal_all()  # someone else healed it: healing it again is not an error
    assert timeline.errors == [] and emu.clean()
    timeline, changes = run_timeline(
        emu,
        [LATENCY],
        tmp_path / "b",
    )
    timeline.start()
    wait_for(lambda: changes.active())
    timeline.injectors[0].control.url = "http://127.0.0.1:9"  # the control API is unreachable
    timeline.stop()
    assert "heal failed" in timeline.errors[0]
    left = json.loads((tmp_path / "b" / "faults.state").read_text())
    assert [(e["id"], e["applied"][0]["handle"]["control"]) for e in left] == [
        ("f1-region_latency", emu.control_url)
    ]
    emu.control.heal_all()


def test_client_side_faults_on_plain_endpoints(tmp_path: Path) -> None:
    conditions = ClientConditions()
    spec = ChaosSpec.model_validate(
        [
            {"at": 0, "for": "10s", "fault": "region_outage", "region": "eu-west-1"},
            {"at": 0, "for": "10s", "fault": "partition", "region": "us-east-1"},
            {
                "at": 0,
                "for": "10s",
                "fault": "region_latency",
                "region": "us-west-2",
                "latency": "300ms",
            },
        ]
    )
    injectors = build("endpoints", REGIONS, conditions=conditions)
    assert [type(i) for i in injectors] == [ClientInjector]
    changes = Changes()
    with Timeline(expand(spec, 1, REGIONS, 60), injectors, tmp_path, on_change=changes) as timeline:
        timeline.start()
        wait_for(lambda: len(changes.active()) == 3)
        with pytest.raises(ClientFault, match="outage"):
            conditions.check("eu-west-1")
        with pytest.raises(ClientFault, match="partition"):
            conditions.check("us-west-2", origin="us-east-1")
        conditions.check("us-west-2", origin="eu-west-1")  # only us-east-1 is cut off
        started = time.monotonic()
        conditions.check("us-west-2")
        assert time.monotonic() - started >= 0.3
    conditions.check("eu-west-1")
    conditions.check("us-west-2", origin="us-east-1")
    started = time.monotonic()
    conditions.check("us-west-2")
    assert time.monotonic() - started < 0.3


def test_no_injector_for_a_fault_is_refused_up_front(tmp_path: Path) -> None:
    spec = ChaosSpec.model_validate(
        [{"at": 0, "for": "1s", "fault": "clock_skew", "region": "eu-west-1", "offset": 1}]
    )
    with pytest.raises(
        ValueError,
        match=r"no injector can apply f1-clock_skew \(clock_skew\); injectors given: none",
    ):
        Timeline(expand(spec, 1, REGIONS, 60), [], tmp_path)


def test_drift_and_strobe_reach_both_clocks(clean_emulator: Emulator, tmp_path: Path) -> None:
    emu = clean_emulator
    conditions = ClientConditions()
    skew = {
        "at": 0,
        "for": "10s",
        "fault": "clock_skew",
        "region": "us-west-2",
        "offset": "-1s",
        "drift_ppm": 500,
        "strobe": "4s",
    }
    line, changes = run_timeline(emu, [skew], tmp_path, conditions)
    with line:
        line.start()
        wait_for(lambda: changes.active())
        applied = list(emu.control.state()["faults"].values())
        writers_offset = conditions.now("us-west-2") - time.time()
    assert [(f["offset_s"], f["drift_ppm"], f["strobe_period_s"]) for f in applied] == [
        (-1.0, 500.0, 4.0)
    ]
    assert writers_offset == pytest.approx(-1.0, abs=0.3)  # first half of the strobe period
    assert emu.clean()


def test_a_window_opens_when_its_fault_is_applied(clean_emulator: Emulator, tmp_path: Path) -> None:
    """An injector can take long to apply (an FIS experiment starting): the window starts
    when the apply returned, not when it began, so earlier anomalies are not the fault's."""
    emu = clean_emulator
    returned: list[float] = []

    class SlowInjector(EmulatorInjector):
        def apply(self, fault: Any, fault_id: str) -> Any:
            time.sleep(0.3)
            handle = super().apply(fault, fault_id)
            returned.append(time.time())
            return handle

    spec = ChaosSpec.model_validate([LATENCY])
    schedule = expand(spec, seed=1, regions=REGIONS, duration=60)
    timeline = Timeline(schedule, [SlowInjector(emu.control_url, REGIONS)], tmp_path)
    with timeline:
        timeline.start()
        wait_for(lambda: bool(returned))
        wait_for(lambda: (tmp_path / CHAOS_LOG).exists())
    windows = fault_windows((tmp_path / CHAOS_LOG).read_bytes().splitlines())
    assert windows[0]["start"] >= returned[0]
    assert emu.clean()
