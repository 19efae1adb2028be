"""Small campaigns and a way to run `hothot` as users do: a real subprocess."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
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


def run_with_two_workers(
    tmp_path: Path, data: dict[str, Any]
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`hothot run` of `data` with two local workers, the master on a free port: the run and
    its report directory."""
    report = tmp_path / "report"
    proc = hothot(
        "run", str(write_campaign(tmp_path, data)), "--workers", "2",
        "--master-bind", "127.0.0.1:0", "--report-dir", str(report), timeout=180,
    )  # fmt: skip
    return proc, report


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


#: cursor movements and colours of a terminal program's output
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def hothot_in_pty(*args: str, cols: int = 80, timeout: float = 120) -> tuple[int, str]:
    """`hothot` on a real pseudo-terminal `cols` wide, as a user at a terminal runs it: its
    exit code and everything the terminal showed, escape sequences removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "CI")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hothot", *args],
        stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": "xterm-256color"},
    )  # fmt: skip
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    return proc.returncode, ANSI.sub("", b"".join(chunks).decode(errors="replace"))
