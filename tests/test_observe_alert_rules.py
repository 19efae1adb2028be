"""Every shipped alert rule has promtool unit tests showing it fire and stay silent."""

from __future__ import annotations

import subprocess
from collections import defaultdict

import pytest
import yaml

from tests.observe_fixtures import PROMTOOL, REPO

ALERTS = REPO / "dashboards" / "prometheus" / "alerts.yml"
RULE_TESTS = REPO / "tests" / "promtool" / "alerts_test.yml"

pytestmark = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian package prometheus)"
)


def test_promtool_unit_tests_of_the_alert_rules_pass() -> None:
    run = subprocess.run(
        [PROMTOOL, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_shipped_rule_is_tested_firing_and_silent() -> None:
    rules = [
        rule["alert"]
        for group in yaml.safe_load(ALERTS.read_text())["groups"]
        for rule in group["rules"]
    ]
    cases: dict[str, set[str]] = defaultdict(set)
    for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            cases[case["alertname"]].add("fires" if case.get("exp_alerts") else "silent")
    untested = {rule: sorted({"fires", "silent"} - cases[rule]) for rule in rules}
    assert not {rule: missing for rule, missing in untested.items() if missing}
