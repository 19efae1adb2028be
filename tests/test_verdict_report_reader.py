"""The verdict as a new user meets it: the terminal summary in a CI log, and report.html
read by someone who was not there when the run happened."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze
from verdict.spec import BudgetSpec
from verdict.summary import print_summary


def two_workloads(root: Path, *, overlapping: bool) -> Path:
    """Lost updates in two workloads with long names, a stale read, and two fault windows."""
    h = HistoryBuilder(root)
    for i in range(6):
        for workload in ("split_attributes", "home_region"):
            key, t = f"{workload}#{i}", 100.0 + i
            h.lost_update(key, t)
    h.write("us-east-1", "split_attributes#0", None, 101.0, outcome="fail", error="Boom")
    h.fault("f1", "partition", "us-east-1<->eu-west-1", 101.0, 104.0)
    second = 103.0 if overlapping else 104.5
    h.fault("f2", "clock_skew", "eu-west-1", second, second + 2)
    h.campaign = {
        "name": "qa",
        "duration": "2m",
        "target": {"regions": ["us-east-1", "eu-west-1"]},
    }
    return h.save()


def test_summary_in_a_log_keeps_names_whole_and_totals_the_workloads(tmp_path: Path) -> None:
    """Off a terminal rich assumes 80 columns; a CI log then read `split_a…` and `home_re…`."""
    verdict = analyze(two_workloads(tmp_path / "r", overlapping=False), [], write=False)
    out = io.StringIO()
    print_summary(verdict, tmp_path / "r", Console(file=out, width=80))
    text = out.getvalue()
    assert "split_attributes" in text and "home_region" in text, text
    totals = verdict.data["totals"]
    all_row = next(line for line in text.splitlines() if re.match(r"\W*all\b", line))
    # workload, writes, failed, unknown, conflicts (count rate), lost (count rate), ...
    cells = all_row.split()
    assert cells[:3] == ["all", f"{totals['writes_ok']:,}", "1"], all_row  # 1 failed write
    assert cells[6] == str(totals["lost_updates"]) and totals["lost_updates"] == 12, all_row
    assert "stale reads: 12 of 12 reads more than 1s stale" in text, text


def test_summary_at_an_80_column_terminal_cuts_no_figure(tmp_path: Path) -> None:
    """A soak's millions at a terminal 80 columns wide: every line fits, no cell is cut to
    "…" (a count and its rate that do not fit go on two lines), every count is there whole."""
    long = BudgetSpec(metric="lost_update_rate", max=0, workload="split_attributes")
    verdict = analyze(two_workloads(tmp_path / "r", overlapping=False), [long], write=False)
    rows = [*verdict.data["workloads"].values(), verdict.data["totals"]]
    for w in rows:
        for figure in ("writes_ok", "writes_failed", "conflicts", "lost_updates"):
            w[figure] = w[figure] * 1_234_567 + 1
        w["lost_update_rate"] = 0.12345
    out = io.StringIO()
    print_summary(verdict, tmp_path / "r", Console(file=out, width=80, force_terminal=True))
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    tables = text[: text.index("stale reads")].splitlines()
    assert max(len(line) for line in tables) <= 80 and "…" not in text, text
    for w in rows:
        assert f"{w['writes_ok']:,}" in text and f"{w['lost_updates']:,}" in text, text
    header = next(line for line in tables if line.startswith("workload"))
    assert header.split() == [
        "workload", "writes", "failed", "unknown", "conflicts", "lost", "skew", "diverg"
    ]  # fmt: skip


def test_report_says_which_run_and_shows_evidence_as_words(tmp_path: Path) -> None:
    report = two_workloads(tmp_path / "r", overlapping=False)
    analyze(report, [])
    html = (report / "report.html").read_text()
    # the first operation is at unix 100.0: the date an SRE files the report under
    assert "run of 1970-01-01 00:01:40 UTC for 120s" in html
    assert "in 2 shards" in html
    assert "{&#x27;" not in html and "{'" not in html, "a Python dict leaked into the page"
    assert "staleness 2.49" in html  # the stale read's own figure, as a duration
    assert "<td>None</td>" not in html  # a write that found no item has no pred
    assert "Some windows overlap" not in html
    assert "<th>writes failed</th>" in html and "(1 failed: Boom 1)" in html


def test_evidence_shows_the_data_that_was_lost(tmp_path: Path) -> None:
    """Not only version ids: the cart element that vanished, the increment, the attribute."""
    h = HistoryBuilder(tmp_path / "r")
    for key, lost, won in (("cart#1", "sock-7", "hat-2"), ("clicks#1", 3, 1),
                           ("split#1", {"phone": "555-0101"}, {"address": "1 Main St"})):  # fmt: skip
        v0 = h.write("us-east-1", key, None, 100.0)
        win = h.write("us-east-1", key, v0, 100.5, value=won)
        h.write("eu-west-1", key, v0, 100.501, value=lost)
        h.final(key, {"us-east-1": win, "eu-west-1": win}, t=200.0)
    h.campaign = {
        "name": "qa", "duration": "2m", "target": {"regions": ["us-east-1", "eu-west-1"]},
        "workloads": [{"kind": "cart", "name": "cart"}, {"kind": "counter", "name": "clicks"},
                      {"kind": "split_attributes", "name": "split"}],
    }  # fmt: skip
    report = h.save()
    analyze(report, [])
    html = (report / "report.html").read_text()
    assert "<th>written</th>" in html
    for shown in ("<td>sock-7</td>", "<td>+3</td>", "<td>phone = 555-0101</td>",
                  "<td>address = 1 Main St</td>"):  # fmt: skip
        assert shown in html, shown


def test_overlapping_fault_windows_are_explained(tmp_path: Path) -> None:
    """The per-window rows count an anomaly once per window it fell in, so with overlapping
    windows they add up to more than the totals: the page says so."""
    report = two_workloads(tmp_path / "r", overlapping=True)
    verdict = analyze(report, [])
    in_windows = sum(w["anomalies"].get("lost_updates", 0) for w in verdict.data["faults"])
    assert in_windows > verdict.data["totals"]["lost_updates"]
    assert "Some windows overlap" in (report / "report.html").read_text()
