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

import math
import os
import time
from collections import Counter as CounterOf
from collections.abc import Iterable
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from loadgen.live import ProvisionalAnomalies
from loadgen.live_budgets import BudgetGauges, LiveBudget, Provisional, budget_label

__all__ = ["LiveBudget", "LiveMetrics", "budget_label"]

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
#: seconds; AWS documents typical global-table lag of about a second, faults push it to many
#: seconds: bounds at most ~33 % apart from 0.3 s to 60 s, so histogram_quantile's linear
#: interpolation inside a bucket cannot overstate a multi-second p99 by more than that (the
#: emulator's `globaltable.metrics.LAG_BUCKETS` are the same, a test keeps them equal)
LAG_BUCKETS = (
    0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0,
    5.0, 6.0, 8.0, 10.0, 12.5, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 90.0, 120.0, 180.0,
    300.0,
)  # fmt: skip


#: a record's outcomes (verdict.history.Outcome)
OUTCOMES = ("ok", "fail", "unknown")

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

    #: scrape times kept: the newest few are all `wait_for_next` reads
    KEEP = 16

    def __init__(self) -> None:
        self.times: list[float] = []  # the newest KEEP
        self.count = 0  # every scrape so far

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        self.times.append(time.monotonic())
        self.count += 1
        del self.times[: -self.KEEP]  # in place: a soak scrapes for hours
        return ()

    def wait_for_next(self, max_wait_s: float, scrapes: int = 2) -> bool:
        """After the run's last figures are set: wait until a scraper that has been
        collecting takes `scrapes` more scrapes (so the figures are there for at least that
        many of its intervals, long enough for a rule evaluation to see them), for at most
        `scrapes + 1` of its intervals and `max_wait_s`. False at once when nothing scrapes."""
        times = self.times
        if not times:
            return False
        scrapes = min(scrapes, self.KEEP)
        mark = time.monotonic()
        interval = times[-1] - times[-2] if len(times) > 1 else max_wait_s
        deadline = mark + min(max_wait_s, (scrapes + 1) * interval + 0.5)
        while time.monotonic() < deadline:
            if sum(1 for t in times[-scrapes:] if t > mark) >= scrapes:
                return True
            time.sleep(0.05)
        return False


class HeartbeatAges:
    """Per link, the age of the newest heartbeat seen at the destination: the live lag that
    keeps rising, one second per second, while a link is cut (pt-heartbeat's idea, without
    its flaw of comparing two machines' clocks).

    A heartbeat record says how long after its write in the source it was seen in the target
    (`lag`, one monotonic clock: the probes write and poll in this process). When it reaches
    `observe` (at once: the probes' sink calls it), its write happened `lag` seconds ago, so
    the newest write seen on the link is known on this process's monotonic clock and its age
    is computed at each scrape. The histogram only learns of held heartbeats after the heal;
    this gauge shows the hold as it happens."""

    NAME = "hothot_replication_heartbeat_age_seconds"

    def __init__(self, campaign: str) -> None:
        self.campaign = campaign
        self._newest: dict[tuple[str, str], float] = {}

    def seen(self, source: str, target: str, lag: float) -> None:
        written = time.monotonic() - lag
        link = (source, target)
        if written > self._newest.get(link, -math.inf):
            self._newest[link] = written

    def end(self) -> None:
        """The probes stopped: the series go (Prometheus marks them stale) rather than rise
        while nothing is measured any more."""
        self._newest = {}

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        now = time.monotonic()
        family = GaugeMetricFamily(
            self.NAME,
            "Age of the newest heartbeat from source seen in target (rises 1 s/s while cut).",
            labels=["campaign", "source", "target"],
        )
        for (source, target), written in sorted(self._newest.items()):
            family.add_metric([self.campaign, source, target], max(0.0, now - written))
        yield family


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
        self._operation_metrics(r)
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
        #: anomaly kind -> (workload, region) -> provisional count, for the live budget
        #: figures (verdict.live.LiveFigures reads it)
        self.anomaly_cells: dict[str, CounterOf[tuple[str, str]]] = {
            k: CounterOf() for k in ("conflicts", "lost_updates", "skew_inverted")
        }
        self._budget_observed = BudgetGauges(campaign)
        r.register(self._budget_observed)  # type: ignore[arg-type]
        self._budget_limit = Gauge(
            "hothot_budget_limit", "A budget's limit.", ["campaign", "budget"], registry=r
        )
        self._op_children: dict[tuple[str, str, str, str], Any] = {}
        self._duration_children: dict[tuple[str, str, str], Any] = {}
        self._lag_children: dict[tuple[str, str], Any] = {}
        self._workloads: set[str] = set()
        self._server: WSGIServer | None = None
        self.heartbeats = HeartbeatAges(campaign)
        self.registry.register(self.heartbeats)  # type: ignore[arg-type]
        self.anomalies = ProvisionalAnomalies(
            self._per_workload(self._conflicts, "conflicts"),
            self._per_workload(self._lost, "lost_updates"),
            self._per_workload(self._skew, "skew_inverted"),
            max_keys=max_keys,
        )

    def _operation_metrics(self, r: CollectorRegistry) -> None:
        """What every history record feeds: counts, latency, black-box lag."""
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

    def _per_workload(self, counter: Counter, kind: str) -> Any:
        """The counter per workload (DESIGN §8), and per (workload, region) for the live
        budget figures."""
        children: dict[str, Any] = {}
        cells = self.anomaly_cells[kind]

        def inc(workload: str, region: str) -> None:
            child = children.get(workload)
            if child is None:
                child = children[workload] = counter.labels(self.campaign, workload)
            child.inc()
            cells[workload, region] += 1

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
            if record.get("probe") == "heartbeat":
                self.heartbeats.seen(*link, lag)
            return
        workload = record.get("workload", "")
        outcome = record.get("outcome", "")
        key = (region, workload, op, outcome)
        child = self._op_children.get(key)
        if child is None:
            child = self._new_operation(key)
        child.inc()
        if outcome != "ok":
            return
        dkey = (region, workload, op)
        timer = self._duration_children.get(dkey)
        if timer is None:
            timer = self._duration_children[dkey] = self._duration.labels(self.campaign, *dkey)
        timer.observe(max(0.0, record.get("t_complete", 0.0) - record.get("t_invoke", 0.0)))
        self.anomalies.observe(record)

    def _new_operation(self, key: tuple[str, str, str, str]) -> Any:
        """The counter of a new (region, workload, op, outcome), its sibling outcomes at 0
        (an errors/s panel then shows 0, not "no data", while nothing fails: "no data" also
        means a broken scrape), and the workload's anomaly counters at 0."""
        region, workload, op, _ = key
        for outcome in OUTCOMES:
            sibling = (region, workload, op, outcome)
            if sibling not in self._op_children:
                self._op_children[sibling] = self._operations.labels(self.campaign, *sibling)
        self._zero_anomalies(workload)
        return self._op_children.setdefault(key, self._operations.labels(self.campaign, *key))

    def _zero_anomalies(self, workload: str) -> None:
        """A workload's anomaly counters exist at 0 from its first operation on. A series that
        only appears at its first increment hides that increment from rate() and increase():
        a single lost update would never show on the dashboard's per-second panel."""
        if workload in self._workloads:
            return
        self._workloads.add(workload)
        for counter in (self._conflicts, self._lost, self._skew):
            counter.labels(self.campaign, workload)

    def load_ended(self) -> None:
        """The users and probes stopped: live lag is no longer measured."""
        self.heartbeats.end()

    def fault(self, fault: str, target: str, active: bool) -> None:
        """Mark a fault window; the dashboard turns 0→1→0 into an annotation region."""
        self._fault.labels(self.campaign, fault, target).set(1.0 if active else 0.0)

    def budgets(self, budgets: Iterable[tuple[str, float, float]]) -> None:
        """The verdict's `(name, observed, limit)` per budget, e.g. `("conflict_rate", 0.01,
        0.05)`: served as `state="final"` from now on, in place of the provisional figure."""
        final = {}
        for name, observed, limit in budgets:
            final[name] = observed
            self._budget_limit.labels(self.campaign, name).set(limit)
        self._budget_observed.set_final(final)

    def limits(self, budgets: Iterable[LiveBudget]) -> None:
        """The campaign's budgets' limits, from the start, so that alert rules comparing
        live figures with them work mid-run."""
        for budget in budgets:
            self._budget_limit.labels(self.campaign, budget.label).set(budget.limit)

    def provisional(self, figures: Provisional) -> None:
        """The budgets' provisional figures (label -> figure), read at every scrape until
        the verdict is in (`verdict.live.LiveFigures.provisional`, wired by the runner)."""
        self._budget_observed.provide(figures)

    def serve(self, port: int, host: str | None = None) -> int:
        """Serve `/metrics` in a daemon thread; returns the bound port (`port=0` picks one).

        The host defaults to `$HOTHOT_METRICS_HOST`, else 127.0.0.1 (loopback unless a
        container deliberately opens it, as docker-compose.yml does)."""
        host = host or os.environ.get("HOTHOT_METRICS_HOST", "127.0.0.1")
        self.close()
        self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_port)

    def last_scrape(self, max_wait_s: float = 30.0) -> bool:
        """Keep serving until Prometheus has scraped the final figures (the verdict's
        budget gauges, the last anomalies) twice: without it a run's end fell between
        scrapes, and a rule evaluated between them never saw the verdict.
        Returns at once when not serving or when nothing has been scraping."""
        return self._server is not None and self.scrapes.wait_for_next(max_wait_s)

    def close(self) -> None:
        """Stop serving (no-op when not serving)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
