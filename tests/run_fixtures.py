"""Small campaigns and a way to run `hothot` as users do: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from verdict.history import open_shard, shard_files

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def campaign(name: str = "t", **fields: Any) -> dict[str, Any]:
    """A short three-region campaign; `fields` replace top-level sections."""
    base: dict[str, Any] = {
        "name": name,
        "seed": 11,
        "duration": "6s",
        "target": {
            "kind": "emulator",
            "regions": REGIONS,
            "table": "hothot-test",
            "replication": {"delay": "100ms", "jitter": "20ms"},
        },
        "writers": {"per_region": 3, "client": "boto3"},
        "workloads": [
            {"kind": "profile", "weight": 2, "keys": 20},
            {"kind": "counter", "weight": 1, "keys": 10},
            {"kind": "home_region", "weight": 1, "keys": 30},
        ],
        "chaos": [],
        "budgets": [],
        "observe": {"metrics_port": None, "probe_interval": "100ms"},
    }
    base.update(fields)
    return base


def write_campaign(tmp_path: Path, data: dict[str, Any], name: str = "campaign.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def hothot(*args: str, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hothot", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        **kw,
    )


def start_hothot(*args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hothot", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        **kw,
    )


def history_records(report_dir: Path) -> list[dict[str, Any]]:
    out = []
    for shard in shard_files(report_dir / "history"):
        with open_shard(shard) as f:
            lines = f.read().splitlines()
        for line in lines:
            rec = json.loads(line)
            if "op" in rec:
                out.append(rec)
    return out


def verdict(report_dir: Path) -> dict[str, Any]:
    return json.loads((report_dir / "verdict.json").read_text(encoding="utf-8"))
