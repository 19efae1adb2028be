"""faults.state under damage and a full disk (issue 16, cases 5 and 6): `hothot heal` checks
every entry before undoing anything, follows only http(s) control URLs and never repeats a
heal that succeeded; on a full disk the timeline never leaves a fault applied that the file
does not list, and the file never lists one that is healed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from chaos import ChaosSpec, expand
from chaos.heal import HealError, heal_report
from chaos.injectors import EmulatorInjector
from chaos.state import STATE_FILE, StateFileError, write_state
from chaos.timeline import Timeline
from tests.chaos_fixtures import REGIONS, Emulator
from verdict.history import CHAOS_LOG

PARTITION = {"at": 0, "for": "60s", "fault": "partition", "regions": ["us-east-1", "eu-west-1"]}


def _entry(fault_id: str, control: str, ids: list[str], **changes: Any) -> dict[str, Any]:
    entry = {
        "id": fault_id,
        "fault": "partition",
        "target": "us-east-1<->eu-west-1",
        "spec": PARTITION | {"at": "0s", "for": "60s"},
        "applied": [{"injector": "emulator", "handle": {"control": control, "ids": ids}}],
    }
    return entry | changes


def _apply(emu: Emulator) -> str:
    return emu.control.apply({"fault": "partition", "regions": ["us-east-1", "eu-west-1"]})


def _write(report: Path, entries: list[dict[str, Any]]) -> None:
    (report / STATE_FILE).write_text(json.dumps(entries))
    (report / CHAOS_LOG).touch()


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ({"applied": [{"injector": "laser", "handle": {}}]}, "unknown injector 'laser'"),
        ({"fault": "meteor"}, "unknown fault 'meteor'"),
        ({"spec": {"fault": "partition", "regions": "x"}}, "unreadable spec"),
        ({"id": 7}, 'it has no "id"'),
        ({"applied": "everything"}, '"applied" is not a list'),
        (
            {"applied": [{"injector": "emulator", "handle": {"control": "file:///etc/passwd"}}]},
            "is not an http:// or https:// URL",
        ),
        (
            {"applied": [{"injector": "emulator", "handle": {"control": "ftp://h/x", "ids": []}}]},
            "is not an http:// or https:// URL",
        ),
        (
            {"applied": [{"injector": "emulator", "handle": {"control": "http://h", "ids": [1]}}]},
            '"ids" is not a list',
        ),
        (
            {"applied": [{"injector": "aws", "handle": {"region": "x/../y", "template_id": "t",
                                                         "experiment_id": "e"}}]},
            "is not an AWS region name",
        ),
        ({"applied": [{"injector": "aws", "handle": {"region": "eu-west-1"}}]}, '"template_id"'),
    ],
)  # fmt: skip
def test_every_entry_is_checked_before_anything_is_healed(
    clean_emulator: Emulator, tmp_path: Path, bad: dict[str, Any], needle: str
) -> None:
    """Before, the first entries were healed, then an unknown injector was refused with the
    file unchanged: a re-run repeated those heals. Now nothing is healed."""
    emu = clean_emulator
    fault = _apply(emu)
    _write(tmp_path, [_entry("f1-ok", emu.control_url, [fault]), _entry("f2-bad", "", [], **bad)])
    before = (tmp_path / STATE_FILE).read_text()
    with pytest.raises(HealError) as caught:
        heal_report(tmp_path)
    assert "entry 2 (" in str(caught.value) and needle in str(caught.value), caught.value
    assert "nothing was healed" in str(caught.value)
    assert list(emu.control.state()["faults"]) == [fault]  # still applied: not touched
    assert (tmp_path / STATE_FILE).read_text() == before


class _DiesOnSecond(EmulatorInjector):
    """Heals like the emulator injector, but the process 'dies' on the second fault."""

    def heal(self, fault: Any, handle: dict[str, Any]) -> None:
        if handle["ids"] == ["f-second"]:
            raise KeyboardInterrupt
        super().heal(fault, handle)


def test_a_heal_that_succeeded_is_never_repeated(clean_emulator: Emulator, tmp_path: Path) -> None:
    emu = clean_emulator
    fault = _apply(emu)
    _write(
        tmp_path,
        [_entry("f1-a", emu.control_url, [fault]), _entry("f2-b", emu.control_url, ["f-second"])],
    )
    with pytest.raises(KeyboardInterrupt):
        heal_report(tmp_path, injectors={"emulator": _DiesOnSecond(emu.control_url, REGIONS)})
    assert emu.control.state()["faults"] == {}
    left = json.loads((tmp_path / STATE_FILE).read_text())
    assert [e["id"] for e in left] == ["f2-b"]  # f1-a left the file as soon as it was healed
    healed = [json.loads(line)["id"] for line in (tmp_path / CHAOS_LOG).read_text().splitlines()]
    assert healed == ["f1-a"]


def test_a_run_directory_without_faults_state_has_nothing_to_heal(tmp_path: Path) -> None:
    """A run removes faults.state when a full disk keeps it from writing []."""
    (tmp_path / CHAOS_LOG).touch()
    result = heal_report(tmp_path)
    assert result.healed == [] and result.failed == []


# -- a full disk -----------------------------------------------------------------------


def test_write_state_on_a_full_disk_stays_true(small_disk: Any) -> None:
    report = small_disk.path
    two = [_entry("f1", "http://127.0.0.1:9", ["f1"]), _entry("f2", "http://127.0.0.1:9", ["f2"])]
    write_state(report, two)
    small_disk.fill()
    with pytest.raises(StateFileError, match="could not be rewritten"):
        write_state(
            report, [*two, *(_entry(f"f{i}", "http://127.0.0.1:9", [f"f{i}"]) for i in range(3, 9))]
        )
    assert json.loads((report / STATE_FILE).read_text()) == two  # an apply it cannot record
    write_state(report, two[:1])  # a heal: the file shrinks in place
    assert json.loads((report / STATE_FILE).read_text()) == two[:1]
    write_state(report, [])
    assert json.loads((report / STATE_FILE).read_text() or "[]") == []
    assert not (report / "faults.tmp").exists()


def test_a_compact_faults_state_also_shrinks_on_a_full_disk(small_disk: Any) -> None:
    """A faults.state written without indentation (by hand, by another tool): its indented
    rewrite would grow it, so `hothot heal` left a healed fault listed on a full disk."""
    report = small_disk.path
    entries = [_entry(f"f{i}", "http://127.0.0.1:9", [f"f{i}"]) for i in range(1, 6)]
    (report / STATE_FILE).write_text(json.dumps(entries, separators=(",", ":")))
    small_disk.fill()
    write_state(report, entries[1:])
    assert json.loads((report / STATE_FILE).read_text()) == entries[1:]


def test_write_state_on_a_read_only_disk_keeps_what_is_true(small_disk: Any) -> None:
    report = small_disk.path
    write_state(report, [])
    small_disk.read_only()
    write_state(report, [])  # the file already says it: nothing to change
    with pytest.raises(StateFileError):
        write_state(report, [_entry("f1", "http://127.0.0.1:9", ["f1"])])


def test_timeline_on_a_full_disk_leaves_nothing_applied_unlisted(
    clean_emulator: Emulator, small_disk: Any
) -> None:
    """The disk fills while a fault is applied and before the next: the next is never left
    applied (nothing could list it), the first is healed at the end, and faults.state ends
    empty or absent — before, it still listed a healed fault and the run crashed."""
    emu, report = clean_emulator, small_disk.path / "report"
    spec = ChaosSpec.model_validate(
        [
            PARTITION | {"at": 0, "for": "30s"},
            {"at": "300ms", "for": "30s", "fault": "clock_skew", "region": "us-west-2",
             "offset": "1s"},
        ]
    )  # fmt: skip
    timeline = Timeline(
        expand(spec, 1, REGIONS, 60), [EmulatorInjector(emu.control_url, REGIONS)], report
    )
    timeline.start()
    deadline = time.monotonic() + 10
    while not timeline.active() and time.monotonic() < deadline:
        time.sleep(0.01)
    small_disk.fill()
    time.sleep(0.6)  # the skew's start comes and goes
    try:
        state = emu.control.state()
        assert [f["fault"] for f in state["faults"].values()] == ["partition"]
        assert timeline.write_error is not None and "No space left" in timeline.write_error
    finally:
        timeline.stop()
    assert emu.clean()
    path = report / STATE_FILE
    assert not path.exists() or json.loads(path.read_text() or "[]") == []
    small_disk.free()
    assert heal_report(report).healed == []


def _pglogical_entry(handle: dict[str, Any]) -> dict[str, Any]:
    spec = {"at": "0s", "for": "60s", "fault": "clock_skew", "region": "us-east-1", "offset": "1s"}
    return {"id": "f1-pg", "fault": "clock_skew", "target": "us-east-1", "spec": spec,
            "applied": [{"injector": "pglogical", "handle": handle}]}  # fmt: skip


def test_a_crafted_pglogical_entry_runs_nothing_and_writes_nothing(tmp_path: Path) -> None:
    """Before, `hothot heal` restarted a 'cluster' with whatever program its pg_ctl named (as
    root) and rewrote whatever file a clock_file named. Now such entries are refused."""
    victim, marker = tmp_path / "victim", tmp_path / "ran"
    victim.write_text("precious\n")
    evil = tmp_path / "pg_ctl"
    evil.write_text(f"#!/bin/sh\ntouch {marker}\n")
    evil.chmod(0o755)
    cluster = {"region": "us-east-1", "port": 5999, "datadir": str(tmp_path),
               "clock_file": str(victim), "server_log": str(tmp_path / "log"),
               "pg_ctl": str(evil), "faketime": str(tmp_path / "evil.so")}  # fmt: skip
    for handle, needle in [
        ({"clock_file": str(victim), "region": "us-east-1"}, "file named clock"),
        ({"cluster": cluster}, "is not this machine's"),
        ({"disabled": [{"source": "a", "target": "b"}]}, "has no dsn, subscription"),
        (
            {
                "delays": [
                    {
                        "source": "a",
                        "target": "b",
                        "dsn": "d",
                        "subscription": "s",
                        "previous_delay_s": 1e308,
                    }
                ]
            },
            "previous_delay_s",
        ),  # fmt: skip
        ({"clock_file": str(victim), "rm": "-rf"}, "unknown field 'rm'"),
    ]:
        _write(tmp_path, [_pglogical_entry(handle)])
        with pytest.raises(HealError) as caught:
            heal_report(tmp_path)
        assert needle in str(caught.value), caught.value
    (tmp_path / "clock").write_text("+1.500000\n")  # a clock file hothot wrote passes
    _write(tmp_path, [_pglogical_entry({"clock_file": str(tmp_path / "clock")})])
    assert heal_report(tmp_path).failed == []
    assert (tmp_path / "clock").read_text() == "+0.000000\n"
    assert victim.read_text() == "precious\n" and not marker.exists()
