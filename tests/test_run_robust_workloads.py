"""A user workload whose own code raises (SystemExit included) is counted and reported, never
ends the run; one that never recorded an operation fails the run with exit 2. Distributed mode
reports them as a single run does: one line per workload, summed over the workers."""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.run_fixtures import campaign, history_records, hothot, verdict, write_campaign

pytestmark = pytest.mark.slow  # whole runs: ~7 s alone, ~12 s with a master and two workers

WORKLOADS = '''
import random

from loadgen.workloads import Workload


class Quitter(Workload):
    kind = "quitter"

    def run(self, calls, key, rng: random.Random) -> None:
        raise SystemExit(3)


class Flaky(Workload):
    """Writes, then raises on every other call."""

    kind = "flaky"

    def run(self, calls, key, rng: random.Random) -> None:
        self.put(calls, key, {"n": {"N": "1"}})
        if rng.random() < 0.5:
            raise ValueError("[bad] state")
'''


def run_raising_campaign(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`hothot run` (with `args`) of a campaign mixing `profile` with Quitter and Flaky, the
    workloads of WORKLOADS, into `tmp_path/report`."""
    (tmp_path / "rr_workloads.py").write_text(textwrap.dedent(WORKLOADS), encoding="utf-8")
    data = campaign(
        "raising",
        duration="3s",
        workloads=[
            {"kind": "profile", "weight": 1, "keys": 10},
            {"kind": "rr_workloads.Quitter", "weight": 1, "keys": 10},
            {"kind": "rr_workloads.Flaky", "weight": 1, "keys": 10},
        ],
    )
    path = write_campaign(tmp_path, data)
    report = tmp_path / "report"
    return hothot("run", str(path), "--report-dir", str(report), *args, timeout=180, cwd=tmp_path)


def check_raising_run(done: subprocess.CompletedProcess[str], report: Path) -> None:
    """Quitter failed the run (exit 2) in one line, Flaky was summed up in one line, and the
    run otherwise ended normally."""
    err = done.stderr
    assert done.returncode == 2, err[-3000:]
    assert len(re.findall(r"^workload Quitter never ran: every call raised SystemExit: 3$",
                          err, re.MULTILINE)) == 1, err[-3000:]  # fmt: skip
    assert "Flaky never ran" not in err
    summary = r"^workload Flaky raised \d+ exceptions? \(first: ValueError: \[bad\] state\)$"
    assert len(re.findall(summary, err, re.MULTILINE)) == 1, err[-3000:]
    # the run ended normally: the history closed with its trailer and the verdict written
    assert "history shard" not in err
    workloads = {r["workload"] for r in history_records(report)}
    assert "Flaky" in workloads and "Quitter" not in workloads
    assert set(verdict(report)["workloads"]) >= {"profile", "Flaky"}


def test_raising_workloads_are_counted_and_one_that_never_ran_fails(tmp_path: Path) -> None:
    done = run_raising_campaign(tmp_path)
    check_raising_run(done, tmp_path / "report")
    # logged once per kind: one traceback for each of the two kinds, however many calls
    assert done.stderr.count("Traceback (most recent call last)") == 2, done.stderr[-3000:]


def test_two_workers_report_raised_exceptions_on_the_master(tmp_path: Path) -> None:
    done = run_raising_campaign(tmp_path, "--workers", "2", "--master-bind", "127.0.0.1:0")
    check_raising_run(done, tmp_path / "report")
    err = done.stderr
    # each worker logs each kind once: the summary counts every call of both workers
    tracebacks = err.count("Traceback (most recent call last)")
    assert 2 <= tracebacks <= 4, err[-3000:]
    # each raise follows a recorded put: a count above them was summed more than once
    raised = int(re.findall(r"^workload Flaky raised (\d+) exception", err, re.MULTILINE)[0])
    records = history_records(tmp_path / "report")
    flaky = [r for r in records if r["workload"] == "Flaky" and r["op"] == "put"]
    assert {r["worker"] for r in flaky} == {"w1", "w2"}
    assert 0 < raised <= len(flaky), err[-3000:]
