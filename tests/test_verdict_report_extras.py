"""What the runner adds to a report directory and the verdict must carry: the projected bill,
and workers lost mid-run (distributed mode)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pytest

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze


def _steady(tmp_path: Path, scale: float) -> HistoryBuilder:
    """Two regions, 10 s, each region 2 writes/s of 1,500 B items (2 WCU each)."""
    h = HistoryBuilder(
        tmp_path,
        {"name": "c", "duration": 10, "target": {"regions": ["a", "b"]},
         "cost": {"production_scale": scale}},
    )  # fmt: skip
    for region in ("a", "b"):
        for i in range(20):
            vid = h.write(region, f"profile#{region}{i}", t=i * 0.5, item_bytes=1500)
            h.final(f"profile#{region}{i}", {"a": vid, "b": vid})  # every key judged
    return h


def test_projected_bill_is_in_the_verdict_and_the_report(tmp_path: Path) -> None:
    _steady(tmp_path, scale=50).save()
    cost = analyze(tmp_path).data["cost"]
    # by hand: per region 2 writes/s x 2 units x scale 50 = 200 units/s, plus the other
    # region's 200 replicated; a unit/s for a month on demand is 3600 x 730 / 1e6 x $0.625
    # = $1.6425, so 2 regions x 400 x $1.6425 = $1,314.00
    assert cost["total"]["monthly_usd"]["total"] == pytest.approx(1314.0)
    assert cost["production_scale"] == 50
    assert "cost" in json.loads((tmp_path / "verdict.json").read_text())
    html = (tmp_path / "report.html").read_text()
    assert html.count("Projected cost") == 1 and escape(cost["answer"]) in html


def test_cost_budget_gates(tmp_path: Path) -> None:
    h = _steady(tmp_path, scale=1000)
    h.campaign["budgets"] = [{"metric": "cost_per_month", "max": 1.0}]
    h.save()
    v = analyze(tmp_path)
    budget = v.data["budgets"][0]
    assert budget["observed"] > 1.0 and budget["passed"] is False and v.exit_code == 1


def test_lost_worker_makes_the_verdict_partial(tmp_path: Path) -> None:
    _steady(tmp_path, scale=1).save()
    (tmp_path / "workers.json").write_text(json.dumps({
        "w1": {"records_received": 20, "records_reported": 20, "unsent": 0, "lost": False},
        "w2": {"records_received": 5, "records_reported": 9, "unsent": 4, "lost": True},
    }))  # fmt: skip
    v = analyze(tmp_path)
    assert v.partial is True
    assert v.data["workers"]["lost"] == ["w2"]
    assert "Lost workers: w2" in (tmp_path / "report.html").read_text()


def test_a_run_whose_every_write_failed_is_reported_not_crashed(tmp_path: Path) -> None:
    """Every write refused (AccessDenied on AWS): no operation enters the version store, and
    the report's start date must not come from an infinite first time."""
    h = HistoryBuilder(tmp_path, {"name": "denied", "duration": 10})
    for i in range(5):
        h.write("a", f"profile#{i}", t=1000.0 + i, outcome="fail", error="AccessDeniedException")
    h.save()
    verdict = analyze(tmp_path)
    # the failed writes are the run's operations: the timeline starts with them and plots them
    assert verdict.data["timeline"]["t0"] == 1000.0
    assert sum(verdict.data["timeline"]["failed"]) == 5
    assert (tmp_path / "report.html").is_file() and verdict.data["totals"]["writes_ok"] == 0
