"""The emulator a run starts dies with the run, even when the run is SIGKILLed (it cannot heal
or stop anything then): an orphaned emulator would hold its ports forever."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.run_fixtures import campaign, start_hothot, write_campaign

pytestmark = pytest.mark.slow


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _emulator_child(runner: psutil.Process, report: Path, timeout: float = 60.0) -> psutil.Process:
    """The runner's emulator child, once the run is past its target setup."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = [c for c in runner.children() if "emulate" in " ".join(c.cmdline())]
        if children and (report / "history").is_dir():
            return children[0]
        time.sleep(0.1)
    raise AssertionError("the run never started its emulator")


def test_sigkilled_runner_takes_its_emulator_down(tmp_path: Path) -> None:
    data = campaign(
        "orphan",
        duration="30s",
        chaos=[
            {"at": "1s", "for": "25s", "fault": "partition", "regions": ["us-east-1", "eu-west-1"]}
        ],
    )
    report = tmp_path / "report"
    proc = start_hothot("run", str(write_campaign(tmp_path, data)), "--report-dir", str(report))
    emulator: psutil.Process | None = None
    try:
        emulator = _emulator_child(psutil.Process(proc.pid), report)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10.0
        while not _gone(emulator) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(emulator), f"emulator {emulator.pid} outlived its SIGKILLed runner"
    finally:
        if proc.poll() is None:
            proc.kill()
        if emulator is not None and not _gone(emulator):
            emulator.kill()
        proc.communicate(timeout=10)
