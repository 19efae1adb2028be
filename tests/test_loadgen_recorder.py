"""History shards: format, trailer on clean close, at most ~1 s lost on SIGKILL."""

from __future__ import annotations

import contextlib
import inspect
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from loadgen.recorder import RecordIds, ShardWriter
from verdict.history import SCHEMA


def _lines(path: Path) -> list[dict[str, object]]:
    out = []
    for line in path.read_bytes().splitlines():
        with contextlib.suppress(orjson.JSONDecodeError):  # a torn last line
            out.append(orjson.loads(line))
    return out


def test_clean_close_writes_header_records_and_trailer(tmp_path: Path) -> None:
    ids = RecordIds("w3")
    with ShardWriter(tmp_path, "w3") as shard:
        for _ in range(5):
            shard({"id": ids.next(), "op": "put", "outcome": "ok"})
    lines = _lines(tmp_path / "history" / "w3.jsonl")
    assert lines[0]["schema"] == SCHEMA and lines[0]["worker"] == "w3"
    assert [r["id"] for r in lines[1:-1]] == [f"w3:{i}" for i in range(1, 6)]
    assert lines[-1] == {"end": True, "records": 5}
    with pytest.raises(ValueError, match="closed"):
        shard({"id": "x"})


def test_worker_names_with_colons_are_refused() -> None:
    with pytest.raises(ValueError, match="':'"):
        RecordIds("a:b")


#: how often a shard is flushed: about what a SIGKILL may cost, as the child writes
FLUSH_S = inspect.signature(ShardWriter).parameters["flush_interval"].default
#: appends a record every ~2 ms and prints each one's time, flushed or not
CHILD = textwrap.dedent(
    """
    import sys, time
    from loadgen.recorder import RecordIds, ShardWriter
    shard, ids = ShardWriter(sys.argv[1], "w0"), RecordIds("w0")
    start = time.time()
    while True:
        t = time.time()
        shard({"id": ids.next(), "op": "put", "outcome": "ok", "t_complete": t})
        print("ready" if start and t - start > 0.3 else t, flush=True)
        start = start if t - start <= 0.3 else 0
        time.sleep(0.002)
    """
)


@pytest.mark.slow
def test_sigkill_loses_at_most_about_a_second(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert "ready\n" in iter(child.stdout.readline, "")  # the times before it are skipped
        time.sleep(1.5)
        killed_at = time.time()
        os.kill(child.pid, signal.SIGKILL)
        produced = [float(line) for line in child.stdout.read().split()]
    finally:
        child.wait(timeout=10)
    records = [r for r in _lines(tmp_path / "history" / "w0.jsonl")[1:] if "t_complete" in r]
    assert records, "nothing reached the disk"
    assert "end" not in records[-1]
    lost_window = killed_at - float(records[-1]["t_complete"])  # type: ignore[arg-type]
    # one flush interval, plus however long the child (or this test) was kept from running:
    # the longest pause between its records up to the kill (~2 ms on an idle machine)
    stalled = max(b - a for a, b in itertools.pairwise([*produced, killed_at]))
    bound = FLUSH_S + stalled + 0.2
    assert lost_window < bound, f"the last {lost_window:.2f}s of history were lost (> {bound:.2f})"
