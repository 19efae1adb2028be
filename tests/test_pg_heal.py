"""`hothot heal` after a SIGKILL'd run on target kind pglogical: the faults it left applied are
healed and the PostgreSQL clusters it started are stopped, found through the report's
`pglogical/clusters.json`; a process that is not the listed cluster's postmaster is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hothot.pgrun import stop_left_clusters
from pgtarget.clusters import running_postmaster
from tests.pg_fixtures import REGIONS, needs_pglogical
from tests.run_fixtures import hothot

pytestmark = needs_pglogical
CAMPAIGN = Path(__file__).resolve().parent.parent / "campaigns" / "postgres-active-active.yaml"
DOWN = REGIONS[-1]


def _applied(report: Path) -> list[str]:
    try:
        entries = json.loads((report / "faults.state").read_text())
    except (OSError, ValueError):
        return []
    return [e["fault"] for e in entries if e.get("applied") and not e.get("applying")]


def test_heal_after_sigkill_stops_the_clusters_the_run_started(tmp_path: Path) -> None:
    data = yaml.safe_load(CAMPAIGN.read_text())
    data["duration"] = "60s"
    data["observe"] = {"metrics_port": 0}
    # an outage the heal undoes by restarting the cluster: under a PID clusters.json lacks
    data["chaos"] = [
        {"at": "1s", "for": "50s", "fault": "region_outage", "region": DOWN},
        {"at": "1s", "for": "50s", "fault": "partition", "regions": REGIONS[:2]},
    ]
    campaign = tmp_path / "c.yaml"
    campaign.write_text(yaml.safe_dump(data))
    report = tmp_path / "report"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hothot", "run", str(campaign), "--report-dir", str(report)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(_applied(report)) < 2:
            time.sleep(0.3)
        assert sorted(_applied(report)) == ["partition", "region_outage"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    try:
        _heal_and_check(report)
    finally:  # nothing left running whatever failed
        stop_left_clusters(report)


def _heal_and_check(report: Path) -> None:
    clusters = json.loads((report / "pglogical" / "clusters.json").read_text())
    left = {r: running_postmaster(c["datadir"]) for r, c in clusters.items()}
    assert left[DOWN] is None and None not in [left[r] for r in REGIONS[:2]]  # the bug's state

    healed = hothot("heal", str(report), timeout=120)
    assert healed.returncode == 0, healed.stderr[-2000:]
    out = healed.stdout
    assert "region_outage" in out and "partition" in out
    for region in REGIONS:  # the restarted one too, by its data directory's postmaster
        assert f"stopped the PostgreSQL cluster of region {region} (PID" in out
    for region, cluster in clusters.items():
        assert running_postmaster(cluster["datadir"]) is None
        assert not Path(cluster["datadir"]).exists()
        if left[region] is not None:
            with pytest.raises(ProcessLookupError):
                os.kill(left[region], 0)
    assert (report / "pglogical" / f"{DOWN}.conflicts.jsonl").exists()
    assert json.loads((report / "faults.state").read_text()) == []
    again = hothot("heal", str(report), timeout=60)
    assert again.returncode == 0 and "nothing to heal" in again.stdout


def test_a_listed_pid_that_is_not_the_clusters_postmaster_is_left(tmp_path: Path) -> None:
    """A data directory whose postmaster.pid names a live process that does not serve it
    (the cluster is gone, its PID reused): that process is never signalled."""
    datadir = tmp_path / "tmp" / "home" / "data"  # where a run puts it: <report>/tmp/
    datadir.mkdir(parents=True)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (datadir / "postmaster.pid").write_text(f"{stranger.pid}\n{datadir}\n")
        listed = tmp_path / "pglogical" / "clusters.json"
        listed.parent.mkdir()
        cluster = {"region": "r", "port": 1, "datadir": str(datadir), "clock_file": "c",
                   "server_log": "l", "pg_ctl": "pg_ctl", "faketime": "f", "pid": stranger.pid}  # fmt: skip
        listed.write_text(json.dumps({"r": cluster}))
        result = stop_left_clusters(tmp_path)
        assert result.stopped == [] and result.failed == []
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.parametrize(
    "where",
    ["victim/data", "tmp/../victim/data", "tmp/home/notdata", "tmp/data", "/etc/x/data", ""],
)
def test_a_crafted_clusters_json_stops_and_removes_nothing(
    tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """clusters.json may be crafted or damaged: before, heal removed the parent of whatever
    data directory it named (shutil.rmtree, as root; an empty one named the current
    directory, which this test runs in a scratch directory of its own) and signalled
    whatever served it."""
    victim = tmp_path / "victim"
    (victim / "data").mkdir(parents=True)
    (victim / "data" / "PG_VERSION").write_text("15\n")
    (victim / "precious").write_text("keep me\n")
    (tmp_path / "tmp" / "home").mkdir(parents=True)
    scratch = tmp_path / "cwd"
    (scratch / "inside").mkdir(parents=True)
    monkeypatch.chdir(scratch)
    listed = tmp_path / "pglogical" / "clusters.json"
    listed.parent.mkdir()
    datadir = where if where.startswith("/") or not where else str(tmp_path / where)
    cluster = {"region": "r", "port": 1, "datadir": datadir, "clock_file": "c",
               "server_log": "l", "pg_ctl": "pg_ctl", "faketime": "f"}  # fmt: skip
    listed.write_text(json.dumps({"r": cluster}))
    result = stop_left_clusters(tmp_path)
    assert result.stopped == [] and len(result.failed) == 1, result
    assert "is not a data directory hothot makes" in result.failed[0]
    assert (victim / "precious").read_text() == "keep me\n"
    assert (scratch / "inside").is_dir()
