"""Emulator metrics (DESIGN §8). The request path only bumps plain ints; a custom prometheus
Collector turns them into metric families when `/metrics` is scraped."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

#: seconds, from sub-millisecond loopback to faults that hold a link for minutes; the same
#: bounds as the runner's probe histogram (loadgen.metrics.LAG_BUCKETS), so the dashboard's
#: "probes beside ground truth" panel compares like with like
LAG_BUCKETS = (
    0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0,
    5.0, 6.0, 8.0, 10.0, 12.5, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 90.0, 120.0, 180.0,
    300.0,
)  # fmt: skip


class LagHistogram:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LAG_BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(LAG_BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, int]]:
        out, running = [], 0
        for bound, count in zip((*LAG_BUCKETS, float("inf")), self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return out


class Stats:
    """Counters the engine and the HTTP layer bump on the hot path."""

    def __init__(self) -> None:
        #: region -> (operation, HTTP status) -> answered requests
        self.requests: dict[str, Counter[tuple[str, int]]] = {}
        self.lww_overwrites: dict[str, int] = {}
        self.ttl_deletes: dict[str, int] = {}
        self.lag: dict[tuple[str, str], LagHistogram] = {}  # the links' own, set by the engine

    def region_requests(self, region: str) -> Counter[tuple[str, int]]:
        """The request counter of one region, for its HTTP handler to bump directly."""
        return self.requests.setdefault(region, Counter())

    def lww_overwrite(self, region: str) -> None:
        self.lww_overwrites[region] = self.lww_overwrites.get(region, 0) + 1

    def ttl_delete(self, region: str) -> None:
        self.ttl_deletes[region] = self.ttl_deletes.get(region, 0) + 1


class EmulatorCollector(Collector):
    """`backlogs()` -> {(source, target): n}; `offsets()` -> {region: seconds}."""

    def __init__(
        self,
        stats: Stats,
        regions: list[str],
        backlogs: Callable[[], dict[tuple[str, str], int]],
        offsets: Callable[[], dict[str, float]],
    ) -> None:
        self.stats = stats
        self.regions = regions
        self.backlogs = backlogs
        self.offsets = offsets

    def collect(self) -> Iterator[Any]:
        requests = CounterMetricFamily(
            "hothot_emulator_requests",
            "DynamoDB API requests answered, by region, operation and HTTP status",
            labels=["region", "operation", "status"],
        )
        for region, counts in sorted(self.stats.requests.items()):
            for (op, status), n in sorted(counts.items()):
                requests.add_metric([region, op, str(status)], n)
        yield requests
        backlog = GaugeMetricFamily(
            "hothot_emulator_replication_backlog",
            "Item images queued on a replication link, not yet applied in the target",
            labels=["source", "target"],
        )
        for (source, target), n in sorted(self.backlogs().items()):
            backlog.add_metric([source, target], n)
        yield backlog
        lag = HistogramMetricFamily(
            "hothot_emulator_replication_apply_lag_seconds",
            "Ground-truth replication lag: acknowledged in the source to applied in the target",
            labels=["source", "target"],
        )
        for (source, target), hist in sorted(self.stats.lag.items()):
            lag.add_metric([source, target], hist.cumulative(), hist.total)
        yield lag
        lww = CounterMetricFamily(
            "hothot_emulator_lww_overwrites",
            "Replicated item images discarded by last-writer-wins (a concurrent write won)",
            labels=["region"],
        )
        for region in self.regions:
            lww.add_metric([region], self.stats.lww_overwrites.get(region, 0))
        yield lww
        ttl = CounterMetricFamily(
            "hothot_emulator_ttl_deletes",
            "Expired items deleted by the TTL sweeper in this region (each then replicates)",
            labels=["region"],
        )
        for region in self.regions:
            ttl.add_metric([region], self.stats.ttl_deletes.get(region, 0))
        yield ttl
        offsets = GaugeMetricFamily(
            "hothot_emulator_clock_offset_seconds",
            "Current offset of a region's last-writer-wins clock from the wall clock",
            labels=["region"],
        )
        for region, offset in sorted(self.offsets().items()):
            offsets.add_metric([region], offset)
        yield offsets


def exposition(collector: EmulatorCollector) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)
