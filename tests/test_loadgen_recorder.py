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
from verdict.history import SCHEMA, open_shard


def _lines(path: Path) -> list[dict[str, object]]:
    out = []
    with open_shard(path) as f:
        data = f.read()
    for line in data.splitlines():
        with contextlib.suppress(orjson.JSONDecodeError):  # a torn last line
            out.append(orjson.loads(line))
    return out


def test_clean_close_writes_header_records_and_trailer(tmp_path: Path) -> None:
    ids = RecordIds("w3")
    with ShardWriter(tmp_path, "w3") as shard:
        for _ in range(5):
            shard({"id": ids.next(), "op": "put", "outcome": "ok"})
    lines = _lines(tmp_path / "history" / "w3.jsonl.zst")
    assert lines[0]["schema"] == SCHEMA and lines[0]["worker"] == "w3"
    assert [r["id"] for r in lines[1:-1]] == [f"w3:{i}" for i in range(1, 6)]
    assert lines[-1] == {"end": True, "records": 5}
    with pytest.raises(ValueError, match="closed"):
        shard({"id": "x"})


def test_a_torn_last_frame_loses_only_what_it_held(tmp_path: Path) -> None:
    """Each flush is one zstd frame; a kill in the middle of writing one tears it. Readers
    get every earlier frame whole and the torn one as far as it decodes."""
    shard = ShardWriter(tmp_path, "w5", flush_interval=3600)
    for i in range(1, 201):
        shard({"id": f"w5:{i}", "op": "put", "outcome": "ok", "pad": "x" * (i % 7)})
        if i % 50 == 0:
            shard.flush()  # frames of 50 records
    shard.close()
    path = tmp_path / "history" / "w5.jsonl.zst"
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 40])  # the last frame (records 151-200 + trailer) torn
    ids = [r["id"] for r in _lines(path)[1:] if "id" in r]
    assert ids[:150] == [f"w5:{i}" for i in range(1, 151)]
    assert ids == [f"w5:{i}" for i in range(1, len(ids) + 1)], "a frame read out of order"
    assert "end" not in _lines(path)[-1]


def test_uncompressed_shards_are_plain_json_lines(tmp_path: Path) -> None:
    with ShardWriter(tmp_path, "w6", compress=False) as shard:
        shard({"id": "w6:1", "op": "put", "outcome": "ok"})
    lines = (tmp_path / "history" / "w6.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line).get("id") for line in lines] == [None, "w6:1", None]


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
    records = [r for r in _lines(tmp_path / "history" / "w0.jsonl.zst")[1:] if "t_complete" in r]
    assert records, "nothing reached the disk"
    assert "end" not in records[-1]
    lost_window = killed_at - float(records[-1]["t_complete"])  # type: ignore[arg-type]
    # one flush interval, plus however long the child (or this test) was kept from running:
    # the longest pause between its records up to the kill (~2 ms on an idle machine)
    stalled = max(b - a for a, b in itertools.pairwise([*produced, killed_at]))
    bound = FLUSH_S + stalled + 0.2
    assert lost_window < bound, f"the last {lost_window:.2f}s of history were lost (> {bound:.2f})"
