"""report.html: self-contained, and renders in headless Chromium without console errors."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.verdict_fixtures import CHROMIUM, HistoryBuilder, eventful
from verdict.analyze import analyze
from verdict.spec import BudgetSpec


def test_report_is_self_contained_and_complete(history: HistoryBuilder) -> None:
    report = eventful(history)
    analyze(
        report,
        [
            BudgetSpec(metric="lost_updates", max=0),
            BudgetSpec(metric="replication_lag_p99", max="2s"),
        ],
    )
    html = (report / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "no network resources"
    assert "<script" not in html
    assert "html &lt;check&gt;" in html  # campaign text is escaped
    assert html.count("<svg") == 3 and 'class="fault"' in html  # timeline, latency, lag
    # budget, observed, limit: the label does not repeat the limit beside its column
    assert "<td>lost_updates</td><td>20</td><td>0</td>" in html
    assert "FAIL" in html and "PASS" in html
    assert "us-east-1-&gt;eu-west-1" in html  # lag per link
    assert "Lost updates: acknowledged writes" in html


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`)"
)
def test_report_renders_in_headless_chromium(history: HistoryBuilder, tmp_path: Path) -> None:
    report = eventful(history)
    analyze(report, [BudgetSpec(metric="lost_updates", max=0)])
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            (report / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    assert '<table class="budgets">' in dom and "<td>lost_updates</td>" in dom
    assert dom.count("<svg") == 3 and "<polyline" in dom and "<circle" in dom
    assert "FAILED" in dom
