"""A running `hothot emulate` for tests, as a real subprocess.

Its fixtures reach every test through tests/conftest.py (no import needed):

    def test_something(emulator):                       # 3 regions, default delays
        ddb = emulator.client("us-east-1")              # boto3 client, dummy credentials
        emulator.control_client.apply({"fault": "partition", "regions": [...]})

    @pytest.fixture
    def fast(start_emulator):                           # your own options
        return start_emulator("--replication-delay", "50ms", "--replication-jitter", "0ms")

`start_emulator(*args)` accepts any `hothot emulate` options; it always adds `--port 0
--control-port 0`. The object has `.regions` {region: url}, `.control` (url),
`.control_client` (ControlClient), `.client(region, retries=0)`, `.resource(region)` and
`.create_table(name)` (hash key `pk` S, the campaign schema).
Every emulator is terminated at teardown.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from globaltable.control import ControlClient
from hothot.target import stop_processes

CREDENTIALS = {"aws_access_key_id": "hothot", "aws_secret_access_key": "hothot"}


class RunningEmulator:
    def __init__(self, process: subprocess.Popen[str], banner: dict[str, Any]) -> None:
        self.process = process
        self.regions: dict[str, str] = banner["regions"]
        self.control: str = banner["control"]
        self.metrics: str = banner["metrics"]
        self.control_client = ControlClient(self.control)

    def client(self, region: str, retries: int = 0, timeout_s: float = 10.0) -> Any:
        """A boto3 DynamoDB client for one region (no retries unless asked: tests see errors)."""
        config = Config(
            retries={"total_max_attempts": retries + 1, "mode": "standard"},
            read_timeout=timeout_s,
            connect_timeout=timeout_s,
        )
        return boto3.client(
            "dynamodb",
            region_name=region,
            endpoint_url=self.regions[region],
            config=config,
            **CREDENTIALS,
        )

    def create_table(
        self, name: str, region: str | None = None, *, pk: str = "S", sk: str | None = None
    ) -> str:
        """A global table with the campaign schema (hash key `pk`, S) unless told otherwise:
        `pk` the hash key's type, `sk` the type of a range key `sk`. Returns its name."""
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        types = [{"AttributeName": "pk", "AttributeType": pk}]
        if sk is not None:
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
            types.append({"AttributeName": "sk", "AttributeType": sk})
        self.client(region or next(iter(self.regions))).create_table(
            TableName=name,
            KeySchema=keys,
            AttributeDefinitions=types,
            BillingMode="PAY_PER_REQUEST",
        )
        return name

    def resource(self, region: str) -> Any:
        return boto3.resource(
            "dynamodb", region_name=region, endpoint_url=self.regions[region], **CREDENTIALS
        )

    def stop(self) -> None:
        stop_processes([self.process])


def launch(*args: str, stderr: Any = None, env: dict[str, str] | None = None) -> RunningEmulator:
    """`stderr`: where the emulator's stderr goes (a file, to assert it stayed quiet);
    `env`: its environment (default: this process's)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hothot", "emulate", "--port", "0", "--control-port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise RuntimeError(
            f"hothot emulate {' '.join(args)} exited with {process.returncode} before its banner"
        )
    return RunningEmulator(process, json.loads(line))


def quick_emulator(table: str) -> Iterator[RunningEmulator]:
    """For a module fixture: an emulator replicating in ~20 ms, holding `table`."""
    running = launch("--replication-delay", "20ms", "--replication-jitter", "0ms")
    running.create_table(table)
    yield running
    running.stop()


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    started: list[RunningEmulator] = []

    def start(*args: str) -> RunningEmulator:
        emu = launch(*args)
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """One default emulator (3 regions, 800 ms ± 400 ms) shared by a test module."""
    emu = launch()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def fast_emu() -> Iterator[RunningEmulator]:
    """An emulator replicating in 20 ms (no jitter) whose TTL sweeper runs only when asked
    (`control_client.sweep_ttl()`), shared by a test module."""
    emu = launch(
        "--replication-delay", "20ms", "--replication-jitter", "0ms", "--ttl-sweep-interval", "0s"
    )
    yield emu
    emu.stop()


@pytest.fixture
def east_ddb(fast_emu: RunningEmulator) -> Any:
    """A boto3 client of us-east-1 on `fast_emu`."""
    return fast_emu.client("us-east-1")


@pytest.fixture
def east_table(fast_emu: RunningEmulator) -> str:
    """A fresh table (hash key pk, S) on `fast_emu`, created through us-east-1."""
    return fast_emu.create_table(f"t-{next(_tables)}", "us-east-1")


_tables = itertools.count()


def client_error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    """(code, message) of the ClientError `call(**kwargs)` must raise."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]
