"""The release gate through real runs on the emulator (issue 15, "Done when"): a killed run
analysed exits 2, a rig too slow for its rate exits 2 naming the bottleneck, a failed-write
budget fails MRSC, abort_on_fail stops the load, and the open model's schedule is the same
split over workers."""

from __future__ import annotations

import json
import signal
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from loadgen.arrivals import RateProfile, schedule
from tests.run_fixtures import (
    REGIONS,
    campaign,
    hothot,
    run_with_two_workers,
    start_hothot,
    verdict,
    write_campaign,
)

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
OPEN = {"rate": "40/s", "max_in_flight": 16, "client": "fast"}


def codes(v: dict) -> list[str]:
    return [r["code"] for r in v["untrusted"]]


def test_a_killed_run_analysed_is_untrusted(tmp_path: Path) -> None:
    """SIGKILL mid-load, `hothot heal`, `hothot analyze`: exit 2 (partial history, and keys
    never read back), an <error> in junit.xml; --accept-partial does not make the unjudged
    keys judged."""
    report = tmp_path / "report"
    path = write_campaign(tmp_path, campaign("killed", duration="20s", writers=OPEN))
    proc = start_hothot("run", str(path), "--report-dir", str(report))
    try:
        deadline = time.monotonic() + 60
        while not (report / "load.json").exists():  # written once the load has run 1 s
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert hothot("heal", str(report)).returncode == 0
    analysed = hothot("analyze", str(report))
    assert analysed.returncode == 2, analysed.stdout + analysed.stderr
    assert "UNTRUSTED" in analysed.stdout and "PASSED" not in analysed.stdout
    v = verdict(report)
    assert v["trusted"] is False and codes(v) == ["partial_history", "unjudged_keys"]
    error = ET.parse(report / "junit.xml").find(".//testcase[@name='the run can be trusted']/error")
    assert error is not None and "partial history" in error.get("message", "")
    accepted = hothot("analyze", str(report), "--accept-partial")
    assert accepted.returncode == 2 and codes(verdict(report)) == ["unjudged_keys"]


def test_a_rig_too_slow_for_its_rate_is_untrusted_and_names_the_bottleneck(
    tmp_path: Path,
) -> None:
    """us-east-1 answers in 300 ms: at 60/s that needs ~18 operations in flight, and the
    campaign allows 4. Its arrivals are dropped; the run exits 2 naming target latency."""
    data = campaign(
        "slow",
        duration="4s",
        writers={"rate": "60/s", "max_in_flight": 4, "client": "fast"},
        chaos=[{"at": "0s", "for": "4s", "fault": "region_latency", "region": "us-east-1",
                "latency": "300ms"}],
    )  # fmt: skip
    report = tmp_path / "report"
    proc = hothot("run", str(write_campaign(tmp_path, data)), "--report-dir", str(report))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    v = verdict(report)
    assert codes(v) == ["load_not_delivered"], v["untrusted"]
    message = v["untrusted"][0]["message"]
    assert message.startswith("us-east-1: ") and "target latency" in message, message
    assert "writers.max_in_flight is 4" in message
    east = v["load"]["regions"]["us-east-1"]
    assert (
        east["dropped"] > east["delivered"]
        and east["requested"] == east["delivered"] + east["dropped"]
    )
    west = v["load"]["regions"]["us-west-2"]  # answers at once: (nearly) all delivered
    assert west["delivered"] >= 0.95 * west["requested"]
    shown = proc.stdout  # the summary and the exit line go to stdout, the run's log to stderr
    assert "UNTRUSTED" in shown and "target latency" in shown, shown


def test_a_failed_write_budget_fails_mrsc(tmp_path: Path) -> None:
    """campaigns/mrsc.yaml: no lost update, no conflict, but concurrent writes are refused
    with ReplicatedWriteConflictException, and its failed-write budget says so (exit 1)."""
    report = tmp_path / "report"
    proc = hothot(
        "run", str(ROOT / "campaigns" / "mrsc.yaml"), "--report-dir", str(report),
        "--set", "duration=5s", "--set", "observe.metrics_port=null",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    v = verdict(report)
    assert v["trusted"] is True and v["totals"]["lost_updates"] == 0
    [budget] = [b for b in v["budgets"] if b["metric"] == "failed_write_rate"]
    assert budget["error"] == "ReplicatedWriteConflictException" and not budget["passed"]
    lo, hi = budget["observed_ci95"]
    assert budget["max"] < lo <= budget["observed"] <= hi
    assert {b["metric"] for b in v["budgets"] if b["passed"]} >= {"lost_updates", "conflicts"}


def test_abort_on_fail_stops_the_load_and_fails_the_budget(tmp_path: Path) -> None:
    data = campaign(
        "abort",
        duration="30s",
        writers=OPEN,
        budgets=[{"metric": "latency_max", "max": "0.1ms", "abort_on_fail": True}],
    )
    report = tmp_path / "report"
    started = time.monotonic()
    proc = hothot("run", str(write_campaign(tmp_path, data)), "--report-dir", str(report))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert time.monotonic() - started < 25
    v = verdict(report)
    assert "latency_max <= 0.1ms can no longer hold" in v["load"]["aborted"]
    assert v["load"]["elapsed_s"] < 5 and v["trusted"] is True
    assert not v["budgets"][0]["passed"]


def test_two_workers_share_one_schedule(tmp_path: Path) -> None:
    """--workers 2: each worker runs every other arrival; together they deliver what the
    seeded schedule requested up to the stop, each operation once."""
    data = campaign("open-dist", duration="5s", writers=OPEN)
    proc, report = run_with_two_workers(tmp_path, data)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    load = json.loads((report / "load.json").read_text())
    assert set(load["cpu_busy"]) == {"w1", "w2"}
    profile = RateProfile.constant(40.0, 5.0)
    weights = [w["weight"] for w in data["workloads"]]
    for region in REGIONS:
        figures = load["regions"][region]
        due = sum(a.t < load["elapsed_s"] for a in schedule(profile, 11, region, weights))
        assert abs(figures["requested"] - due) <= 2, (region, figures, due)
        assert figures["delivered"] + figures["dropped"] == figures["requested"]
    v = verdict(report)
    assert v["trusted"] is True, v["untrusted"]
    assert v["truth"]["conflicts"] == v["totals"]["conflicts"]
