"""Budgets: parsing, k6-like semantics, exit codes, junit.xml, and `hothot analyze`."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pydantic import ValidationError

from hothot.cli import main as hothot
from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze
from verdict.budgets import METRICS
from verdict.errors import HistoryError
from verdict.spec import BudgetSpec


def one_lost(h: HistoryBuilder) -> Path:
    """1 conflict and 1 lost update in `profile` (region b), nothing in `home`; lag 0.3s."""
    v0 = h.write("a", "profile#1", None, 0.0)
    win = h.write("a", "profile#1", v0, 1.0)
    h.write("b", "profile#1", v0, 1.001)
    h.final("profile#1", {"a": win, "b": win})
    home = h.write("a", "home#1", None, 0.0)
    home2 = h.write("a", "home#1", home, 1.0)
    h.final("home#1", {"a": home2, "b": home2})
    h.probe("a", "b", 1.0, 0.3)
    return h.save()


def test_unknown_metric_names_it_and_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError) as e:
        BudgetSpec(metric="lost_update", max=0)
    msg = str(e.value)
    assert "'lost_update'" in msg and "lost_update_rate" in msg and "replication_lag_p99" in msg


def test_every_metric_is_known_to_the_budget_model_alone() -> None:
    """No import-order dependence: a fresh process that imports only the budget model knows
    every metric, cost_per_month included (it was registered by importing verdict.cost)."""
    code = (
        "from verdict.spec import BudgetSpec; from verdict.budgets import METRICS; "
        "BudgetSpec(metric='cost_per_month', max=5); print(' '.join(sorted(METRICS)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == sorted(METRICS)


def test_max_units_and_filters() -> None:
    assert BudgetSpec(metric="replication_lag_p99", max="800ms").max == pytest.approx(0.8)
    assert BudgetSpec(metric="conflict_rate", max="5%").max == pytest.approx(0.05)
    assert (
        BudgetSpec(metric="lost_updates", max=0, workload="w").label
        == "lost_updates{workload=w} <= 0"
    )
    with pytest.raises(ValidationError, match="cannot be filtered by link"):
        BudgetSpec(metric="lost_updates", max=0, link="a->b")
    with pytest.raises(ValidationError):
        BudgetSpec(metric="lost_updates", max=0, colour="red")
    assert {"lost_update_rate", "unknown_rate", "stale_read_p99", "replication_lag_p50"} <= set(
        METRICS
    )


@pytest.mark.parametrize(
    ("budget", "passed", "observed"),
    [
        ({"metric": "lost_updates", "max": 0}, False, 1),
        ({"metric": "lost_updates", "max": 1}, True, 1),
        ({"metric": "lost_updates", "max": 0, "workload": "home"}, True, 0),
        ({"metric": "lost_updates", "max": 0, "region": "a"}, True, 0),
        ({"metric": "lost_update_rate", "max": 0.2, "workload": "profile"}, False, 1 / 3),
        ({"metric": "conflicts", "max": 0, "region": "b"}, False, 1),
        ({"metric": "replication_lag_p99", "max": "200ms"}, False, 0.3),
        ({"metric": "replication_lag_max", "max": "1s", "link": "a->b"}, True, 0.3),
    ],
)
def test_budgets_flip_the_exit_code(
    history: HistoryBuilder, budget: dict, passed: bool, observed: float
) -> None:
    v = analyze(one_lost(history), [BudgetSpec.model_validate(budget)])
    b = v.data["budgets"][0]
    assert b["observed"] == pytest.approx(observed)
    assert b["passed"] is passed
    assert v.exit_code == (0 if passed else 1)


def test_budget_without_data_passes_unless_fail_on_no_data(history: HistoryBuilder) -> None:
    report = one_lost(history)
    spec = [BudgetSpec(metric="replication_lag_p99", max=1, link="b->a")]
    v = analyze(report, spec)
    assert v.data["budgets"][0]["no_data"] is True and v.exit_code == 0
    (report / "campaign.yaml").write_text("name: t\nverdict: {fail_on_no_data: true}\n")
    v = analyze(report, spec)
    assert v.exit_code == 1
    case = ET.parse(report / "junit.xml").getroot().find("testsuite/testcase/failure")
    assert case is not None and "no data" in case.get("message", "")


def test_budgets_naming_unknown_workloads_are_input_errors(history: HistoryBuilder) -> None:
    report = one_lost(history)
    with pytest.raises(HistoryError, match="unknown workload 'nope'.*home, profile"):
        analyze(report, [BudgetSpec(metric="lost_updates", max=0, workload="nope")])
    with pytest.raises(HistoryError, match="unknown link 'a->z'"):
        analyze(report, [BudgetSpec(metric="replication_lag_p99", max=1, link="a->z")])


def test_junit_has_one_case_per_budget_with_observed_vs_limit(history: HistoryBuilder) -> None:
    report = one_lost(history)
    specs = [
        BudgetSpec(metric="lost_updates", max=0),
        BudgetSpec(metric="replication_lag_p99", max="1s"),
    ]
    analyze(report, specs)
    root = ET.parse(report / "junit.xml").getroot()
    cases = root.findall("testsuite/testcase")
    names = [c.get("name") for c in cases]
    assert names == ["lost_updates <= 0", "replication_lag_p99 <= 1s", "the run can be trusted"]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("message") == "observed 1 > limit 0"
    assert cases[1].find("failure") is None
    assert root.find("testsuite").get("failures") == "1"


def test_campaign_budgets_are_used_by_default_and_bad_ones_name_the_entry(
    history: HistoryBuilder,
) -> None:
    history.campaign = {
        "name": "t",
        "budgets": [{"metric": "conflicts", "max": 5}, {"metric": "bogus", "max": 1}],
    }
    report = one_lost(history)
    with pytest.raises(HistoryError, match=r"budgets\[1\]\.metric: unknown budget metric 'bogus'"):
        analyze(report)
    fresh = HistoryBuilder(
        history.root.parent / "fresh", {"name": "t", "budgets": history.campaign["budgets"][:1]}
    )
    v = analyze(one_lost(fresh))
    assert v.exit_code == 0 and v.data["budgets"][0]["observed"] == 1


def test_verdict_json_guaranteed_fields(history: HistoryBuilder) -> None:
    v = analyze(one_lost(history), [BudgetSpec(metric="lost_updates", max=0)]).data
    assert {"passed", "partial", "totals", "workloads", "lag", "budgets", "faults"} <= set(v)
    assert {
        "writes_ok",
        "writes_unknown",
        "conflicts",
        "lost_updates",
        "skew_inverted",
        "divergent_keys",
    } <= set(v["totals"])
    assert {"conflict_rate", "lost_update_rate", "conflicts", "lost_updates"} <= set(
        v["workloads"]["profile"]
    )
    assert set(v["lag"]["a->b"]) >= {"p50", "p95", "p99", "max"}
    assert {"metric", "max", "observed", "passed", "workload", "region", "link"} <= set(
        v["budgets"][0]
    )


def test_cli_exit_codes_and_no_traceback(
    history: HistoryBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = one_lost(history)
    ok = tmp_path / "ok.yaml"
    ok.write_text("budgets:\n  - {metric: lost_updates, max: 1}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("budgets:\n  - {metric: lost_updates, max: 0}\n")
    typo = tmp_path / "typo.yaml"
    typo.write_text("budgets:\n  - {metric: lost_updatez, max: 0}\n")
    assert hothot(["analyze", str(report), "--budgets", str(ok)]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "report.html" in out
    assert re.search(r"lost_updates +1 +1 +PASS", out), out  # budget, observed, limit
    assert hothot(["analyze", str(report), "--budgets", str(bad)]) == 1
    assert "FAILED" in capsys.readouterr().out
    assert hothot(["analyze", str(report), "--budgets", str(typo)]) == 2
    err = capsys.readouterr().err
    assert "typo.yaml" in err and "lost_updatez" in err and "Traceback" not in err
    assert hothot(["analyze", str(tmp_path / "missing")]) == 2
    assert "not a report directory" in capsys.readouterr().err


def test_a_budgets_file_reports_every_problem_at_its_line(
    history: HistoryBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = one_lost(history)
    bad = tmp_path / "budgets.yaml"
    bad.write_text(
        "budgets:\n"
        "  - {metric: lost_updat_rate, max: 0.5}\n"
        "  - metric: replication_lag_p99\n"
        "    max: 12 seconds\n"
        "  - {metric: conflict_rate, max: 'x%'}\n"
    )
    assert hothot(["analyze", str(report), "--budgets", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: budgets[0].metric: unknown budget metric 'lost_updat_rate'" in err, err
    assert f"{bad}:4: budgets[1].max: expected a duration" in err, err
    assert f"{bad}:5: budgets[2].max: not a percentage: 'x%'" in err, err
    assert "Traceback" not in err
    bad.write_text("budgets: [\n")
    assert hothot(["analyze", str(report), "--budgets", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: not valid YAML" in err and "<unicode string>" not in err, err
    bad.write_text("budgets:\n  - {metric: lost_updates, max: 0, workload: nope}\n")
    assert hothot(["analyze", str(report), "--budgets", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: budgets[0].workload: unknown workload 'nope'" in err, err
