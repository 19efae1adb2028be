"""The runner's live Prometheus metrics (DESIGN §8, loadgen side).

`LiveMetrics.observe(record)` is called for every history record the master sees (up to ~20k/s),
so it is a couple of dict look-ups and a counter increment: label children are cached by their
label tuple instead of going through prometheus_client's `labels()` each time.

Every metric carries a `campaign` label (the campaign's name), the same on all series of one
run, so one Prometheus and one Grafana dashboard serve many campaigns (the dashboard's
`campaign` template variable). Conflicts, lost updates and skew-inverted wins are provisional
(see `loadgen.live`); the final verdict confirms them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from loadgen.live import ProvisionalAnomalies

#: seconds; DynamoDB-like latencies from sub-millisecond (emulator) to timeouts
DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: seconds; AWS documents typical global-table lag of about a second, faults push it further
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 30.0, 60.0)


def budget_label(metric: str, filters: dict[str, object] | None = None) -> str:
    """The `budget` label of a budget: its metric, then its filters in the order given, e.g.
    `lost_update_rate{workload=home_region}` (the verdict's budget label without its limit).
    The alert rules match on this spelling."""
    inner = ",".join(f"{k}={v}" for k, v in (filters or {}).items() if v not in (None, ""))
    return f"{metric}{{{inner}}}" if inner else metric


#: the live anomaly counters, per workload; the final verdict confirms them
PROVISIONAL_COUNTERS = (
    (
        "hothot_conflicts_total",
        "Provisional conflicts: extra acknowledged writes on one pred (verdict confirms).",
    ),
    (
        "hothot_lost_updates_total",
        "Provisional lost updates: superseded by a conflicting branch everywhere seen.",
    ),
    (
        "hothot_skew_inverted_total",
        "Provisional skew-inverted wins: the lost write began after the winner completed.",
    ),
)


class ScrapeClock:
    """A collector that adds no metric and notes when it is collected: each time is a
    scrape of `/metrics` (the registry is collected once per scrape)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        self.times.append(time.monotonic())
        return ()

    def wait_for_next(self, max_wait_s: float) -> bool:
        """After the run's last figures are set: wait until a scraper that has been
        collecting takes one more scrape, for at most two of its intervals (and
        `max_wait_s`). False at once when nothing scrapes."""
        times = self.times
        if not times:
            return False
        mark = time.monotonic()
        interval = times[-1] - times[-2] if len(times) > 1 else max_wait_s
        deadline = mark + min(max_wait_s, 2 * interval + 0.5)
        while time.monotonic() < deadline:
            if times[-1] > mark:
                return True
            time.sleep(0.05)
        return False


class LiveMetrics:
    """The loadgen metrics on their own registry, fed by history records and the runner."""

    def __init__(
        self,
        campaign: str = "",
        registry: CollectorRegistry | None = None,
        *,
        max_keys: int = 50_000,
    ) -> None:
        self.campaign = campaign
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        # registered first, so collected first in each scrape: a scrape noted after the final
        # figures were set read every metric after them too
        self.scrapes = ScrapeClock()
        r.register(self.scrapes)  # type: ignore[arg-type]
        self._operations = Counter(
            "hothot_operations_total",
            "Operations by region, workload, op and outcome (ok, fail, unknown).",
            ["campaign", "region", "workload", "op", "outcome"],
            registry=r,
        )
        self._duration = Histogram(
            "hothot_operation_duration_seconds",
            "Latency of acknowledged operations as the writer saw it.",
            ["campaign", "region", "workload", "op"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self._lag = Histogram(
            "hothot_replication_lag_seconds",
            "Black-box replication lag per link from lag probes (one monotonic clock).",
            ["campaign", "source", "target"],
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self._conflicts, self._lost, self._skew = (
            Counter(name, help_text, ["campaign", "workload"], registry=r)
            for name, help_text in PROVISIONAL_COUNTERS
        )
        self._fault = Gauge(
            "hothot_fault_active",
            "1 while a fault is applied to its target, 0 after it healed.",
            ["campaign", "fault", "target"],
            registry=r,
        )
        self._budget_observed = Gauge(
            "hothot_budget_observed",
            "A budget's observed value (same unit as its limit).",
            ["campaign", "budget"],
            registry=r,
        )
        self._budget_limit = Gauge(
            "hothot_budget_limit", "A budget's limit.", ["campaign", "budget"], registry=r
        )
        self._op_children: dict[tuple[str, str, str, str], Any] = {}
        self._duration_children: dict[tuple[str, str, str], Any] = {}
        self._lag_children: dict[tuple[str, str], Any] = {}
        self._workloads: set[str] = set()
        self._server: WSGIServer | None = None
        self.anomalies = ProvisionalAnomalies(
            self._per_workload(self._conflicts),
            self._per_workload(self._lost),
            self._per_workload(self._skew),
            max_keys=max_keys,
        )

    def _per_workload(self, counter: Counter) -> Any:
        children: dict[str, Any] = {}

        def inc(workload: str) -> None:
            child = children.get(workload)
            if child is None:
                child = children[workload] = counter.labels(self.campaign, workload)
            child.inc()

        return inc

    def observe(self, record: dict[str, Any]) -> None:
        """Count one history record (`verdict.history.Record`); cheap enough for every one."""
        op = record.get("op", "")
        region = record.get("region", "")
        if op == "probe":
            link = (region, record.get("target", ""))
            lag = record.get("lag")
            if lag is None or record.get("outcome", "ok") != "ok":
                return
            child = self._lag_children.get(link)
            if child is None:
                child = self._lag_children[link] = self._lag.labels(self.campaign, *link)
            child.observe(lag)
            return
        workload = record.get("workload", "")
        outcome = record.get("outcome", "")
        key = (region, workload, op, outcome)
        child = self._op_children.get(key)
        if child is None:
            child = self._op_children[key] = self._operations.labels(self.campaign, *key)
            self._zero_anomalies(workload)
        child.inc()
        if outcome != "ok":
            return
        dkey = (region, workload, op)
        timer = self._duration_children.get(dkey)
        if timer is None:
            timer = self._duration_children[dkey] = self._duration.labels(self.campaign, *dkey)
        timer.observe(max(0.0, record.get("t_complete", 0.0) - record.get("t_invoke", 0.0)))
        self.anomalies.observe(record)

    def _zero_anomalies(self, workload: str) -> None:
        """A workload's anomaly counters exist at 0 from its first operation on. A series that
        only appears at its first increment hides that increment from rate() and increase():
        a single lost update would never show on the dashboard's per-second panel."""
        if workload in self._workloads:
            return
        self._workloads.add(workload)
        for counter in (self._conflicts, self._lost, self._skew):
            counter.labels(self.campaign, workload)

    def fault(self, fault: str, target: str, active: bool) -> None:
        """Mark a fault window; the dashboard turns 0→1→0 into an annotation region."""
        self._fault.labels(self.campaign, fault, target).set(1.0 if active else 0.0)

    def budgets(self, budgets: Iterable[tuple[str, float, float]]) -> None:
        """Publish `(name, observed, limit)` per budget, e.g. `("conflict_rate", 0.01, 0.05)`."""
        for name, observed, limit in budgets:
            self._budget_observed.labels(self.campaign, name).set(observed)
            self._budget_limit.labels(self.campaign, name).set(limit)

    def limits(self, limits: Iterable[tuple[str, float]]) -> None:
        """Publish `(name, limit)` per budget at the start, so the alert rules that compare live
        figures with `hothot_budget_limit` work during the run, not only after the verdict."""
        for name, limit in limits:
            self._budget_limit.labels(self.campaign, name).set(limit)

    def serve(self, port: int, host: str | None = None) -> int:
        """Serve `/metrics` in a daemon thread; returns the bound port (`port=0` picks one).

        The host defaults to `$HOTHOT_METRICS_HOST`, else 127.0.0.1 (loopback unless a
        container deliberately opens it, as docker-compose.yml does)."""
        host = host or os.environ.get("HOTHOT_METRICS_HOST", "127.0.0.1")
        self.close()
        self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_port)

    def last_scrape(self, max_wait_s: float = 15.0) -> bool:
        """Keep serving until Prometheus has scraped the final figures (the verdict's
        budget gauges, the last anomalies): without it a run's end fell between scrapes.
        Returns at once when not serving or when nothing has been scraping."""
        return self._server is not None and self.scrapes.wait_for_next(max_wait_s)

    def close(self) -> None:
        """Stop serving (no-op when not serving)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
