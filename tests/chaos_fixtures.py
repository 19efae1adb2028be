"""Fixtures for the chaos tests: a separately started `hothot emulate` process (as an
`endpoints` + `control` target would be), boto3 clients for its regions, small waits."""

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

import boto3
import pytest

from globaltable.control import ControlClient

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
TABLE = "hothot-chaos"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Emulator:
    process: subprocess.Popen[str]
    regions: dict[str, str]
    control_url: str

    @property
    def control(self) -> ControlClient:
        return ControlClient(self.control_url)

    def dynamo(self, region: str) -> Any:
        return boto3.client(
            "dynamodb",
            region_name=region,
            endpoint_url=self.regions[region],
            aws_access_key_id="hothot",
            aws_secret_access_key="hothot",
        )

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
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hothot",
            "emulate",
            "--port",
            "0",
            "--control-port",
            "0",
            "--replication-delay",
            delay,
            "--replication-jitter",
            "0",
            "--seed",
            "1",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        banner = json.loads(process.stdout.readline())
        emulator = Emulator(process, banner["regions"], banner["control"])
        emulator.dynamo(REGIONS[0]).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield emulator
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator() as emu:
        yield emu


@pytest.fixture
def clean_emulator(emulator: Emulator) -> Iterator[Emulator]:
    emulator.control.heal_all()
    yield emulator
    emulator.control.heal_all()


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
    control_url: str, report_dir: Path, schedule: list[dict[str, Any]]
) -> subprocess.Popen[str]:
    """Start tests/chaos_driver.py: a process running a Timeline against the emulator."""
    return subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "chaos_driver.py"),
            control_url,
            str(report_dir),
            json.dumps(schedule),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )
