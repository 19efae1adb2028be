"""Observability end to end with a real campaign, in the default flow: `hothot run` starts its
own emulator (on free ports) while the real Prometheus scrapes the runner's endpoint only, as
dashboards/prometheus/prometheus-local.yml does; the emulator's series come through it. Every
dashboard and alert expression is evaluated through Prometheus's HTTP API at a moment inside
the run; the live lag, the budgets and the alerts are checked against the verdict."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from hothot.observe.dashboards import build_dashboard, dashboard_expressions
from tests.observe_fixtures import PROMETHEUS, REPO, free_port, prometheus_server
from tests.run_fixtures import REGIONS, campaign, start_hothot, write_campaign

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (Debian prometheus)"),
]
ALERTS = REPO / "dashboards" / "prometheus" / "alerts.yml"
#: how far from a fault's logged start and heal a scrape may still see the gauge's old value
EDGE_S = 0.5
#: the partition: long against the scrape interval, so the sampled heartbeat age can show it
CUT_S = 5.0
#: budgets: the lag one fails by construction (the held heartbeats wait out the partition)
BUDGETS = [
    {"metric": "lost_update_rate", "max": 0.001},
    {"metric": "replication_lag_max", "max": "1s"},
    {"metric": "conflict_rate", "max": 1},
]


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("observe-campaign")
    port = free_port()
    data = campaign(
        "observed",
        duration="10s",
        chaos=[{"at": "3s", "for": f"{CUT_S:g}s", "fault": "partition", "regions": REGIONS[:2]}],
        budgets=BUDGETS,
        observe={"metrics_port": port, "probe_interval": "100ms"},
    )
    with prometheus_server(
        {"hothot": [f"127.0.0.1:{port}"]},
        rule_files=[ALERTS],
        interval="1s",  # also the scrape timeout, and the rule evaluation interval
    ) as prom:
        report = tmp / "report"
        proc = start_hothot("run", str(write_campaign(tmp, data)), "--report-dir", str(report))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err[-3000:]  # the lag budget fails
        # a target's scrapes are stored in order: once one after the run's end has failed,
        # the run's last (taken before the runner stopped serving) is stored too
        prom.wait_for('up{job="hothot"} == 0', timeout=30)
        yield prom, json.loads((report / "verdict.json").read_text())


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


def test_every_expression_is_valid_and_every_panel_has_data(scraped) -> None:
    prom, verdict = scraped
    at = _late_in_the_run(verdict)
    empty = []
    for where, expr in dashboard_expressions(build_dashboard()):
        answer = prom.query(_concrete(expr), at=at)
        assert answer["status"] == "success", f"{where}: {expr}: {answer.get('error')}"
        if not answer["data"]["result"]:
            empty.append(where)
    # every panel has data; the fault annotation is empty after the heal, as it must be (the
    # window test checks it inside the window)
    assert empty == ["annotation 'Faults (metrics)'"], empty
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


def _partition(verdict: dict[str, Any]) -> dict[str, Any]:
    return next(w for w in verdict["faults"] if w.get("fault") == "partition")


def test_the_live_lag_of_a_cut_link_rises_through_the_partition(scraped) -> None:
    prom, verdict = scraped
    window = _partition(verdict)
    cut = window["heal"] - window["start"]
    ages = 'hothot_replication_heartbeat_age_seconds{campaign="observed"}'
    answer = prom.query_range(ages, window["start"] - 1, window["heal"] + 3, step=0.5)
    rise = {
        (s["metric"]["source"], s["metric"]["target"]): max(float(v) for _, v in s["values"])
        for s in answer["data"]["result"]
    }
    a, b, other = REGIONS
    for link in ((a, b), (b, a)):  # both directions of the cut
        assert rise[link] >= 0.8 * cut, (link, rise, cut)
    assert rise[(other, a)] < 1.5, rise  # a link the partition did not cut stays fresh
    # and the verdict agrees: the held heartbeats waited about as long
    assert verdict["lag"][f"{a}->{b}"]["max"] >= 0.8 * cut


def test_the_runs_own_emulator_is_scraped_through_the_runner(scraped) -> None:
    prom, verdict = scraped
    window = _partition(verdict)
    backlog = (
        'max_over_time(hothot_emulator_replication_backlog{campaign="observed",'
        f'source="{REGIONS[0]}",target="{REGIONS[1]}"}}[{CUT_S:g}s])'
    )
    held = prom.query(backlog, at=window["heal"])["data"]["result"]
    assert held and float(held[0]["value"][1]) > 0, "the cut link's backlog never showed"
    offsets = prom.query(
        'hothot_emulator_clock_offset_seconds{campaign="observed"}', at=window["heal"]
    )
    assert {s["metric"]["region"] for s in offsets["data"]["result"]} == set(REGIONS)


def test_budgets_are_live_during_the_run_and_the_final_figures_fire_the_alert(scraped) -> None:
    prom, verdict = scraped
    window = _partition(verdict)
    live = prom.query(
        'hothot_budget_observed{campaign="observed",state="provisional"}', at=window["heal"]
    )
    assert {s["metric"]["budget"] for s in live["data"]["result"]} == {b["metric"] for b in BUDGETS}
    final = prom.query(
        'count_over_time(hothot_budget_observed{campaign="observed",state="final"}[1m])'
    )["data"]["result"]
    held = {s["metric"]["budget"]: int(s["value"][1]) for s in final}
    assert held.keys() == {b["metric"] for b in verdict["budgets"]}
    assert min(held.values()) >= 2, held  # at least two scrapes of the verdict
    lag = prom.query(
        'max_over_time(hothot_budget_observed{campaign="observed",state="final",'
        'budget="replication_lag_max"}[1m])'
    )["data"]["result"]
    observed = next(
        b["observed"] for b in verdict["budgets"] if b["metric"] == "replication_lag_max"
    )
    assert float(lag[0]["value"][1]) == pytest.approx(observed)
    fired = prom.query(
        'max_over_time(ALERTS{alertname="HothotBudgetFailed",alertstate="firing"}[1m])'
    )
    assert {s["metric"]["budget"] for s in fired["data"]["result"]} == {
        b["metric"] for b in verdict["budgets"] if not b["passed"]
    }
    # the provisional lag figure crossed its limit during the run: the rule went pending
    # (it fires after 15 s, longer than this run)
    pending = prom.query(
        'max_over_time(ALERTS{alertname="HothotBudgetExceeded",budget="replication_lag_max"}[1m])'
    )
    assert pending["data"]["result"], "the provisional lag figure never crossed its limit"
