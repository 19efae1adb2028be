"""Distributed mode reports the exceptions the workers' workloads raised as a single run
does: one line per workload, summed over the workers, and exit 2 for one that never ran."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.run_fixtures import history_records
from tests.test_run_robust_workloads import check_raising_run, run_raising_campaign

pytestmark = pytest.mark.slow  # a master and two workers, ~12 s


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
