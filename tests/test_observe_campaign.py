"""Observability end to end with a real campaign: `hothot run` against an emulator while the
real Prometheus scrapes the runner and the emulator; every dashboard and alert expression is
evaluated through Prometheus's HTTP API at a moment inside the run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from hothot.observe.dashboards import build_dashboard, dashboard_expressions
from tests.globaltable_fixtures import launch
from tests.observe_fixtures import PROMETHEUS, REPO, free_port, prometheus_server
from tests.run_fixtures import REGIONS, campaign, start_hothot, write_campaign

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (Debian prometheus)"),
]
ALERTS = REPO / "dashboards" / "prometheus" / "alerts.yml"
#: how far from a fault's logged start and heal a scrape may still see the gauge's old value
EDGE_S = 0.5
#: panels a campaign with a partition must fill (title fragments)
CORE = ("Operations/s by region", "Replication lag p99 by link", "Conflict rate by workload",
        "Replication backlog by link")  # fmt: skip


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("observe-campaign")
    emu = launch("--replication-delay", "100ms", "--replication-jitter", "20ms")
    port = free_port()
    data = campaign(
        "observed",
        duration="10s",
        target={"kind": "endpoints", "regions": REGIONS, "table": "hothot-observed",
                "endpoints": emu.regions, "control": emu.control},
        chaos=[{"at": "3s", "for": "4s", "fault": "partition", "regions": REGIONS[:2]}],
        budgets=[{"metric": "lost_update_rate", "max": 0.001}],
        observe={"metrics_port": port, "probe_interval": "100ms"},
    )  # fmt: skip
    control = emu.control.removeprefix("http://")
    try:
        with prometheus_server(
            {"hothot": [f"127.0.0.1:{port}"], "emulator": [f"{control}/metrics"]},
            rule_files=[ALERTS],
            interval="2s",  # the scrape timeout too: a loaded 2-core machine needs the slack
        ) as prom:
            report = tmp / "report"
            proc = start_hothot("run", str(write_campaign(tmp, data)), "--report-dir", str(report))
            _, err = proc.communicate(timeout=120)
            assert proc.returncode in (0, 1), err[-3000:]
            # a target's scrapes are stored in order: once one after the run's end has failed,
            # the run's last (taken before the runner stopped serving) is stored too
            prom.wait_for('up{job="hothot"} == 0', timeout=30)
            yield prom, json.loads((report / "verdict.json").read_text())
    finally:
        emu.stop()


def _concrete(expr: str) -> str:
    return (
        expr.replace("$campaign", "observed")
        .replace("$region", ".*")
        .replace("$__rate_interval", "30s")
    )


def _late_in_the_run(verdict: dict[str, Any]) -> float:
    """Two seconds after the heal: the rate windows then cover the whole partition."""
    window = next(w for w in verdict["faults"] if w.get("fault") == "partition")
    return window["heal"] + 2.0


def test_every_expression_is_valid_and_core_panels_have_data(scraped) -> None:
    prom, verdict = scraped
    at = _late_in_the_run(verdict)
    empty = []
    for where, expr in dashboard_expressions(build_dashboard()):
        answer = prom.query(_concrete(expr), at=at)
        assert answer["status"] == "success", f"{where}: {expr}: {answer.get('error')}"
        if not answer["data"]["result"]:
            empty.append(where)
    for title in CORE:
        assert not [w for w in empty if title in w], f"core panel {title!r} has no data: {empty}"
    for rule in yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]:
        answer = prom.query(rule["expr"], at=at)
        assert answer["status"] == "success", f"{rule['alert']}: {answer.get('error')}"


def test_the_fault_is_visible_exactly_in_its_window(scraped) -> None:
    """Every stored scrape taken while the partition was applied shows it, every one taken
    outside shows it healed. The gauge is set right after the chaos log's times: scrapes
    within EDGE_S of them may show either."""
    prom, verdict = scraped
    window = next(w for w in verdict["faults"] if w.get("fault") == "partition")
    stored = prom.query('hothot_fault_active{campaign="observed",fault="partition"}[5m]')
    [series] = stored["data"]["result"]
    samples = [(float(t), float(v)) for t, v in series["values"]]
    inside = [v for t, v in samples if window["start"] + EDGE_S <= t <= window["heal"] - EDGE_S]
    after = [v for t, v in samples if t > window["heal"] + EDGE_S]
    before = [v for t, v in samples if t < window["start"] - EDGE_S]
    assert inside and set(inside) == {1.0}, samples
    assert after and set(after) == {0.0}, samples
    assert set(before) <= {0.0}, samples


def test_live_counts_are_the_verdicts_provisional_view(scraped) -> None:
    prom, verdict = scraped
    ops = prom.query('sum(max_over_time(hothot_operations_total{campaign="observed"}[1m]))')
    recorded = float(ops["data"]["result"][0]["value"][1])
    assert recorded > 0.8 * verdict["totals"]["writes_ok"]
    conflicts = prom.query('sum(max_over_time(hothot_conflicts_total{campaign="observed"}[1m]))')
    live = float(conflicts["data"]["result"][0]["value"][1])
    final = verdict["totals"]["conflicts"]
    assert final > 0, "a partition over hot keys must conflict"
    # provisional: never more than the verdict, and close to it (the last scrape may miss a few)
    assert 0.9 * final <= live <= final
