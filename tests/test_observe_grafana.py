"""Grafana and Pushgateway calls, checked against a loopback server that records them (no
Grafana or Pushgateway can run on this machine)."""

from __future__ import annotations

import time

import pytest

from hothot.cli import main
from hothot.observe.dashboards import UID
from hothot.observe.grafana import GrafanaAnnotations, push_dashboards
from hothot.observe.pushgateway import push_verdict
from tests.observe_fixtures import RecordingServer, free_port

VERDICT = {
    "passed": False,
    "partial": False,
    "totals": {"writes_ok": 1000, "writes_unknown": 2, "conflicts": 40, "lost_updates": 3},
    "workloads": {"profile": {"conflicts": 40, "lost_updates": 3, "conflict_rate": 0.04}},
    "lag": {"us-east-1->eu-west-1": {"p50": 0.8, "p99": 2.5}},
    "budgets": [
        {"metric": "lost_update_rate", "max": 0.001, "observed": 0.003, "passed": False},
        {
            "metric": "lost_update_rate",
            "max": 0,
            "observed": 0,
            "passed": True,
            "workload": "home_region",
            "region": None,
            "label": "lost_update_rate{workload=home_region} <= 0",
            "unit": "ratio",
        },
        {"metric": "replication_lag_p99", "max": 3.0, "observed": None, "passed": True},
    ],
}


def test_push_sends_the_dashboard_with_the_token() -> None:
    with RecordingServer({"status": "success", "uid": UID}) as grafana:
        answers = push_dashboards(grafana.url, "s3cret", folder_uid="f1")
    assert answers == [{"status": "success", "uid": UID}]
    (request,) = grafana.requests
    assert (request["method"], request["path"]) == ("POST", "/api/dashboards/db")
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    (body,) = grafana.json_bodies("POST", "/api/dashboards/db")
    assert body["dashboard"]["uid"] == UID and body["overwrite"] is True
    assert body["folderUid"] == "f1"


def test_cli_push_reports_success_and_an_unreachable_grafana(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with RecordingServer({"status": "success", "url": "/d/x"}) as grafana:
        assert main(["dashboards", "push", "--url", grafana.url, "--token", "t"]) == 0
    assert len(grafana.requests) == 1
    dead = f"http://127.0.0.1:{free_port()}"
    assert main(["dashboards", "push", "--url", dead, "--token", "t"]) == 2
    assert dead in capsys.readouterr().err


def test_a_url_without_scheme_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="127.0.0.1:3000"):
        push_dashboards("127.0.0.1:3000", None)


def test_fault_start_posts_an_annotation_and_heal_closes_it_into_a_region() -> None:
    with RecordingServer({"id": 42, "message": "Annotation added"}) as grafana:
        notes = GrafanaAnnotations(grafana.url, "tok", campaign="demo")
        before = int(time.time() * 1000)
        notes.fault("partition", "us-east-1<->eu-west-1", True)
        notes.fault("partition", "us-east-1<->eu-west-1", False)
        after = int(time.time() * 1000)
    (start,) = grafana.json_bodies("POST", "/api/annotations")
    assert {"hothot", "partition", "demo"} <= set(start["tags"])
    assert before <= start["time"] <= after and "us-east-1<->eu-west-1" in start["text"]
    (heal,) = grafana.json_bodies("PATCH", "/api/annotations/42")
    assert start["time"] <= heal["timeEnd"] <= after
    assert all(r["headers"]["Authorization"] == "Bearer tok" for r in grafana.requests)
    assert notes.failures == 0


def test_an_unreachable_grafana_does_not_stop_the_run() -> None:
    notes = GrafanaAnnotations(f"http://127.0.0.1:{free_port()}", "tok", timeout=1.0)
    notes.fault("clock_skew", "eu-west-1", True)
    notes.fault("clock_skew", "eu-west-1", False)
    assert notes.failures == 2


def test_push_verdict_sends_the_figures_grouped_by_campaign() -> None:
    with RecordingServer({}) as gateway:
        push_verdict(gateway.url, "hothot", VERDICT, campaign="demo")
    (request,) = gateway.requests
    assert request["method"] == "PUT"
    assert request["path"] == "/metrics/job/hothot/campaign/demo"
    text = request["body"].decode()
    assert 'hothot_verdict_passed{campaign="demo"} 0.0' in text
    assert 'hothot_verdict_total{campaign="demo",figure="lost_updates"} 3.0' in text
    assert (
        'hothot_verdict_lag_seconds{campaign="demo",source="us-east-1",stat="p99",'
        'target="eu-west-1"} 2.5'
    ) in text
    assert 'hothot_verdict_budget_observed{budget="lost_update_rate",campaign="demo"} 0.003' in text
    assert 'budget="lost_update_rate{workload=home_region}"' in text
    # a budget without data has a limit and a result but no observed sample
    assert 'hothot_verdict_budget_limit{budget="replication_lag_p99",campaign="demo"} 3.0' in text
    assert 'hothot_verdict_budget_observed{budget="replication_lag_p99"' not in text


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"totals": {}}, "boolean 'passed'"),
        ({**VERDICT, "totals": {"conflicts": "many"}}, "totals.conflicts"),
        ({**VERDICT, "lag": {"us-east-1": {"p99": 1.0}}}, "'source->target'"),
        ({**VERDICT, "budgets": [{"max": 1}]}, r"budgets\[0\]"),
    ],
)
def test_a_malformed_verdict_is_refused_naming_the_field(broken: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        push_verdict("http://127.0.0.1:9", "hothot", broken)
