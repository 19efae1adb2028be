"""The provisional anomaly counters of a workload exist at 0 before its first anomaly: a
counter series that appears at 1 hides that increment from Prometheus's rate()/increase()."""

from __future__ import annotations

from loadgen.metrics import LiveMetrics
from tests.observe_fixtures import RecordFactory

ANOMALIES = ("hothot_conflicts_total", "hothot_lost_updates_total", "hothot_skew_inverted_total")


def test_anomaly_counters_start_at_zero_with_the_workloads_first_operation() -> None:
    live = LiveMetrics("demo")
    for name in ANOMALIES:  # no operation yet: no series
        assert (
            live.registry.get_sample_value(name, {"campaign": "demo", "workload": "cart"}) is None
        )
    live.observe(RecordFactory(workload="cart").write("us", "cart#1", pred=None))
    live.observe(RecordFactory(workload="reader").get("eu", "cart#1", vid=None))
    for workload in ("cart", "reader"):
        labels = {"campaign": "demo", "workload": workload}
        assert [live.registry.get_sample_value(name, labels) for name in ANOMALIES] == [0.0] * 3


def test_the_first_conflict_counts_from_an_existing_zero() -> None:
    live = LiveMetrics("demo")
    rec = RecordFactory()
    live.observe(rec.write("us", "k", pred=None))
    before = live.registry.get_sample_value(
        "hothot_conflicts_total", {"campaign": "demo", "workload": "profile"}
    )
    live.observe(rec.write("us", "k", pred="w:1"))
    live.observe(rec.write("eu", "k", pred="w:1"))  # a sibling: the first conflict
    after = live.registry.get_sample_value(
        "hothot_conflicts_total", {"campaign": "demo", "workload": "profile"}
    )
    assert (before, after) == (0.0, 1.0)
