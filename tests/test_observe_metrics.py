"""LiveMetrics and the provisional conflict / lost-update tracker, on hand-built histories."""

from __future__ import annotations

import gc
import subprocess
import tracemalloc
import urllib.request
from collections.abc import Callable

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.live import ProvisionalAnomalies
from loadgen.metrics import LiveMetrics
from tests.observe_fixtures import PROMTOOL, RecordFactory, sample


def test_operations_durations_and_lag_are_counted_per_label() -> None:
    live = LiveMetrics("demo")
    rec = RecordFactory()
    live.observe(rec.write("us", "k1", pred=None, duration=0.004))
    live.observe(rec.write("us", "k2", pred=None, outcome="fail"))
    live.observe(rec.get("eu", "k1", vid="w:1"))
    live.observe({"op": "probe", "region": "us", "target": "eu", "lag": 0.7, "outcome": "ok"})
    r = live.registry
    ok = {"campaign": "demo", "region": "us", "workload": "profile", "op": "put", "outcome": "ok"}
    assert sample(r, "hothot_operations_total", **ok) == 1
    assert sample(r, "hothot_operations_total", **{**ok, "outcome": "fail"}) == 1
    timer = {"campaign": "demo", "region": "us", "workload": "profile", "op": "put"}
    assert sample(r, "hothot_operation_duration_seconds_count", **timer) == 1
    assert sample(r, "hothot_operation_duration_seconds_bucket", **timer, le="0.005") == 1
    assert sample(r, "hothot_operation_duration_seconds_bucket", **timer, le="0.0025") == 0
    link = {"campaign": "demo", "source": "us", "target": "eu"}
    assert sample(r, "hothot_replication_lag_seconds_bucket", **link, le="0.75") == 1
    assert sample(r, "hothot_replication_lag_seconds_bucket", **link, le="0.5") == 0


def note(out: list[str]) -> Callable[[str, str], None]:
    """A ProvisionalAnomalies callback that keeps the workload named."""
    return lambda workload, _region: out.append(workload)


def ignore(_workload: str, _region: str) -> None:
    pass


def test_faults_are_gauges() -> None:
    live = LiveMetrics("demo")
    live.fault("partition", "us<->eu", True)
    r = live.registry
    assert (
        sample(r, "hothot_fault_active", campaign="demo", fault="partition", target="us<->eu") == 1
    )
    live.fault("partition", "us<->eu", False)
    assert (
        sample(r, "hothot_fault_active", campaign="demo", fault="partition", target="us<->eu") == 0
    )


def test_sibling_writes_are_a_conflict_and_the_discarded_one_is_lost_once_superseded() -> None:
    live = LiveMetrics("demo")
    rec = RecordFactory()
    base = rec.write("us", "k", pred=None)
    live.observe(base)
    winner = rec.write("eu", "k", pred=base["id"], t=10.0)
    loser = rec.write("us", "k", pred=base["id"], t=12.0)  # invoked after the winner completed
    live.observe(winner)
    live.observe(loser)
    r = live.registry
    assert sample(r, "hothot_conflicts_total", campaign="demo", workload="profile") == 1
    assert sample(r, "hothot_lost_updates_total", campaign="demo", workload="profile") == 0
    # us now writes on top of eu's version: the loser was replaced by a non-descendant there,
    # the only region where it was ever seen
    live.observe(rec.write("us", "k", pred=winner["id"], t=20.0))
    assert sample(r, "hothot_lost_updates_total", campaign="demo", workload="profile") == 1
    assert sample(r, "hothot_skew_inverted_total", campaign="demo", workload="profile") == 1
    # and it is counted once, however many records follow
    live.observe(rec.write("eu", "k", pred=winner["id"], t=30.0))
    assert sample(r, "hothot_lost_updates_total", campaign="demo", workload="profile") == 1


def test_a_write_still_held_somewhere_is_not_lost() -> None:
    found: list[str] = []
    tracker = ProvisionalAnomalies(note(found), lambda w, r: found.append("lost"), note(found))
    rec = RecordFactory()
    a = rec.write("us", "k", pred=None, t=1.0)
    b = rec.write("eu", "k", pred=None, t=1.0)
    tracker.observe(a)
    tracker.observe(b)
    assert found == ["profile"]  # the conflict
    tracker.observe(rec.get("ap", "k", vid=a["id"], t=3.0))  # ap saw a
    tracker.observe(rec.write("us", "k", pred=b["id"], t=4.0))  # us moved on from b
    assert "lost" not in found  # ap may still hold a
    tracker.observe(rec.write("ap", "k", pred=b["id"], t=5.0))
    assert found.count("lost") == 1


def test_a_discarded_branch_loses_what_was_built_on_it_too() -> None:
    lost: list[str] = []
    tracker = ProvisionalAnomalies(ignore, note(lost), ignore)
    rec = RecordFactory()
    base = rec.write("us", "k", pred=None, t=0.0)
    tracker.observe(base)
    a = rec.write("us", "k", pred=base["id"], t=1.0)
    b = rec.write("eu", "k", pred=base["id"], t=1.0)
    tracker.observe(a)
    tracker.observe(b)
    tracker.observe(rec.write("us", "k", pred=a["id"], t=2.0))  # built on a
    tracker.observe(rec.write("us", "k", pred=b["id"], t=3.0))  # b's image won in us
    assert lost == ["profile", "profile"]


def test_a_branch_still_held_in_a_region_that_built_on_it_is_not_lost() -> None:
    lost: list[str] = []
    tracker = ProvisionalAnomalies(ignore, note(lost), ignore)
    rec = RecordFactory()
    a = rec.write("us", "k", pred=None, t=1.0)
    b = rec.write("eu", "k", pred=None, t=1.0)
    tracker.observe(a)
    tracker.observe(b)
    d = rec.write("ap", "k", pred=a["id"], t=2.0)  # ap got a and wrote on top of it
    tracker.observe(d)
    tracker.observe(rec.write("us", "k", pred=b["id"], t=3.0))
    assert lost == []  # ap still holds d, built on a
    tracker.observe(rec.write("ap", "k", pred=b["id"], t=4.0))
    assert lost == ["profile", "profile"]  # a and d


def test_an_overwrite_that_saw_the_old_version_is_not_a_loss() -> None:
    found: list[str] = []
    tracker = ProvisionalAnomalies(note(found), note(found), note(found))
    rec = RecordFactory()
    vid = None
    for i in range(50):
        region = ("us", "eu", "ap")[i % 3]
        w = rec.write(region, "k", pred=vid, t=float(i))
        tracker.observe(w)
        vid = w["id"]
    assert found == []


def test_a_write_after_a_delete_follows_the_tombstone_and_does_not_lose_it() -> None:
    found: list[str] = []
    tracker = ProvisionalAnomalies(note(found), note(found), note(found))
    rec = RecordFactory()
    a = rec.write("us", "k", pred=None, t=1.0)
    tracker.observe(a)
    tracker.observe(rec.write("us", "k", pred=a["id"], t=2.0, op="delete"))
    tracker.observe(rec.write("us", "k", pred=None, t=3.0))
    assert found == []


def test_memory_is_bounded_in_keys_and_versions() -> None:
    tracker = ProvisionalAnomalies(ignore, ignore, ignore, max_keys=100, max_versions=8)
    rec = RecordFactory()
    for i in range(5000):
        tracker.observe(rec.write("us", f"k{i}", pred=None))
    assert len(tracker) == 100
    vid = None
    for i in range(500):
        w = rec.write("us", "hot", pred=vid, t=float(i))
        tracker.observe(w)
        vid = w["id"]
    assert max(len(g.versions) for g in tracker._keys.values()) <= 8


def test_versions_in_all_keys_are_bounded_and_the_least_recently_written_key_goes() -> None:
    """A soak touching ever more keys: the versions kept stay under `max_total` (what memory
    follows), and a key written all along is never the one forgotten."""
    tracker = ProvisionalAnomalies(ignore, ignore, ignore, max_versions=8, max_total=64)
    rec = RecordFactory()
    hot = None
    for i in range(2000):
        cold = rec.write("us", f"k{i % 300}", pred=None, t=float(i))
        tracker.observe(cold)
        w = rec.write("eu", "hot", pred=hot, t=float(i))
        tracker.observe(w)
        hot = w["id"]
        kept = sum(len(g.versions) for g in tracker._keys.values())
        assert kept == tracker._total <= 64
    assert len(tracker._keys["hot"].versions) == 8
    assert len(tracker) < 300


def test_bad_bounds_are_refused_with_the_values() -> None:
    with pytest.raises(
        ValueError, match="max_versions >= 2 and max_total >= max_versions, got 100, 1, "
    ):
        ProvisionalAnomalies(ignore, ignore, ignore, max_keys=100, max_versions=1)
    with pytest.raises(ValueError, match="got 100, 8, 4"):
        ProvisionalAnomalies(ignore, ignore, ignore, max_keys=100, max_versions=8, max_total=4)


@given(st.lists(st.sampled_from(["us", "eu", "ap"]), min_size=1, max_size=40))
def test_a_serial_history_never_reports_anything(regions: list[str]) -> None:
    """Writes that each saw the previous one (no concurrency) hold no conflict and no loss."""
    found: list[str] = []
    tracker = ProvisionalAnomalies(note(found), note(found), note(found))
    rec = RecordFactory()
    vid = None
    for i, region in enumerate(regions):
        w = rec.write(region, "k", pred=vid, t=float(i))
        tracker.observe(w)
        tracker.observe(rec.get(region, "k", vid=w["id"], t=i + 0.5))
        vid = w["id"]
    assert found == []


def test_served_exposition_passes_promtool_check_metrics() -> None:
    if PROMTOOL is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    live = LiveMetrics("demo")
    rec = RecordFactory()
    live.observe(rec.write("us", "k", pred=None))
    live.observe({"op": "probe", "region": "us", "target": "eu", "lag": 0.3, "outcome": "ok"})
    live.fault("clock_skew", "eu", True)
    live.budgets([("conflict_rate", 0.0, 0.05)])
    port = live.serve(0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read()
    finally:
        live.close()
    assert b"hothot_operations_total" in text
    check = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_version_costs_the_tracker_under_400_bytes() -> None:
    """What a soak's runner holds for its 262,144 versions: records come decoded from JSON (a
    new string per field), so a version kept its own region and workload strings and a list
    per parent (555 B a version here, 148 MiB in a soak; now ~360 B with the vid strings)."""
    tracker = ProvisionalAnomalies(ignore, ignore, ignore, max_versions=64, max_total=20_000)
    rec = RecordFactory()
    heads: dict[str, str | None] = {}
    lines = []
    for i in range(40_000):
        key = f"profile#{i % 1_000}"
        w = rec.write(("us-east-1", "us-west-2", "eu-west-1")[i % 3], key, pred=heads.get(key))
        heads[key] = w["id"]
        lines.append(orjson.dumps(w))
    gc.collect()
    tracemalloc.start()
    try:
        for line in lines:
            tracker.observe(orjson.loads(line))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert tracker._total > 19_000  # full: a key evicted whole leaves a little room
    assert held / tracker._total < 400, f"{held / tracker._total:.0f} B a version"
