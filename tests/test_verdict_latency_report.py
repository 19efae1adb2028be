"""Latency per op and region: nearest-rank percentiles of what the writers saw, in
verdict.json `latency` and report.html."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.verdict_fixtures import HistoryBuilder
from verdict.analyze import analyze
from verdict.latency import OP_NAMES, Latencies
from verdict.latency_report import render_latency
from verdict.stats import summary

REGIONS = ("us", "eu")
OPS = (*OP_NAMES, "scan")  # an op outside OP_NAMES is left out


@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 1), st.floats(0, 30)), max_size=60))
def test_each_op_and_region_gets_the_verdicts_percentiles(rows: list) -> None:
    latencies = Latencies()
    for op, region, seconds in rows:
        latencies.add(op, region, 0, 100.0, 100.0 + seconds)
    table = latencies.by_op_region(REGIONS)
    for op in OPS:
        for g, where in enumerate(REGIONS):
            values = [100.0 + s - 100.0 for o, r, s in rows if o == op and r == g]
            expected = summary(values) if op in OP_NAMES else None
            assert table.get(op, {}).get(where) == expected


def test_the_verdict_and_the_report_carry_latency_per_op_and_region(
    history: HistoryBuilder,
) -> None:
    h = history
    v = None
    for i in range(20):
        v = h.write("us-east-1", "profile#1", v, float(i), dur=0.001 * (i + 1))
    h.read("eu-west-1", "profile#1", v, 30.0)
    h.final("profile#1", {"us-east-1": v, "eu-west-1": v})
    data = analyze(h.save(), write=True).data
    put = data["latency"]["put"]["us-east-1"]
    assert put == {"count": 20, "p50": 0.01, "p95": 0.019, "p99": 0.02, "max": 0.02}
    assert data["latency"]["get"]["eu-west-1"]["count"] == 1  # final reads are not counted
    html = (h.root / "report.html").read_text()
    assert "Client latency per operation and region" in html
    assert "<td>put</td><td>us-east-1</td><td>20</td><td>10ms</td>" in html


def test_the_table_shows_durations_alike() -> None:
    page = render_latency({"put": {"us": {"count": 1200, "p50": 0.0012, "p95": 0.2,
                                          "p99": 1.5, "max": 12.34}}})  # fmt: skip
    assert "<td>put</td><td>us</td><td>1,200</td><td>1.2ms</td><td>200ms</td><td>1.5s</td>" in page
    assert "<td>12.3s</td>" in page
