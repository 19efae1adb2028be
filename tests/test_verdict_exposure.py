"""Lost updates are attributed to every fault window their exposure overlaps: from invocation
until overwritten, not just the instant they were invoked."""

from __future__ import annotations

from typing import Any

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze


def lost_by_window(data: dict[str, Any]) -> dict[str, int]:
    return {w["id"]: w["anomalies"].get("lost_updates", 0) for w in data["faults"]}


def test_a_write_lost_after_a_partition_is_attributed_to_it(history: HistoryBuilder) -> None:
    """us writes just before us<->eu is cut; eu's concurrent write is held by the cut and,
    arriving after the heal, replaces it: the partition made that loss, though the write was
    invoked before it began."""
    h = history
    h.fault("cut", "partition", "us<->eu", 10.0, 20.0)
    for t in (0.0, 5.0, 9.0, 15.0, 19.0, 25.0):  # heartbeats eu->us: held while cut
        h.probe("eu", "us", t, 20.3 - t if 10.0 <= t < 20.0 else 0.3)
    for t in (0.0, 25.0):
        h.probe("us", "eu", t, 0.3)
    v0 = h.write("us", "profile#1", None, 1.0)
    lost = h.write("us", "profile#1", v0, 9.8)  # before the cut
    win = h.write("eu", "profile#1", v0, 9.9)  # its image reaches us after the heal
    h.final("profile#1", {"us": win, "eu": win})
    # a loss settled long before the cut: outside
    w0 = h.write("us", "profile#2", None, 1.0)
    h.write("us", "profile#2", w0, 2.0)
    win2 = h.write("eu", "profile#2", w0, 2.0)
    later = h.write("us", "profile#2", win2, 3.0)  # us holds eu's branch by 3 s
    h.final("profile#2", {"us": later, "eu": later})
    data = analyze(h.save(), write=False).data
    assert data["totals"]["lost_updates"] == 2
    assert lost_by_window(data) == {"cut": 1, "outside": 1}
    example = next(e for e in data["examples"]["lost_update"] if e["key"] == "profile#1")
    assert example["writes"][0]["vid"] == lost
    assert example["faults"] == ["cut"]
    # exposed until the sibling's first probe on eu->us after it arrived: 9 s + 11.3 s
    assert example["exposed_until"] == 20.3


def test_the_region_moving_on_ends_the_exposure_before_any_later_window(
    history: HistoryBuilder,
) -> None:
    """No probes: the sibling is assumed to arrive within 1 s, and a later write in the lost
    write's region on the winning branch proves it did; a window after that is not blamed."""
    h = history
    h.fault("late", "partition", "us<->eu", 30.0, 40.0)
    v0 = h.write("us", "profile#1", None, 1.0)
    h.write("us", "profile#1", v0, 2.0)
    win = h.write("eu", "profile#1", v0, 2.0)
    h.final("profile#1", {"us": win, "eu": win})
    data = analyze(h.save(), write=False).data
    assert lost_by_window(data) == {"late": 0, "outside": 1}
    (example,) = data["examples"]["lost_update"]
    assert 2.0 < example["exposed_until"] <= 3.1
