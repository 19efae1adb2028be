"""`hothot run` on target kind pglogical, as users run it: the shipped campaign on real
clusters hothot starts itself, Ctrl-C/SIGTERM, and bad input (exit 2, one line, everything
started so far stopped)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from hothot.pgrun import PgTargetError, open_mesh
from pgtarget import local, mesh
from pgtarget.clusters import ClusterError, find_binaries, postmaster_pid
from tests.pg_fixtures import REGIONS, needs_pglogical
from tests.run_fixtures import hothot

pytestmark = needs_pglogical
CAMPAIGN = Path(__file__).resolve().parent.parent / "campaigns" / "postgres-active-active.yaml"


@pytest.fixture
def areas_before() -> set[Path]:
    """The temporary areas other runs' clusters (other tests on this machine) use already."""
    return set(Path(tempfile.gettempdir()).glob("hothot-pg-*"))


def _postmasters_under(root: Path, before: set[Path]) -> list[int]:
    """PIDs of running postmasters whose data directory is under `root` (or, when the
    clusters' user could not reach it, in a temporary area made since the test began)."""
    roots = [root, *(set(Path(tempfile.gettempdir()).glob("hothot-pg-*")) - before)]
    return [
        pid
        for where in roots
        for pidfile in where.rglob("postmaster.pid")
        if (pid := postmaster_pid(str(pidfile.parent))) is not None
    ]


@pytest.mark.slow
def test_the_shipped_campaign_shows_divergence_skew_inversions_and_its_witness(
    tmp_path: Path,
) -> None:
    report = tmp_path / "report"
    done = hothot(
        "run", str(CAMPAIGN), "--report-dir", str(report), "--set", "observe.metrics_port=0",
        "--set", "duration=10s", "--set", "chaos[0].at=2s", "--set", "chaos[0].for=8s",
        "--set", "chaos[1].at=4s", "--set", "chaos[1].for=4s",
        timeout=180,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]  # its budgets are set to fail
    data = json.loads((report / "verdict.json").read_text())
    tot, witness = data["totals"], data["witness"]
    assert tot["divergent_keys"] > 0 and tot["skew_inverted"] > 0 and tot["lost_updates"] > 0
    assert data["witness_mismatch"] is False
    assert witness["lost_on_discarded_branch"] == witness["lost_updates"] == tot["lost_updates"]
    assert witness["resolved_conflicts"] > 0 and witness["causal_excluded"] > 0
    assert sorted(p.name for p in (report / "pglogical").iterdir()) == [
        "clusters.json",
        *(f"{r}.conflicts.jsonl" for r in sorted(REGIONS)),
    ]
    assert not (report / "tmp").exists()  # the clusters' data is gone, they are stopped
    assert json.loads((report / "faults.state").read_text()) == []
    assert "store's witness" in done.stdout + done.stderr


@pytest.mark.slow
def test_the_open_model_drives_pglogical(tmp_path: Path) -> None:
    """writers.rate on pglogical: the arrivals' slots perform through PostgreSQL stores (one
    connection each), every region gets its rate, and the run is judged and trusted."""
    report = tmp_path / "report"
    done = hothot(
        "run", str(CAMPAIGN), "--report-dir", str(report), "--set", "observe.metrics_port=0",
        "--set", "writers={rate: 40/s, max_in_flight: 8}", "--set", "duration=4s",
        "--set", "chaos=[]", timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads((report / "verdict.json").read_text())
    assert data["trusted"] and data["load"]["model"] == "open"
    for region, load in data["load"]["regions"].items():
        assert load["requested"] > 100 and load["delivered"] >= 0.95 * load["requested"], region
    assert data["totals"]["writes_ok"] > 300


def test_sigterm_stops_every_cluster_by_pid(tmp_path: Path) -> None:
    report = tmp_path / "report"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hothot", "run", str(CAMPAIGN), "--report-dir", str(report),
         "--set", "duration=60s", "--set", "observe.metrics_port=0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        listed = report / "pglogical" / "clusters.json"
        deadline = time.monotonic() + 60
        running: list[int | None] = []
        while time.monotonic() < deadline and (len(running) < 3 or None in running):
            time.sleep(0.5)  # listed as each is made, before it starts
            clusters = json.loads(listed.read_text()) if listed.exists() else {}
            running = [postmaster_pid(c["datadir"]) for c in clusters.values()]
        assert len(running) == 3 and None not in running
        time.sleep(3)  # the load is on
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode == 130, err.decode()[-2000:]
    for pid in running:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not any(Path(c["datadir"]).exists() for c in clusters.values())


def test_a_port_in_use_is_refused_before_anything_starts(
    tmp_path: Path, areas_before: set[Path]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        data = yaml.safe_load(CAMPAIGN.read_text())
        data["target"]["port"] = port
        data["observe"] = {"metrics_port": 0}
        campaign = tmp_path / "c.yaml"
        campaign.write_text(yaml.safe_dump(data))
        done = hothot("run", str(campaign), "--report-dir", str(tmp_path / "r"), timeout=60)
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.splitlines() if "target unusable" in ln]
    assert len(lines) == 1 and f"port {port}" in lines[0] and "in use" in lines[0]
    assert not _postmasters_under(tmp_path, areas_before)


def test_a_cluster_that_fails_to_start_stops_those_started(
    tmp_path, monkeypatch, areas_before
) -> None:
    configure = local._configure

    def broken_last(cluster):  # the third region's server refuses its settings
        if cluster.region == REGIONS[-1]:
            cluster.extra["shared_buffers"] = "'1kB'"
        configure(cluster)

    monkeypatch.setattr(local, "_configure", broken_last)
    with pytest.raises(PgTargetError) as failed:
        open_mesh(REGIONS, "hothot-t", tmp_path, dsn={}, startup_timeout_s=20)
    message = str(failed.value)
    assert f"region {REGIONS[-1]}" in message and "failed to start" in message
    assert "\n" not in message
    assert not _postmasters_under(tmp_path, areas_before)


def test_a_subscription_that_never_replicates_times_out_and_stops_all(
    tmp_path, monkeypatch, areas_before
) -> None:
    subscribe = mesh.subscribe_all

    def one_held(dsns):
        subscribe(dsns)
        with psycopg.connect(dsns[REGIONS[1]], autocommit=True) as conn:
            name = f"hh_{mesh.slug(REGIONS[0])}_to_{mesh.slug(REGIONS[1])}"
            conn.execute("SELECT pglogical.alter_subscription_disable(%s, true)", (name,))

    monkeypatch.setattr(mesh, "subscribe_all", one_held)
    with pytest.raises(PgTargetError) as failed:
        open_mesh(REGIONS, "hothot-t", tmp_path, dsn={}, startup_timeout_s=3)
    assert str(failed.value) == (
        f"subscription hh_us_east_1_to_us_west_2 ({REGIONS[0]} -> {REGIONS[1]}) is disabled, "
        "not replicating, after 3s"
    )
    assert not _postmasters_under(tmp_path, areas_before)


def test_psycopg_is_imported_only_after_locust_patched_gevent() -> None:
    """psycopg picks how it waits for the server when first imported; imported before
    Locust's monkey-patching, every query would block every user of the process."""
    code = (
        "import sys, hothot.cli, hothot.runner, hothot.target, chaos.injectors;"
        "print('psycopg' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr[-2000:]


def test_missing_packages_are_named_in_one_line(monkeypatch) -> None:
    monkeypatch.setattr("pgtarget.clusters.glob.glob", lambda pattern: [])
    monkeypatch.setattr("pgtarget.clusters.shutil.which", lambda name: None)
    with pytest.raises(ClusterError) as missing:
        find_binaries()
    assert str(missing.value) == (
        "target kind pglogical needs PostgreSQL, libfaketime installed: "
        "apt-get install postgresql-15 postgresql-15-pglogical faketime"
    )
