"""Seeded fuzzing of the emulator over the wire (issue 16): thousands of mutated requests of
every operation (numbers, types, missing fields, nesting, sizes, expressions) and HTTP
framing errors. Every answer is DynamoDB's shape (200, or 400/413 with a DynamoDB error
type), nothing is a 500, nothing reaches stderr, and the emulator serves on. The longer run is
`bench/fuzz.py`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.globaltable_fixtures import RunningEmulator, launch
from tests.wire_fuzz import RANGED, TABLE, framing_cases, fuzz_bodies, send_pipelined, send_raw

SEED = 16
REQUESTS = 5000


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningEmulator, Path]]:
    log = tmp_path_factory.mktemp("fuzz") / "stderr.log"
    with log.open("w") as stderr:
        emu = launch("--replication-delay", "5ms", "--replication-jitter", "5ms", stderr=stderr)
        emu.create_table(TABLE)
        emu.create_table(RANGED, sk="N")
        yield emu, log
        emu.stop()


def _address(emu: RunningEmulator) -> tuple[str, int]:
    url = urlsplit(emu.regions["us-east-1"])
    return url.hostname or "127.0.0.1", url.port or 80


def test_mutated_requests_get_dynamodb_answers(fuzzed: Any) -> None:
    emu, log = fuzzed
    started = time.monotonic()
    tally = send_pipelined(_address(emu), fuzz_bodies(SEED, REQUESTS))
    took = time.monotonic() - started
    assert sum(tally.statuses.values()) == REQUESTS
    assert not tally.wrong, "\n".join(tally.wrong[:10])
    # the mutations reach the validators, and valid requests still succeed
    assert tally.statuses[200] > REQUESTS // 20 and tally.statuses[400] > REQUESTS // 2
    assert tally.errors["ValidationException"] and tally.errors["SerializationException"]
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    print(f"{REQUESTS} requests in {took:.1f}s: {dict(tally.statuses)} {dict(tally.errors)}")


@pytest.mark.parametrize(("name", "data"), framing_cases(), ids=[n for n, _ in framing_cases()])
def test_broken_framing_never_gets_a_500(fuzzed: Any, name: str, data: bytes) -> None:
    emu, log = fuzzed
    answer = send_raw(_address(emu), data)
    if answer:
        status = int(answer.split(b" ", 2)[1])
        assert status < 500, (name, answer[:300])


def test_emulator_serves_on_after_fuzzing(fuzzed: Any) -> None:
    emu, log = fuzzed
    ddb = emu.client("eu-west-1")
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "alive"}, "n": {"N": "1"}})
    assert emu.control_client.quiesce(10)["converged"]
    got = emu.client("us-east-1").get_item(TableName=TABLE, Key={"pk": {"S": "alive"}})
    assert got["Item"]["n"] == {"N": "1"}
    assert "Traceback" not in log.read_text()


def test_same_seed_same_requests() -> None:
    assert list(fuzz_bodies(3, 200)) == list(fuzz_bodies(3, 200))
    assert list(fuzz_bodies(3, 200)) != list(fuzz_bodies(4, 200))
