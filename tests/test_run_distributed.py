"""Distributed mode: a master and two local Locust workers on loopback (issue 8), and the
history stream between them (worker batches to master shards) on its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.run_fixtures import (
    campaign,
    history_records,
    run_with_two_workers,
    verdict,
)
from verdict.history import open_shard, shard_files, shard_name

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_two_workers_every_operation_once(tmp_path: Path) -> None:
    data = campaign(
        "dist",
        duration="6s",
        chaos=[
            {"at": "1s", "for": "3s", "fault": "clock_skew", "region": "eu-west-1", "offset": "2s"}
        ],
    )
    proc, report = run_with_two_workers(tmp_path, data)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    shards = [shard_name(p) for p in shard_files(report / "history")]
    assert shards == ["master", "w1", "w2"]
    records = history_records(report)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "an operation appears twice in the merged history"
    writers = {r["worker"] for r in records if r["op"] in ("put", "update")}
    assert writers == {"w1", "w2"}
    workers = json.loads((report / "workers.json").read_text())
    assert all(not w["lost"] and w["unsent"] == 0 for w in workers.values())
    v = verdict(report)
    assert v["partial"] is False
    assert v["truth"]["lost_updates"] == v["totals"]["lost_updates"]
    assert v["truth"]["conflicts"] == v["totals"]["conflicts"]


def _records(n: int) -> list[dict[str, Any]]:
    """Writes, reads and failures over three regions and a few keys, as users make them."""
    regions, ops = ["us-east-1", "us-west-2", "eu-west-1"], ["put", "update", "get", "delete"]
    return [
        {"id": f"w1:{i}", "worker": "w1", "region": regions[i % 3], "workload": "profile",
         "key": f"profile#{i % 7}" if i % 4 != 2 else f"read-only#{i}", "op": ops[i % 4],
         "outcome": "fail" if i % 5 == 0 else "ok", "t_invoke": 1.0 + i, "t_complete": 1.5 + i}
        for i in range(n)
    ]  # fmt: skip


def _stream_to_receiver(report_dir: str) -> None:
    """In a child process (hothot.distributed imports Locust, which patches gevent): a
    worker's HistoryStream with a channel that fails now and then, into the master's
    HistoryReceiver; the shard must hold exactly the records, in order, each once."""
    from locust.exception import RPCSendError

    import hothot.worker
    from hothot.channel import HistoryReceiver
    from loadgen.engine import RegionStats
    from loadgen.hub import RecordHub, WrittenKeys
    from loadgen.recorder import ShardSet
    from verdict.history import encode

    hothot.worker.MAX_BATCH = 7  # many batches, so keys and counts cross batch boundaries
    hub = RecordHub()
    shards = ShardSet(Path(report_dir), "master").subscribe(hub)
    stats, touched = RegionStats(["us-east-1", "us-west-2", "eu-west-1"]), WrittenKeys()
    hub.batch.add_listener(stats.on_batch)
    hub.batch.add_listener(touched.on_batch)
    receiver = HistoryReceiver(hub)

    class Channel:
        """Locust's worker runner as the stream sees it: every third send fails."""

        sends = 0

        def send_message(self, kind: str, data: dict[str, Any]) -> None:
            self.sends += 1
            if self.sends % 3 == 0:
                raise RPCSendError("queue full")
            receiver.on_history(None, type("Msg", (), {"data": data})())

    stream = hothot.worker.HistoryStream(Channel(), "w1")
    records = _records(50)
    for rec in records[:30]:
        stream(rec)
    while stream.send_batch() != 0:
        pass
    for rec in records[30:]:
        stream(rec)
    while stream.send_batch() != 0:
        pass
    shards.close()
    with open_shard(Path(report_dir) / "history" / "w1.jsonl.zst") as f:
        lines = f.read().splitlines(keepends=True)
    assert lines[1:-1] == [encode(r) for r in records]  # header and trailer around them
    assert json.loads(lines[-1]) == {"end": True, "records": 50}
    assert touched == {r["key"] for r in records if r["op"] != "get"}
    snapshot = stats.snapshot()
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        mine = [r for r in records if r["region"] == region]
        assert snapshot[region].ops == len(mine)
        assert snapshot[region].errors == sum(r["outcome"] != "ok" for r in mine)
    tally = receiver.tallies["w1"]
    assert tally.received == tally.produced == 50


def test_history_stream_batches_reach_the_shard_exactly(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c",
         f"from tests.test_run_distributed import _stream_to_receiver as f; f({str(tmp_path)!r})"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
