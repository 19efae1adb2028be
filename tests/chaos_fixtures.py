"""Fixtures for the chaos tests: a separately started `hothot emulate` process (as an
`endpoints` + `control` target would be), boto3 clients for its regions, small waits.

Fixtures (`chaos_emulator`, `clean_emulator`, `stubbed_fis`) reach every test through
tests/conftest.py; import only the helpers (`Emulator`, `wait_for`, `driver`, ...)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from globaltable.control import ControlClient
from tests.globaltable_fixtures import RunningEmulator, launch

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
TABLE = "hothot-chaos"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Emulator:
    """The shared test emulator, plus what the chaos tests ask of it."""

    running: RunningEmulator

    @property
    def control_url(self) -> str:
        return self.running.control

    @property
    def control(self) -> ControlClient:
        return self.running.control_client

    def dynamo(self, region: str) -> Any:
        return self.running.client(region)

    def clean(self) -> bool:
        """Nothing applied: no fault, no clock offset, no paused link, no outage."""
        state = self.control.state()
        return (
            state["faults"] == {}
            and not any(state["clocks"].values())
            and not any(link.get("paused") for link in state["links"].values())
            and state["outages"] == []
        )


@contextlib.contextmanager
def running_emulator(delay: str = "100ms") -> Iterator[Emulator]:
    running = launch("--replication-delay", delay, "--replication-jitter", "0ms", "--seed", "1")
    try:
        running.client(REGIONS[0]).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield Emulator(running)
    finally:
        running.stop()


@pytest.fixture(scope="module")
def chaos_emulator() -> Iterator[Emulator]:
    """A module's emulator replicating in 100 ms, holding the chaos tests' table."""
    with running_emulator() as emu:
        yield emu


@pytest.fixture
def clean_emulator(chaos_emulator: Emulator) -> Iterator[Emulator]:
    """`chaos_emulator` with nothing applied before and after the test."""
    chaos_emulator.control.heal_all()
    yield chaos_emulator
    chaos_emulator.control.heal_all()


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, every: float = 0.02) -> Any:
    """Poll until `condition()` is truthy; its value, or AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


def driver(
    control_url: str, report_dir: Path, schedule: list[dict[str, Any]], gevent: bool = False
) -> subprocess.Popen[str]:
    """Start tests/chaos_driver.py: a process running a Timeline against the emulator."""
    return subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "chaos_driver.py"),
            control_url,
            str(report_dir),
            json.dumps(schedule),
            *(["gevent"] if gevent else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )


@pytest.fixture
def stubbed_fis(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    """A boto3 FIS client whose answers the test queues (botocore Stubber; no AWS here), and
    FIS polling without sleeps. Every queued answer must be used."""
    import boto3
    from botocore.stub import Stubber

    from chaos.injectors.aws import AwsFisInjector

    monkeypatch.setattr(AwsFisInjector, "poll_s", 0.0)
    client = boto3.client(
        "fis",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()
