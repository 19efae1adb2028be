"""The committed dashboard, Prometheus config, alert rules and compose file are current and valid."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from hothot.cli import main
from hothot.observe.dashboards import FILE_NAME, build_dashboard, dashboard_expressions, render
from loadgen.metrics import LiveMetrics
from tests.observe_fixtures import PROMTOOL, REPO

PROM_DIR = REPO / "dashboards" / "prometheus"
#: DESIGN §8, emulator side (served by the emulator's control port)
EMULATOR_METRICS = {
    "hothot_emulator_requests_total",
    "hothot_emulator_replication_backlog",
    "hothot_emulator_replication_apply_lag_seconds",
    "hothot_emulator_lww_overwrites_total",
    "hothot_emulator_clock_offset_seconds",
}


def _exported_names() -> set[str]:
    names = set(EMULATOR_METRICS)
    for family in LiveMetrics("x").registry.collect():
        names.add(family.name + ("_total" if family.type == "counter" else ""))
    return names


def _base(name: str) -> str:
    return re.sub(r"_(bucket|count|sum)$", "", name)


def test_committed_dashboard_json_is_what_the_code_builds() -> None:
    committed = (REPO / "dashboards" / FILE_NAME).read_text()
    assert committed == render(build_dashboard()), "stale: run `hothot dashboards build`"


def test_build_check_fails_on_a_stale_copy_and_build_rewrites_it(tmp_path: Path) -> None:
    assert main(["dashboards", "build", "--out", str(tmp_path)]) == 0
    assert main(["dashboards", "build", "--check", "--out", str(tmp_path)]) == 0
    path = tmp_path / FILE_NAME
    path.write_text(path.read_text().replace("Operations/s by region", "Ops"))
    assert main(["dashboards", "build", "--check", "--out", str(tmp_path)]) == 1


def test_panels_cover_the_issue_and_use_only_exported_metrics() -> None:
    dashboard = build_dashboard()
    names = _exported_names()
    exprs = dashboard_expressions(dashboard)
    used = {_base(m) for _, e in exprs for m in re.findall(r"hothot_\w+", e)}
    unknown = {m for m in used if m not in names and f"{m}_total" not in names}
    assert not unknown, f"dashboard uses metrics nobody exports: {unknown}"
    missing = names - used
    assert not missing, f"metrics of DESIGN §8 with no panel: {missing}"
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"campaign", "region"} <= variables
    fault_annotations = [a for a in dashboard["annotations"]["list"] if "expr" in a]
    assert fault_annotations and "hothot_fault_active" in fault_annotations[0]["expr"]
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    if PROMTOOL is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-local.yml"])
def test_prometheus_config_passes_promtool(config: str) -> None:
    check = _promtool("check", "config", str(PROM_DIR / config))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "1 rule files found" in check.stdout


def test_alert_rules_pass_promtool_and_cover_the_issue() -> None:
    check = _promtool("check", "rules", str(PROM_DIR / "alerts.yml"))
    assert check.returncode == 0, check.stdout + check.stderr
    rules = yaml.safe_load((PROM_DIR / "alerts.yml").read_text())["groups"][0]["rules"]
    alerts = {r["alert"]: r["expr"] for r in rules}
    assert "hothot_lost_updates_total" in alerts["HothotLostUpdatesAboveBudget"]
    assert "hothot_replication_lag_seconds" in alerts["HothotReplicationLagP99AboveBudget"]
    assert "deriv(hothot_emulator_replication_backlog" in alerts["HothotReplicationBacklogGrowing"]


def test_a_broken_rule_file_is_caught_by_promtool(tmp_path: Path) -> None:
    """The check above can fail: the same tool on a typo'd copy does."""
    broken = tmp_path / "alerts.yml"
    broken.write_text(
        (PROM_DIR / "alerts.yml").read_text().replace("sum by (campaign) (", "sum by (", 1)
    )
    assert _promtool("check", "rules", str(broken)).returncode != 0


def test_compose_file_is_valid_and_publishes_only_on_loopback() -> None:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose not installed (Debian package docker-compose)")
    out = subprocess.run(
        [compose, "-f", str(REPO / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    assert {"emulator", "runner", "worker", "prometheus", "grafana", "pushgateway"} <= set(services)
    for name, service in services.items():
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"
    grafana_env = services["grafana"]["environment"]
    assert grafana_env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert grafana_env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    # the provisioned dashboard file is the committed one
    mounts = " ".join(str(v) for v in services["grafana"]["volumes"])
    assert FILE_NAME in mounts
