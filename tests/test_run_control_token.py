"""`hothot run` and the control API's shared token (issue 16, case 7): a token-guarded
emulator is driven with `target.control_token` (never written to the report), refused with
exit 2 and a clear line without it; the emulator a run starts itself gets a token of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from globaltable.control import ControlClient, ControlError
from hothot.target import start_emulator, stop_processes
from hothot.targetspec import TargetSpec
from tests.globaltable_fixtures import RunningEmulator, launch
from tests.run_fixtures import campaign, hothot, verdict, write_campaign

TOKEN = "t0ken-for-the-test"


@pytest.fixture(scope="module")
def guarded() -> Iterator[RunningEmulator]:
    env = {**os.environ, "HOTHOT_CONTROL_TOKEN": TOKEN}
    running = launch("--replication-delay", "20ms", "--replication-jitter", "0ms", env=env)
    yield running
    running.stop()


def _campaign(tmp_path: Path, emu: RunningEmulator, **target: Any) -> Path:
    data = campaign(
        "token",
        duration="3s",
        target={
            "kind": "endpoints",
            "regions": list(emu.regions),
            "table": "hothot-token",
            "endpoints": dict(emu.regions),
            "control": emu.control,
            **target,
        },
        chaos=[{"at": "500ms", "for": "1s", "fault": "partition", "region": "eu-west-1"}],
    )
    return write_campaign(tmp_path, data)


@pytest.fixture(autouse=True)
def _no_token_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTHOT_CONTROL_TOKEN", raising=False)


def test_run_sends_the_campaigns_token(guarded: RunningEmulator, tmp_path: Path) -> None:
    report = tmp_path / "report"
    path = _campaign(tmp_path, guarded, control_token=TOKEN)
    done = hothot("run", str(path), "--report-dir", str(report))
    assert done.returncode == 0, done.stderr[-3000:]
    assert verdict(report)["truth"] is not None  # /truth answered with the token
    assert TOKEN not in (report / "campaign.yaml").read_text()
    assert "control_token" not in yaml.safe_load((report / "campaign.yaml").read_text())["target"]
    assert ControlClient(guarded.control, token=TOKEN).state()["faults"] == {}


def test_run_without_the_token_is_refused_before_any_load(
    guarded: RunningEmulator, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    done = hothot("run", str(_campaign(tmp_path, guarded)), "--report-dir", str(report))
    assert done.returncode == 2, done.stderr[-3000:]
    assert "HOTHOT_CONTROL_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert not (report / "history").exists()


def test_the_token_may_come_from_the_environment(
    guarded: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "report"
    monkeypatch.setenv("HOTHOT_CONTROL_TOKEN", TOKEN)
    done = hothot("run", str(_campaign(tmp_path, guarded)), "--report-dir", str(report))
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_emulator_a_run_starts_has_a_token_of_its_own() -> None:
    target = start_emulator(TargetSpec(), seed=1)
    try:
        assert target.control is not None and target.control_token
        with pytest.raises(ControlError) as caught:
            ControlClient(target.control, token="").state()
        assert caught.value.status == 401
        assert target.control_client().state()["regions"]
    finally:
        assert target.process is not None
        stop_processes([target.process])
