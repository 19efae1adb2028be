"""Loadgen test helpers: a driver that runs a `LoadSession` in a subprocess (Locust patches
gevent, which must not leak into the test process) and readers for what it leaves behind.

    python -m tests.loadgen_fixtures CONFIG.json   # run one session, see `drive`
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from verdict.history import open_shard

ROOT = Path(__file__).resolve().parent.parent
TABLE = "hothot-loadgen"


def drive(config: dict[str, Any], tmp: Path, timeout_s: float = 90.0) -> list[dict[str, Any]]:
    """Run one load session as a subprocess; returns the history records it wrote."""
    report = tmp / f"report-{config['table']}-{config['seed']}"
    config = {**config, "report_dir": str(report)}
    path = tmp / f"config-{config['table']}-{config['seed']}.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "-m", "tests.loadgen_fixtures", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return read_shard(report / "history" / "w0.jsonl.zst")


def read_shard(path: Path) -> list[dict[str, Any]]:
    with open_shard(path) as f:
        lines = f.read().splitlines()
    assert orjson.loads(lines[0])["worker"] == "w0"
    assert orjson.loads(lines[-1])["end"] is True
    return [orjson.loads(line) for line in lines[1:-1]]


def writes(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["op"] in ("put", "update") and r["outcome"] == "ok"]


def chain(vid: str | None, pred_of: dict[str, str | None]) -> list[str]:
    """vid and its ancestors, newest first."""
    out = []
    while vid is not None:
        out.append(vid)
        vid = pred_of.get(vid)
    return out


def outcome_counts(records: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter((r["workload"], r["outcome"]) for r in records)


def _main(config_path: str) -> None:
    from gevent import monkey

    monkey.patch_all()  # before anything imports ssl, as `hothot run` does
    from globaltable.control import ControlClient
    from loadgen.conditions import ClientConditions
    from loadgen.hub import RecordHub
    from loadgen.plan import LoadPlan
    from loadgen.recorder import ShardWriter
    from loadgen.session import LoadSession, read_final
    from loadgen.spec import ObserveSpec, WorkloadSpec, WritersSpec
    from loadgen.table import create_table

    config = json.loads(Path(config_path).read_text())
    regions = list(config["regions"])
    plan = LoadPlan(
        regions=regions,
        endpoints=config["regions"],
        table=config["table"],
        seed=config["seed"],
        writers=WritersSpec(
            per_region=config["per_region"], think_time=config.get("think_time", 0.0)
        ),
        workloads=[WorkloadSpec.model_validate(w) for w in config["workloads"]],
        observe=ObserveSpec(probe_sample=config.get("probe_sample", 0.0), probe_interval=0.2),
    )
    create_table(plan.client(regions[0]), plan.table, plan.endpoints[regions[0]])
    shard, hub = ShardWriter(config["report_dir"], "w0"), RecordHub()
    hub.record.add_listener(shard.append)
    session = LoadSession(plan, hub, ClientConditions())
    session.start()
    time.sleep(config["seconds"])
    session.stop()
    ControlClient(config["control"]).quiesce(30)
    read_final(plan, session.written_keys(), hub.sink, workloads=session.workloads, ids=session.ids)
    shard.close()


if __name__ == "__main__":
    _main(sys.argv[1])
