"""`hothot run` and `hothot analyze` when the report directory refuses writes (issue 16, case
5): the run stops its load early, heals every fault, and ends with exit 2 and one line that
says why (before: exit 1, "a budget is exceeded", with tracebacks). Needs a small tmpfs
(skipped where it cannot mount)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.globaltable_fixtures import RunningEmulator, launch
from tests.run_fixtures import campaign, hothot, write_campaign


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    running = launch("--replication-delay", "20ms", "--replication-jitter", "0ms")
    yield running
    running.stop()


def _campaign(where: Path, emu: RunningEmulator, duration: str = "20s") -> Path:
    data = campaign(
        "disk",
        duration=duration,
        target={
            "kind": "endpoints",
            "regions": list(emu.regions),
            "table": "hothot-disk",
            "endpoints": dict(emu.regions),
            "control": emu.control,
        },
        writers={"per_region": 4, "client": "boto3"},
        chaos=[{"at": "200ms", "for": "2s", "fault": "partition", "region": "eu-west-1"}],
    )
    return write_campaign(where, data)


def _one_exit_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("exit ")]
    assert len(lines) == 1, stdout[-3000:]
    return lines[0]


def test_a_disk_that_fills_mid_run_ends_it_early_with_exit_2(
    emu: RunningEmulator, small_disk: Any, tmp_path: Path
) -> None:
    report = small_disk.path / "report"
    report.mkdir()
    path = _campaign(tmp_path, emu)
    small_disk.fill(leave=6 * 4096)  # campaign.yaml, run.json, chaos files, a page of history
    started = time.monotonic()
    done = hothot("run", str(path), "--report-dir", str(report), timeout=90)
    took = time.monotonic() - started
    assert done.returncode == 2, (done.stdout[-2000:], done.stderr[-3000:])
    line = _one_exit_line(done.stdout)
    assert "No space left on device" in line and str(report) in line, line
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert took < 15, f"the load went on for {took:.0f}s of 20 on a full disk"
    assert emu.control_client.state()["faults"] == {}  # healed on the emulator
    state = report / "faults.state"
    assert not state.exists() or json.loads(state.read_text() or "[]") == []
    assert not (report / "verdict.json").exists()  # no verdict of an incomplete history

    analysed = hothot("analyze", str(report), timeout=60)  # the disk is still full
    assert analysed.returncode == 2, (analysed.stdout[-2000:], analysed.stderr[-3000:])
    assert "Traceback" not in analysed.stderr, analysed.stderr[-3000:]
    assert "No space left on device" in analysed.stdout + analysed.stderr
    assert not (report / "verdict.json").exists()  # none rather than a truncated one


def test_a_read_only_report_directory_is_exit_2_before_any_load(
    emu: RunningEmulator, small_disk: Any, tmp_path: Path
) -> None:
    small_disk.read_only()
    report = small_disk.path / "report"
    done = hothot("run", str(_campaign(tmp_path, emu, "3s")), "--report-dir", str(report))
    assert done.returncode == 2, (done.stdout[-2000:], done.stderr[-3000:])
    line = _one_exit_line(done.stdout)
    assert "Read-only file system" in line and str(report) in line, line
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert emu.control_client.state()["faults"] == {}
