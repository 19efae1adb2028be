"""Distributed mode when things go wrong around it: a master that is not there, a bad
--master or --master-bind, and a remote worker that must leave when its master does."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.observe_fixtures import free_port
from tests.run_fixtures import campaign, hothot, start_hothot, write_campaign
from verdict.history import shard_files, shard_name

pytestmark = pytest.mark.slow  # each starts hothot processes (gevent + Locust imports)


@contextmanager
def remote_run(
    tmp_path: Path, duration: str
) -> Iterator[tuple[subprocess.Popen[str], subprocess.Popen[str]]]:
    """A master waiting for one remote worker, and that worker; both ended afterwards. The
    report goes to tmp_path/report."""
    port = free_port()
    master = start_hothot(
        "run", str(write_campaign(tmp_path, campaign("dist", duration=duration))),
        "--expect-workers", "1", "--master-bind", f"127.0.0.1:{port}",
        "--report-dir", str(tmp_path / "report"),
    )  # fmt: skip
    worker = start_hothot("worker", "--master", f"127.0.0.1:{port}")
    try:
        yield master, worker
    finally:
        for proc in (master, worker):
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def _one_clear_line(proc: subprocess.CompletedProcess[str], words: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out, out
    assert words in out, out


def worker_recorded(report: Path) -> bool:
    """The run has begun once the worker's shard holds records."""
    history = report / "history"
    shards = shard_files(history) if history.is_dir() else []
    return any(shard_name(p) != "master" and p.stat().st_size > 300 for p in shards)


def test_remote_worker_leaves_when_the_run_ends(tmp_path: Path) -> None:
    """Locust's worker pauses its message loop for the users' stop timeout after a stop
    (41 s with the default 5 s call timeout): the master's quit must not wait for it."""
    report = tmp_path / "report"
    with remote_run(tmp_path, "3s") as (master, worker):
        out, err = master.communicate(timeout=90)
        assert master.returncode in (0, 1), out + err
        workers = json.loads((report / "workers.json").read_text())
        assert [w["lost"] for w in workers.values()] == [False], workers
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("the remote worker outlived its master's run by more than 10 s")
        assert worker.returncode == 0, worker.stderr.read() if worker.stderr else ""


def test_worker_gives_up_on_a_master_that_is_not_there() -> None:
    port = free_port()  # nothing listens there
    proc = hothot("worker", "--master", f"127.0.0.1:{port}", "--connect-timeout", "2s", timeout=30)
    _one_clear_line(proc, f"no master answered at 127.0.0.1:{port} within 2s")


@pytest.mark.parametrize(
    ("master", "words"),
    [
        ("127.0.0.1:99999", "expected HOST[:PORT] with PORT in 0..65535, got '127.0.0.1:99999'"),
        ("bad host name:5557", "cannot resolve host 'bad host name'"),
    ],
)
def test_worker_rejects_an_unusable_master_address(master: str, words: str) -> None:
    _one_clear_line(hothot("worker", "--master", master, timeout=30), f"--master: {words}")


def test_master_bind_on_a_taken_port_is_an_unusable_setup(tmp_path: Path) -> None:
    path = str(write_campaign(tmp_path, campaign("dist", duration="3s")))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bind = f"127.0.0.1:{taken.getsockname()[1]}"
        proc = hothot("run", path, "--expect-workers", "1", "--master-bind", bind,
                      "--report-dir", str(tmp_path / "r"), timeout=60)  # fmt: skip
    _one_clear_line(proc, f"--master-bind {bind}: Socket bind failure: Address already in use")
    proc = hothot("run", path, "--workers", "1", "--master-bind", "127.0.0.1:70000", timeout=30)
    _one_clear_line(proc, "--master-bind: expected HOST[:PORT]")


def test_the_load_ends_early_when_every_worker_is_lost(tmp_path: Path) -> None:
    """With its only worker gone the master used to print 0 ops/s until the campaign's end:
    it now ends the load, heals, and judges what was recorded (partial: exit 2, untrusted,
    since records are missing)."""
    report = tmp_path / "report"
    with remote_run(tmp_path, "120s") as (master, worker):
        deadline = time.monotonic() + 60
        while not worker_recorded(report):
            if time.monotonic() > deadline or master.poll() is not None:
                pytest.fail("the worker recorded nothing within 60 s of the run's start")
            time.sleep(0.1)
        worker.kill()
        out, err = master.communicate(timeout=90)  # far less than the campaign's 120 s
        assert "every worker was lost: ending the load now" in out + err, out + err
        assert master.returncode == 2, out + err
        verdict = json.loads((report / "verdict.json").read_text())
        assert verdict["partial"] is True
        assert [r["code"] for r in verdict["untrusted"]][0] == "partial_history"
        assert json.loads((report / "faults.state").read_text()) == []
