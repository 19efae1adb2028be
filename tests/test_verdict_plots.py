"""report.html's plots: round ticks, gridlines, labelled axes, every series, no dive at the end."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze
from verdict.plots import (
    _per_second,
    lag_svg,
    latency_svg,
    load_timeline,
    nice_ticks,
    timeline_svg,
)


@given(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False))
def test_ticks_are_round_and_cover_the_data(top: float) -> None:
    ticks = nice_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top and 4 <= len(ticks) <= 11
    step = ticks[1]
    mantissa = step / 10 ** __import__("math").floor(__import__("math").log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5, 10)


def test_the_last_partial_bucket_is_a_rate_over_what_it_covers_not_a_dive() -> None:
    # 10 ops/s throughout; the history ends 0.5 s into a 1 s bucket
    assert _per_second([10, 10, 5], 1.0, 2.5) == [10, 10, 10]
    assert _per_second([10, 10, 1], 1.0, 2.1) == [10, 10]  # a sliver: left out


def test_the_plots_end_with_the_load_not_with_its_stragglers(history: HistoryBuilder) -> None:
    """A 4 s load at 8 ops/s, then two calls that were in flight at its stop completing
    0.6 s later: the plots stop at 4 s instead of diving to 2/0.6 ops/s at the end."""
    h = history
    v = None
    for i in range(32):
        v = h.write("us", "profile#1", v, i * 0.125)
    for t in (4.0, 4.1):
        v = h.write("us", "profile#1", v, t, dur=0.5)
    h.final("profile#1", {"us": v})
    h.campaign = {"name": "t", "duration": "4s", "target": {"regions": ["us"]}}
    data = analyze(h.save(), write=False).data
    assert len(data["timeline"]["ops"]) == 5  # the verdict keeps every bucket
    cut = load_timeline(data)
    assert cut["ops"] == [8, 8, 8, 8] and cut["span_s"] == 4.0
    assert _per_second(cut["ops"], 1.0, cut["span_s"]) == [8.0] * 4
    assert len(cut["write_latency_p99"]) == 4
    data["load"] = {"elapsed_s": 3.0}  # load.json's measured length comes first (an abort)
    assert load_timeline(data)["ops"] == [8, 8, 8]
    data["load"] = {}
    data["campaign"]["duration"] = "10s"  # a load that ran its whole time: nothing to cut
    assert load_timeline(data) is data["timeline"]


def test_the_timeline_plots_failed_and_unknown_writes_with_labelled_axes(
    history: HistoryBuilder,
) -> None:
    h = history
    v = None
    for i in range(40):
        v = h.write("us", "profile#1", v, i * 0.25)
    h.write("us", "profile#2", None, 3.0, outcome="fail")
    h.write("eu", "profile#3", None, 4.0, outcome="unknown")
    h.final("profile#1", {"us": v, "eu": v})
    data = analyze(h.save(), write=False).data
    timeline = data["timeline"]
    assert sum(timeline["failed"]) == 1 and sum(timeline["unknown"]) == 1
    svg = timeline_svg(timeline, data["faults"])
    for label in ("operations/s", "failed writes/s", "unknown writes/s", "lost updates/s",
                  "seconds since the first operation"):  # fmt: skip
        assert label in svg
    ticks = re.findall(r'text-anchor="end" fill="#4477aa">([^<]+)<', svg)
    assert ticks[0] == "0" and len(ticks) >= 4
    step = float(ticks[1])
    assert all(float(t) == i * step for i, t in enumerate(ticks)) and step in (1, 2, 2.5, 5)
    assert svg.count('stroke="#e4e4e4"') == len(ticks)  # a gridline per tick


def test_lag_ticks_are_round_durations() -> None:
    svg = lag_svg({"a->b": {"p50": 0.12, "p95": 0.4, "p99": 2.826, "max": 5.652, "count": 9}})
    labels = re.findall(r'text-anchor="middle">([^<]+)</text>', svg)
    assert labels[:4] == ["0s", "2s", "4s", "6s"]


def test_write_latency_over_time_with_gaps_and_duration_ticks(history: HistoryBuilder) -> None:
    h = history
    v = None
    for i in range(30):  # 10 ms writes, then a 2-second gap, then 400 ms writes
        t = i * 0.1 if i < 15 else 3.5 + (i - 15) * 0.1
        v = h.write("us", "profile#1", v, t, dur=0.01 if i < 15 else 0.4)
    h.final("profile#1", {"us": v})
    data = analyze(h.save(), write=False).data
    timeline = data["timeline"]
    assert timeline["write_latency_p99"][0] == 0.01 and None in timeline["write_latency_p99"]
    assert max(x for x in timeline["write_latency_p99"] if x is not None) == 0.4
    svg = latency_svg(timeline, data["faults"])
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert labels == ["0s", "100ms", "200ms", "300ms", "400ms"]
    assert svg.count("<polyline") == 4  # p50 and p99, each broken by the gap
