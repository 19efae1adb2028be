"""Interrupting `hothot run` never leaves a fault applied (DESIGN §9), against an emulator the
run did not start itself (`endpoints` + `control`), so the emulator outlives the run."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.run_fixtures import REGIONS, campaign, hothot, start_hothot, write_campaign
from verdict.history import open_shard, shard_files

pytestmark = pytest.mark.slow


def _endpoint_campaign(emulator: object) -> dict:
    return campaign(
        "interrupt",
        duration="40s",
        target={
            "kind": "endpoints",
            "regions": REGIONS,
            "table": "hothot-interrupt",
            "endpoints": emulator.regions,  # type: ignore[attr-defined]
            "control": emulator.control,  # type: ignore[attr-defined]
        },
        chaos=[
            {"at": "1s", "for": "30s", "fault": "partition", "regions": ["us-east-1", "eu-west-1"]},
            {
                "at": "1s",
                "for": "30s",
                "fault": "clock_skew",
                "region": "us-west-2",
                "offset": "2s",
            },
        ],
    )


def _wait_for_faults(control_client: object, n: int, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(control_client.state()["faults"]) >= n:  # type: ignore[attr-defined]
            return
        time.sleep(0.2)
    raise AssertionError("the run never applied its faults")


def _interrupted_run(
    launcher: Callable[..., Any], tmp_path: Path, signum: int, pause_s: float
) -> tuple[Any, Path, int, str]:
    """Start a run against its own emulator, wait until both faults are applied and
    `pause_s` more, then send `signum`. Returns (emulator, report dir, exit code, stderr)."""
    emulator = launcher("--replication-delay", "100ms", "--replication-jitter", "0ms")
    path = write_campaign(tmp_path, _endpoint_campaign(emulator))
    report = tmp_path / "report"
    proc = start_hothot("run", str(path), "--report-dir", str(report))
    try:
        _wait_for_faults(emulator.control_client, 2)
        time.sleep(pause_s)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    return emulator, report, proc.returncode, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_heals_and_exits_130(start_emulator, tmp_path: Path, signum: int) -> None:  # noqa: F811
    emulator, report, code, err = _interrupted_run(start_emulator, tmp_path, signum, 1.0)
    assert code == 130, err[-3000:]
    state = emulator.control_client.state()
    assert state["faults"] == {}
    assert state["clocks"]["us-west-2"] == 0.0
    assert json.loads((report / "faults.state").read_text()) == []
    events = [json.loads(line) for line in (report / "chaos.jsonl").read_text().splitlines()]
    assert sorted(e["event"] for e in events) == ["heal", "heal", "start", "start"]
    v = json.loads((report / "verdict.json").read_text())
    assert v["partial"] is True and v["totals"]["writes_ok"] > 0


def test_sigkill_leaves_state_that_heal_undoes(start_emulator, tmp_path: Path) -> None:  # noqa: F811
    # 1.5 s: more than the recorder's flush interval, so the shard has records on disk
    emulator, report, _, _ = _interrupted_run(start_emulator, tmp_path, signal.SIGKILL, 1.5)
    assert len(emulator.control_client.state()["faults"]) == 2  # SIGKILL cannot heal
    lines = 0
    for shard in shard_files(report / "history"):
        with open_shard(shard) as f:
            lines += len(f.read().splitlines())
    assert lines > 10
    healed = hothot("heal", str(report))
    assert healed.returncode == 0, healed.stderr
    assert emulator.control_client.state()["faults"] == {}
    assert hothot("heal", str(report)).returncode == 0  # nothing left: still fine
