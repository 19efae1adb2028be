"""Every metric the committed Grafana dashboard and the alert rules query exists in a live
scrape of a real `hothot run` (the runner's /metrics and the emulator's), with the labels the
queries select and group by; and the fault annotation's series shows the fault.

A query naming a metric or a label that no exporter has is valid PromQL that silently returns
nothing (`{campaign=~".*"}` even matches a missing label), so only a scrape catches it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.globaltable_fixtures import RunningEmulator, launch
from tests.observe_fixtures import REPO, free_port
from tests.run_fixtures import REGIONS, campaign, write_campaign

pytestmark = pytest.mark.slow

DASHBOARD = REPO / "dashboards" / "hothot-campaign.json"
ALERTS = REPO / "dashboards" / "prometheus" / "alerts.yml"
#: set only once the verdict is in, moments before the runner stops serving: a scrape during
#: the run sees its declaration (# TYPE) but rarely a sample
AFTER_THE_VERDICT = {"hothot_budget_observed"}
#: per exposition type, the sample names a family declares
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
SELECTOR = re.compile(r"\b(hothot_[a-z0-9_]+)\s*(\{[^}]*\})?")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
GROUPING = re.compile(r"\b(?:by|on|without|ignoring|group_left|group_right)\s*\(([^)]*)\)")
REGEX_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=~\s*"((?:[^"\\]|\\.)*)"')


def _optional(selector: str) -> set[str]:
    """Labels a selector matches with a regex that also matches the empty string, i.e. that
    series without the label match too (the emulator's `campaign=~"$campaign|"`: relayed by
    the run's runner they carry it, scraped directly they do not)."""
    out = set()
    for label, pattern in REGEX_MATCHER.findall(selector):
        concrete = re.sub(r"\$\w+", "x", pattern.replace("\\\\", "\\"))
        if re.fullmatch(concrete, ""):
            out.add(label)
    return out


def _blanked(expr: str) -> str:
    """`expr` with every string's content blanked, keeping every offset."""
    return STRING.sub(lambda m: '"' + "_" * (len(m.group(0)) - 2) + '"', expr)


class Scrapes:
    """The union of what repeated scrapes of some /metrics endpoints exposed."""

    def __init__(self) -> None:
        self.declared: set[str] = set()
        self.labels: dict[str, set[str]] = defaultdict(set)  # sample name -> label names
        self.fault_active: set[tuple[str, str]] = set()  # (fault, target) seen at 1

    def scrape(self, url: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                text = answer.read().decode()
        except OSError:
            return  # not serving yet, or already stopped
        for family in text_string_to_metric_families(text):
            for suffix in SUFFIXES.get(family.type, ("",)):
                self.declared.add(family.name + suffix)
            for s in family.samples:
                self.labels[s.name].update(s.labels)
                if s.name == "hothot_fault_active" and s.value == 1:
                    self.fault_active.add((s.labels["fault"], s.labels["target"]))


def _expressions() -> list[tuple[str, str]]:
    """(where, PromQL) of every dashboard query, annotation and template, and every alert."""
    found: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "query") and isinstance(value, str) and "hothot_" in value:
                    found.append((f"{where}.{key}", value))
                else:
                    walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(json.loads(DASHBOARD.read_text()), "dashboard")
    for rule in yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]:
        found.append((f"alert {rule['alert']}", rule["expr"]))
    return found


@pytest.fixture(scope="module")
def scrapes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapes]:
    tmp = tmp_path_factory.mktemp("dashboard-metrics")
    emu: RunningEmulator = launch("--replication-delay", "100ms", "--replication-jitter", "20ms")
    port = free_port()
    data = campaign(
        "scraped",
        duration="6s",
        target={"kind": "endpoints", "regions": REGIONS, "table": "hothot-scraped",
                "endpoints": emu.regions, "control": emu.control},
        chaos=[{"at": "1s", "for": "3s", "fault": "clock_skew", "region": REGIONS[2],
                "offset": "2s"},
               {"at": "2s", "for": "3s", "fault": "partition", "regions": REGIONS[:2]}],
        budgets=[{"metric": "lost_update_rate", "max": 0.001},
                 {"metric": "replication_lag_p99", "max": "3s"}],
        observe={"metrics_port": port, "probe_interval": "100ms"},
    )  # fmt: skip
    seen = Scrapes()
    out = (tmp / "out.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hothot", "run", str(write_campaign(tmp, data)),
         "--report-dir", str(tmp / "report")],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            seen.scrape(f"http://127.0.0.1:{port}/metrics")
            seen.scrape(emu.metrics)
            time.sleep(0.2)
        assert proc.wait(timeout=5) in (0, 1), (tmp / "out.txt").read_text()[-3000:]
        yield seen
    finally:
        if proc.poll() is None:
            proc.kill()
        out.close()
        emu.stop()


def test_every_queried_metric_and_label_is_in_a_live_scrape(scrapes: Scrapes) -> None:
    problems = []
    for where, expr in _expressions():
        found = list(SELECTOR.finditer(_blanked(expr)))  # "{" and "=" inside values are text
        used = [(m.group(1), m.group(2)) for m in found]
        assert used, f"{where}: no hothot metric in {expr!r}"
        for m in found:
            name, selector = m.group(1), m.group(2)
            optional = _optional(expr[m.start(2) : m.end(2)]) if selector else set()
            if name in AFTER_THE_VERDICT:
                if name not in scrapes.declared:
                    problems.append(f"{where}: {name} is not exported")
                continue
            if name not in scrapes.labels:
                problems.append(f"{where}: {name} has no samples in the run's scrapes")
                continue
            for label in MATCHER.findall(selector or ""):
                if label not in scrapes.labels[name] and label not in optional:
                    problems.append(f"{where}: {name} has no label {label!r}")
        # grouping labels must exist on at least one metric of the expression
        have = set().union(*(scrapes.labels.get(n, set()) for n, _ in used))
        have |= {"campaign", "budget"} if AFTER_THE_VERDICT & {n for n, _ in used} else set()
        for group in GROUPING.findall(expr):
            for label in filter(None, (g.strip() for g in group.split(","))):
                if label not in have:
                    problems.append(f"{where}: no metric of {expr!r} has label {label!r}")
    assert not problems, "\n".join(problems)


def test_the_fault_annotation_series_shows_both_faults(scrapes: Scrapes) -> None:
    assert scrapes.fault_active >= {
        ("clock_skew", REGIONS[2]),
        ("partition", f"{REGIONS[0]}<->{REGIONS[1]}"),
    }
