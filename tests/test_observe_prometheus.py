"""End to end: real boto3 traffic on the real emulator feeds LiveMetrics; the real Prometheus
scrapes both; every dashboard and alert expression is evaluated through its HTTP API."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from hothot.observe.dashboards import build_dashboard, dashboard_expressions
from loadgen.metrics import LiveMetrics
from tests.globaltable_fixtures import RunningEmulator, launch
from tests.observe_fixtures import (
    PROMETHEUS,
    PROMTOOL,
    REPO,
    PrometheusServer,
    prometheus_server,
    sample,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (Debian prometheus)"),
]

CAMPAIGN = "e2e"
TABLE = "hothot-observe-e2e"
ALERTS = REPO / "dashboards" / "prometheus" / "alerts.yml"
KEYS = [f"profile#{i}" for i in range(4)]
#: panels that must show data after this traffic (title, refId)
CORE = {
    ("Operations/s by region", "A"),
    ("Write latency p50 / p99 by region", "B"),
    ("Replication lag p99 by link: probes beside emulator ground truth", "A"),
    ("Replication lag p99 by link: probes beside emulator ground truth", "B"),
    ("Replication backlog by link (emulator)", "A"),
    ("Conflict rate by workload", "A"),
    ("Lost-update rate by workload", "A"),
    ("Budgets: observed vs limit", "B"),
    ("Conflicts", "A"),
    ("Emulator requests/s by region and status", "A"),
}


class Traffic:
    """Region-pinned boto3 writers and readers that record history records into LiveMetrics."""

    def __init__(self, emu: RunningEmulator, live: LiveMetrics) -> None:
        self.clients = {region: emu.client(region) for region in emu.regions}
        self.live = live
        self.seq = 0

    def _record(self, region: str, key: str, op: str, t0: float, **fields: Any) -> None:
        self.seq += 1
        self.live.observe(
            {
                "id": f"t:{self.seq}",
                "worker": "t",
                "workload": "profile",
                "region": region,
                "key": key,
                "op": op,
                "t_invoke": t0,
                "t_complete": time.time(),
                **fields,
            }
        )

    def write(self, region: str, key: str) -> None:
        vid = f"t:{self.seq + 1}"
        t0 = time.time()
        try:
            answer = self.clients[region].put_item(
                TableName=TABLE,
                Item={"pk": {"S": key}, "hh_vid": {"S": vid}},
                ReturnValues="ALL_OLD",
            )
        except Exception as err:  # an outage or partition error is part of the history
            self._record(region, key, "put", t0, vid=vid, outcome="fail", error=type(err).__name__)
            return
        old = answer.get("Attributes", {}).get("hh_vid", {}).get("S")
        self._record(region, key, "put", t0, vid=vid, pred=old, outcome="ok")

    def read(self, region: str, key: str) -> None:
        t0 = time.time()
        item = self.clients[region].get_item(TableName=TABLE, Key={"pk": {"S": key}}).get("Item")
        vid = (item or {}).get("hh_vid", {}).get("S")
        self._record(region, key, "get", t0, vid=vid, outcome="ok")

    def probe(self, source: str, target: str, timeout: float = 5.0) -> None:
        """Write a heartbeat in `source`, poll `target` until it shows: one monotonic clock."""
        marker = f"{time.monotonic_ns()}"
        key = {"pk": {"S": f"hh#hb#{source}"}}
        self.clients[source].put_item(TableName=TABLE, Item={**key, "beat": {"S": marker}})
        acked = time.monotonic()
        while time.monotonic() - acked < timeout:
            item = self.clients[target].get_item(TableName=TABLE, Key=key).get("Item") or {}
            if item.get("beat", {}).get("S") == marker:
                self.live.observe(
                    {
                        "op": "probe",
                        "region": source,
                        "target": target,
                        "lag": time.monotonic() - acked,
                        "outcome": "ok",
                        "workload": "",
                        "probe": "heartbeat",
                    }
                )
                return
            time.sleep(0.01)

    def round(self) -> None:
        """Every region writes every key at once: siblings now, provisional losses next round."""
        for key in KEYS:
            for region in self.clients:
                self.write(region, key)
        for region in self.clients:
            self.read(region, KEYS[0])


@pytest.fixture(scope="module")
def scraped() -> Iterator[
    tuple[PrometheusServer, LiveMetrics, RunningEmulator, tuple[float, float]]
]:
    emu = launch("--replication-delay", "100ms", "--replication-jitter", "20ms")
    live = LiveMetrics(CAMPAIGN)
    port = live.serve(0)
    control = emu.control.removeprefix("http://")
    try:
        with prometheus_server(
            {"hothot-runner": [f"127.0.0.1:{port}"], "hothot-emulator": [f"{control}/metrics"]},
            rule_files=[ALERTS],
        ) as prom:
            regions = list(emu.regions)
            emu.client(regions[0]).create_table(
                TableName=TABLE,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            traffic = Traffic(emu, live)
            for _ in range(4):
                traffic.round()
                traffic.probe(regions[0], regions[1])
                time.sleep(0.2)
            # a partition: the backlog builds, the fault is live for a few scrapes
            cut = [regions[0], regions[2]]
            fault_id = emu.control_client.apply({"fault": "partition", "regions": cut})
            live.fault("partition", "<->".join(cut), True)
            inside = time.time()
            # hold the fault until a scrape has seen it (a busy machine can delay scrapes)
            prom.wait_for(f'hothot_fault_active{{campaign="{CAMPAIGN}"}} == 1')
            for _ in range(6):
                traffic.round()
                traffic.probe(regions[1], regions[2])
                time.sleep(0.4)
            emu.control_client.heal(fault_id)
            live.fault("partition", "<->".join(cut), False)
            healed = time.time()
            for _ in range(4):
                traffic.round()
                traffic.probe(regions[2], regions[0])
                time.sleep(0.2)
            conflicts = sample(
                live.registry, "hothot_conflicts_total", campaign=CAMPAIGN, workload="profile"
            )
            lost = sample(
                live.registry, "hothot_lost_updates_total", campaign=CAMPAIGN, workload="profile"
            )
            writes = traffic.seq
            live.budgets(
                [
                    ("lost_update_rate", lost / writes, 0.001),
                    ("conflict_rate", conflicts / writes, 0.05),
                    ("replication_lag_p99", 0.2, 3.0),
                ]
            )
            prom.wait_for(f'hothot_budget_limit{{campaign="{CAMPAIGN}"}}')
            time.sleep(2.5)  # a few more scrapes so every rate() has two points
            yield prom, live, emu, (inside, healed)
    finally:
        live.close()
        emu.stop()


def _concrete(expr: str) -> str:
    return (
        expr.replace("$campaign", CAMPAIGN)
        .replace("$region", ".*")
        .replace("$__rate_interval", "30s")
    )


def test_every_dashboard_expression_is_valid_and_core_panels_have_data(scraped) -> None:
    prom, _, _, window = scraped
    up = prom.targets_up()
    assert up and all(up.values()), up
    empty = []
    for where, expr in dashboard_expressions(build_dashboard()):
        answer = prom.query(_concrete(expr))
        assert answer["status"] == "success", f"{where}: {expr}: {answer.get('error')}"
        if not answer["data"]["result"]:
            empty.append(where)
    for title, ref in CORE:
        assert f"panel {title!r} {ref}" not in empty, f"core panel {title} {ref} has no data"
    assert CAMPAIGN in prom.label_values("campaign")
    # the fault annotation shades the partition window, not after it
    annotation = 'hothot_fault_active{campaign="e2e"} == 1'
    start, healed = window
    shaded = prom.query_range(annotation, start - 5, healed + 5, step=0.5)["data"]["result"]
    assert shaded, "no fault annotation over the partition window"
    times = [float(t) for t, _ in shaded[0]["values"]]
    assert start <= min(times) and max(times) <= healed + 2.5  # a scrape later at most
    assert not prom.query(annotation)["data"]["result"]


def test_every_alert_expression_is_valid_and_the_lost_update_alert_fires(scraped) -> None:
    prom = scraped[0]
    rules = yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]
    results = {}
    for rule in rules:
        answer = prom.query(rule["expr"])
        assert answer["status"] == "success", f"{rule['alert']}: {answer.get('error')}"
        results[rule["alert"]] = answer["data"]["result"]
    # lost updates happened and the budget is 0.1 %: the condition holds
    assert results["HothotLostUpdatesAboveBudget"], "lost-update alert condition not met"
    failed = {r["metric"]["budget"] for r in results["HothotBudgetFailed"]}
    assert failed == {"lost_update_rate", "conflict_rate"}  # not replication_lag_p99
    assert not results["HothotReplicationLagP99AboveBudget"]  # lag p99 ~0.1 s < 3 s


def test_provisional_figures_agree_with_the_emulators_ground_truth(scraped) -> None:
    _, live, emu, _ = scraped
    emu.control_client.quiesce(30)
    truth = emu.control_client.truth(TABLE)["totals"]
    conflicts = sample(
        live.registry, "hothot_conflicts_total", campaign=CAMPAIGN, workload="profile"
    )
    lost = sample(live.registry, "hothot_lost_updates_total", campaign=CAMPAIGN, workload="profile")
    assert conflicts == truth["conflicts"] > 0
    assert 0 < lost <= truth["lost_updates"]


def test_both_exporters_pass_promtool_check_metrics(scraped) -> None:
    if PROMTOOL is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    prom, live, emu, _ = scraped
    runner = [u for u in prom.targets_up() if not u.startswith(emu.control)]
    for url in (emu.metrics, *runner):
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read()
        assert re.search(rb"^hothot_", text, re.M), url
        check = subprocess.run(
            [PROMTOOL, "check", "metrics"], input=text, capture_output=True, timeout=30
        )
        assert check.returncode == 0, (url, check.stdout + check.stderr)
