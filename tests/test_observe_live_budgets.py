"""Live figures an alert can fire on: provisional budgets, the heartbeat age, lag buckets."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from globaltable.metrics import LAG_BUCKETS as EMULATOR_LAG_BUCKETS
from loadgen.metrics import LAG_BUCKETS, LiveBudget, LiveMetrics
from tests.observe_fixtures import RecordFactory
from verdict.live import LiveFigures
from verdict.spec import BudgetSpec
from verdict.stats import LogQuantiles, nearest_rank


def observed(live: LiveMetrics, budget: str, state: str = "provisional") -> float | None:
    labels = {"campaign": "demo", "budget": budget, "state": state}
    return live.registry.get_sample_value("hothot_budget_observed", labels)


def probe(source: str, target: str, lag: float, kind: str = "heartbeat") -> dict:
    return {
        "op": "probe", "region": source, "target": target, "lag": lag, "outcome": "ok",
        "workload": "", "probe": kind,
    }  # fmt: skip


def budget(metric: str, limit: float, **fields: object) -> BudgetSpec:
    return BudgetSpec.model_validate({"metric": metric, "max": limit, **fields})


def run_metrics(*budgets: BudgetSpec) -> tuple[LiveMetrics, LiveFigures, Callable[[dict], None]]:
    """The live metrics and the live budget figures wired as the runner wires them, and a
    function handing a record to both (as the run's hub does)."""
    live = LiveMetrics("demo")
    live.limits(LiveBudget(b.metric, b.max, b.filter_values) for b in budgets)
    figures = LiveFigures(budgets, anomalies=live.anomaly_cells)
    live.provisional(figures.provisional)

    def feed(record: dict) -> None:
        live.observe(record)
        figures.on_record(record)

    return live, figures, feed


def test_budgets_have_provisional_figures_during_the_run_and_final_ones_after() -> None:
    live, _, feed = run_metrics(
        budget("conflict_rate", 0.05),
        budget("lost_update_rate", 0.0, workload="profile", region="eu"),
        budget("unknown_rate", 0.5),
        budget("replication_lag_p99", 3.0, link="us->eu"),
        budget("replication_lag_max", 3.0, region="eu"),
        budget("divergent_keys", 0),
    )
    assert observed(live, "conflict_rate") is None  # no write yet: no sample, not a 0
    rec = RecordFactory()
    base = rec.write("us", "k", pred=None)
    winner = rec.write("us", "k", pred=base["id"], t=10.0)
    loser = rec.write("eu", "k", pred=base["id"], t=10.0)
    for record in (base, winner, loser, rec.write("us", "j", pred=None, outcome="unknown")):
        feed(record)
    assert observed(live, "conflict_rate") == 1 / 3  # one conflict per acknowledged write
    label = "lost_update_rate{workload=profile,region=eu}"
    assert observed(live, label) == 0.0
    feed(rec.write("eu", "k", pred=winner["id"], t=20.0))  # eu moved on: loser lost
    assert observed(live, label) == 1 / 2  # one of eu's two acknowledged writes
    assert observed(live, "unknown_rate") == 1 / 5
    lags = [0.1 * n for n in range(1, 101)]
    for lag in lags:
        feed(probe("us", "eu", lag))
    feed(probe("ap", "eu", 12.5, kind="sample"))
    p99 = observed(live, "replication_lag_p99{link=us->eu}")
    exact = nearest_rank(lags, 0.99)
    assert p99 is not None and exact <= p99 <= exact * 1.01
    assert observed(live, "replication_lag_max{region=eu}") == 12.5
    assert observed(live, "divergent_keys") is None  # no live figure for it
    live.budgets([("conflict_rate", 0.25, 0.05), ("divergent_keys", 0.0, 0.0)])
    assert observed(live, "conflict_rate", "final") == 0.25
    assert observed(live, "divergent_keys", "final") == 0.0
    # the verdict is in: no provisional sample is left, not even for a budget it has no
    # figure for (replication_lag_p99 here)
    assert observed(live, "conflict_rate") is None
    assert observed(live, "replication_lag_p99{link=us->eu}") is None
    limit = {"campaign": "demo", "budget": label}
    assert live.registry.get_sample_value("hothot_budget_limit", limit) == 0.0


def test_the_gauge_shows_what_abort_on_fail_judges() -> None:
    """Refusals and latencies: the provisional figure and the abort decision are read from
    the same counts (verdict.live.LiveFigures)."""
    live, figures, feed = run_metrics(
        budget("failed_write_rate", 0.0, region="us", abort_on_fail=True),
        budget("latency_max", 0.5, op="put", abort_on_fail=True),
        budget("latency_p99", 1.0),
    )
    rec = RecordFactory()
    feed(rec.write("us", "a", pred=None, duration=0.2))
    feed(rec.write("eu", "b", pred=None, duration=0.1))
    assert observed(live, "failed_write_rate{region=us}") == 0.0
    assert observed(live, "latency_max{op=put}") == 0.2
    assert observed(live, "latency_p99") == 0.2
    assert figures.broken() is None
    feed(rec.write("us", "c", pred=None, outcome="fail"))
    assert observed(live, "failed_write_rate{region=us}") == 1 / 2
    assert "failed_write_rate{region=us} <= 0 can no longer hold" in str(figures.broken())
    feed(rec.write("eu", "d", pred=None, duration=0.75))
    assert observed(live, "latency_max{op=put}") == 0.75


@given(st.lists(st.floats(min_value=0.0, max_value=600.0), min_size=1, max_size=300))
def test_lag_percentiles_are_never_below_the_exact_figure_and_at_most_one_percent_above(
    lags: list[float],
) -> None:
    q = LogQuantiles()
    for lag in lags:
        q.add(lag)
    ranked = sorted(lags)
    for p in (0.5, 0.95, 0.99):
        exact = nearest_rank(ranked, p)
        assert exact <= q.quantile(p) <= max(exact * 1.01, 1e-6)
    assert q.max == ranked[-1]


def test_the_heartbeat_age_rises_one_second_per_second_while_no_heartbeat_arrives() -> None:
    live = LiveMetrics("demo")
    link = {"campaign": "demo", "source": "us", "target": "eu"}

    def age() -> float | None:
        return live.registry.get_sample_value("hothot_replication_heartbeat_age_seconds", link)

    assert age() is None  # no heartbeat seen on the link yet
    live.observe(probe("us", "eu", 0.3))
    live.observe(probe("us", "eu", 0.9, kind="sample"))  # sampled writes are not heartbeats
    first = age()
    assert first is not None and 0.3 <= first < 0.5
    time.sleep(0.6)
    later = age()
    assert later is not None and math.isclose(later - first, 0.6, abs_tol=0.1)
    # the held heartbeats arrive after a heal: the newest one sets the age, not the oldest
    live.observe(probe("us", "eu", 2.0))
    live.observe(probe("us", "eu", 0.2))
    healed = age()
    assert healed is not None and 0.2 <= healed < 0.4
    live.load_ended()
    assert age() is None  # nothing measures the link any more: the series goes


def test_probe_and_emulator_lag_histograms_fit_multi_second_lags_alike() -> None:
    assert LAG_BUCKETS == EMULATOR_LAG_BUCKETS
    bounds = [b for b in LAG_BUCKETS if 0.3 <= b <= 60]
    # histogram_quantile interpolates inside a bucket: neighbours at most a third apart
    assert all(hi / lo <= 4 / 3 + 1e-9 for lo, hi in zip(bounds, bounds[1:], strict=False))
    assert LAG_BUCKETS[-1] >= 300


def test_live_figures_count_records_only_when_something_reads_them() -> None:
    """No metrics endpoint and no abort_on_fail: nobody reads the live figures, so the hub
    must not hand them (or a master's decoder) a single record."""
    from types import SimpleNamespace

    from hothot.abort import live_budgets
    from loadgen.hub import Batch, RecordHub
    from loadgen.spec import WorkloadSpec
    from loadgen.workloads import build_workloads

    engine = SimpleNamespace(
        load_figures=lambda: {"regions": {}},
        workloads=build_workloads([WorkloadSpec(kind="profile")], ["r-a", "r-b"]),
    )
    plan = SimpleNamespace(rate_profile=lambda: None, writers=SimpleNamespace(open=False))
    line = b'{"op":"put","region":"r-a","workload":"profile","outcome":"ok","key":"k"}\n'
    counted = {}
    for served, aborting in ((False, False), (True, False), (False, True)):
        hub = RecordHub()
        budgets = [budget("failed_write_rate", 0.5, abort_on_fail=aborting)]
        live = live_budgets(budgets, plan, engine, hub, served=served)  # type: ignore[arg-type]
        hub.sink({"op": "put", "region": "r-b", "workload": "profile", "outcome": "fail"})
        hub.batch.fire(Batch("w1", line * 3, 3, {}))
        counted[served, aborting] = sum(live.ops.values())
    assert counted == {(False, False): 0, (True, False): 4, (False, True): 4}


def test_every_record_listener_shares_one_decoding_of_a_workers_batch() -> None:
    from loadgen.hub import Batch, RecordHub

    hub = RecordHub()
    first: list[dict] = []
    second: list[dict] = []
    hub.every_record(first.append)
    hub.every_record(second.append)
    own = {"op": "get", "key": "k0"}
    hub.sink(own)
    hub.batch.fire(Batch("w1", b'{"op":"put","key":"k1"}\n{"op":"put","key":"k2"}\n', 2, {}))
    assert [r["key"] for r in first] == ["k0", "k1", "k2"] == [r["key"] for r in second]
    assert all(a is b for a, b in zip(first, second, strict=True))  # decoded once, not twice
