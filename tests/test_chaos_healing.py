"""chaos: no interruption leaves a fault behind. A driver process runs a Timeline against a
separately started emulator; mid-partition-and-skew it gets SIGINT, SIGTERM or SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hothot.cli import main
from tests.chaos_fixtures import REPO, Emulator, driver
from verdict.history import CHAOS_LOG, fault_windows

SCHEDULE = [
    {"at": 0, "for": "60s", "fault": "partition", "regions": ["us-east-1", "eu-west-1"]},
    {"at": 0, "for": "60s", "fault": "clock_skew", "region": "eu-west-1", "offset": "2s"},
]


def start_and_wait_active(
    emu: Emulator, report_dir: Path, gevent: bool = False
) -> subprocess.Popen[str]:
    process = driver(emu.control_url, report_dir, SCHEDULE, gevent)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "active", process.stderr.read() if process.stderr else line
    state = emu.control.state()
    assert {f["fault"] for f in state["faults"].values()} == {"partition", "clock_skew"}
    return process


def hothot_heal(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hothot", "heal", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "gevent"),
    [
        (signal.SIGINT, False),
        (signal.SIGTERM, False),
        (signal.SIGTERM, True),
        (signal.SIGINT, True),
    ],
    ids=["SIGINT", "SIGTERM", "SIGTERM-gevent", "SIGINT-gevent"],
)
def test_interrupted_run_heals_and_exits_130(
    clean_emulator: Emulator, tmp_path: Path, signum: int, gevent: bool
) -> None:
    emu = clean_emulator
    process = start_and_wait_active(emu, tmp_path, gevent)
    process.send_signal(signum)
    assert process.wait(timeout=30) == 130
    assert emu.clean(), emu.control.state()
    assert json.loads((tmp_path / "faults.state").read_text()) == []
    windows = fault_windows((tmp_path / CHAOS_LOG).read_bytes().splitlines())
    assert sorted(w["fault"] for w in windows) == ["clock_skew", "partition"]
    assert all(w["heal"] is not None for w in windows)


@pytest.mark.slow
def test_sigkilled_run_is_healed_by_hothot_heal(clean_emulator: Emulator, tmp_path: Path) -> None:
    emu = clean_emulator
    report = tmp_path / "reports" / "quickstart-20260101-000000"
    process = start_and_wait_active(emu, report)
    process.kill()
    process.wait(timeout=10)
    assert not emu.clean()  # SIGKILL: nobody healed
    left = json.loads((report / "faults.state").read_text())
    assert sorted(e["fault"] for e in left) == ["clock_skew", "partition"]
    # with no argument, hothot heal picks the newest report under ./reports
    older = tmp_path / "reports" / "older"
    older.mkdir()
    (older / "faults.state").write_text("[]")
    mtime = (report / "faults.state").stat().st_mtime
    os.utime(older / "faults.state", (mtime - 60, mtime - 60))
    healed = hothot_heal(cwd=tmp_path)
    assert healed.returncode == 0, healed.stderr
    assert "healed f1-partition partition us-east-1<->eu-west-1 via emulator" in healed.stdout
    assert "via client: nothing to undo" in healed.stdout
    assert emu.clean()
    assert json.loads((report / "faults.state").read_text()) == []
    windows = fault_windows((report / CHAOS_LOG).read_bytes().splitlines())
    assert all(w["heal"] is not None for w in windows) and len(windows) == 2
    # the late heal event speaks the timeline's format: the same params as its start event
    events = [json.loads(line) for line in (report / CHAOS_LOG).read_text().splitlines()]
    for late in (e for e in events if e.get("note")):
        start = next(e for e in events if e["id"] == late["id"] and e["event"] == "start")
        assert (late["fault"], late["target"], late["params"]) == (
            start["fault"],
            start["target"],
            start["params"],
        )
    again = hothot_heal(str(report))
    assert again.returncode == 0 and "nothing to heal" in again.stdout


def heal_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["heal", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_hothot_heal_refuses_what_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = heal_in_process(capsys, str(tmp_path))
    assert code == 2 and f"{tmp_path}/faults.state not found" in err
    monkeypatch.chdir(tmp_path)
    code, _, err = heal_in_process(capsys)
    assert code == 2 and "no REPORT_DIR given and reports is not a directory" in err
    (tmp_path / "reports").mkdir()
    code, _, err = heal_in_process(capsys)
    assert code == 2 and (
        "no report directory with a faults.state or pglogical/clusters.json under reports" in err
    )
    (tmp_path / "faults.state").write_text("{not json")
    code, _, err = heal_in_process(capsys, str(tmp_path))
    assert code == 2 and "faults.state: not valid JSON" in err
    (tmp_path / "faults.state").write_text('{"id": 1}')
    code, _, err = heal_in_process(capsys, str(tmp_path))
    assert code == 2 and "expected a JSON list of applied faults" in err
    # an emulator that is gone: the fault stays in the state file, exit 2
    (tmp_path / "faults.state").write_text(
        json.dumps(
            [
                {
                    "id": "f1-region_outage",
                    "fault": "region_outage",
                    "target": "eu-west-1",
                    "spec": {
                        "at": "0s",
                        "for": "5s",
                        "fault": "region_outage",
                        "region": "eu-west-1",
                    },
                    "applied": [
                        {
                            "injector": "emulator",
                            "handle": {"control": "http://127.0.0.1:9", "ids": ["f1"]},
                        }
                    ],
                }
            ]
        )
    )
    code, _, err = heal_in_process(capsys, str(tmp_path))
    assert code == 2
    assert "could not heal f1-region_outage region_outage eu-west-1: emulator:" in err
    assert "1 fault(s) still applied" in err
    assert len(json.loads((tmp_path / "faults.state").read_text())) == 1


def outage_entry(control: str, handle: dict[str, object]) -> list[dict[str, object]]:
    """A faults.state left by a killed run: an outage of eu-west-1 applied as `handle`."""
    spec = {"at": "0s", "for": "5s", "fault": "region_outage", "region": "eu-west-1"}
    return [
        {
            "id": "f1-region_outage",
            "fault": "region_outage",
            "target": "eu-west-1",
            "spec": spec,
            "applied": [{"injector": "emulator", "handle": {"control": control, **handle}}],
        }
    ]


def test_hothot_heal_never_heals_a_restarted_emulators_faults(
    clean_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fault ids restart with the emulator: `f1` in an old faults.state names whatever fault
    a restarted emulator numbered f1 since. hothot heal must leave that one alone."""
    emu = clean_emulator
    other = emu.control.apply({"fault": "partition", "regions": ["us-east-1", "us-west-2"]})
    stale = {"ids": [other], "instance": "0000000000000000"}  # another emulator process
    (tmp_path / "faults.state").write_text(json.dumps(outage_entry(emu.control_url, stale)))
    code, out, _ = heal_in_process(capsys, str(tmp_path))
    assert code == 0
    assert "nothing to undo, the emulator at" in out and "was restarted" in out, out
    assert other in emu.control.state()["faults"]  # the unrelated partition is still there
    assert json.loads((tmp_path / "faults.state").read_text()) == []
    emu.control.heal(other)


def test_hothot_heal_says_when_a_fault_was_already_healed(
    clean_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = clean_emulator
    fid = emu.control.apply({"fault": "region_outage", "region": "eu-west-1"})
    same = {"ids": [fid], "instance": emu.control.state()["instance"]}
    (tmp_path / "faults.state").write_text(json.dumps(outage_entry(emu.control_url, same)))
    code, out, _ = heal_in_process(capsys, str(tmp_path))
    assert code == 0 and "healed f1-region_outage region_outage eu-west-1 via emulator" in out
    assert emu.clean()
    (tmp_path / "faults.state").write_text(json.dumps(outage_entry(emu.control_url, same)))
    code, out, _ = heal_in_process(capsys, str(tmp_path))
    assert code == 0 and "nothing to undo, already healed" in out, out
