"""Distributed mode: a master and two local Locust workers on loopback (issue 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.run_fixtures import campaign, history_records, hothot, verdict, write_campaign

pytestmark = pytest.mark.slow


def test_two_workers_every_operation_once(tmp_path: Path) -> None:
    data = campaign(
        "dist",
        duration="6s",
        chaos=[
            {"at": "1s", "for": "3s", "fault": "clock_skew", "region": "eu-west-1", "offset": "2s"}
        ],
    )
    report = tmp_path / "report"
    proc = hothot(
        "run", str(write_campaign(tmp_path, data)), "--workers", "2",
        "--master-bind", "127.0.0.1:0", "--report-dir", str(report), timeout=180,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    shards = sorted(p.stem for p in (report / "history").glob("*.jsonl"))
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
