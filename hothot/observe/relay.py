"""The run's own emulator, scraped through the runner's `/metrics`.

The emulator that `hothot run` starts for an `emulator` target listens on free ports, so no
Prometheus config can name it. The runner's endpoint (`observe.metrics_port`, the one the
shipped configs scrape) therefore relays it: at each scrape the runner fetches the child's
`/metrics` over loopback and re-exposes its `hothot_emulator_*` families with the run's
`campaign` label, which also tells them from an emulator started by hand and scraped
directly. A fetch that fails adds nothing to that scrape (and counts in `failures`): the
runner's own series never depend on the child answering.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

PREFIX = "hothot_emulator_"


class EmulatorRelay:
    """A prometheus_client collector that yields another exporter's `hothot_emulator_*`
    families, each sample labelled `campaign=<campaign>`."""

    def __init__(self, url: str, campaign: str, *, timeout_s: float = 2.0) -> None:
        self.url = url
        self.campaign = campaign
        self.timeout_s = timeout_s
        self.failures = 0

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterable[Metric]:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout_s) as answer:
                text = answer.read().decode("utf-8", errors="replace")
        except (OSError, urllib.error.URLError, ValueError):
            self.failures += 1
            return
        for family in text_string_to_metric_families(text):
            if not family.name.startswith(PREFIX):
                continue
            relayed = Metric(family.name, family.documentation, family.type, family.unit)
            for s in family.samples:
                labels = {**s.labels, "campaign": self.campaign}
                relayed.add_sample(s.name, labels, s.value, s.timestamp)
            yield relayed
